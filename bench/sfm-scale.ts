/**
 * SfM at scale → bench/sfm-scale.json. SYNTHETIC: the images are a procedural street walk
 * (src/synthetic/sfm-capture.ts) given as FEATURES — exact projections + 0.5 px noise, 25 % missed
 * detections, 15 % distractor keypoints, planted 486-bit descriptors with 6 % of the bits flipped —
 * not rendered photos, so feature extraction is not measured. Everything after it is the real
 * pipeline: sequential pair selection → matching (worker threads) → verification → incremental
 * mapping; poses are compared with the truth (src/eval/poses.ts). Each size runs in its own process
 * so its peak RSS is its own. Also times one LM iteration's reduced-camera-system solve, dense vs
 * envelope Cholesky, on a corridor bundle-adjustment problem (where the automatic choice switches).
 *
 *   npx tsx bench/sfm-scale.ts [100] [200] [500] [--solver]     (default: 100 200 500 --solver)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { streetFeatureCapture } from '../src/synthetic/sfm-capture.js';
import { selectPairs } from '../src/sfm/pairs.js';
import { matchPairs, defaultMatchOptions } from '../src/sfm/matching.js';
import { verifyPairs } from '../src/sfm/verify.js';
import { IncrementalMapper, defaultMapperOptions } from '../src/sfm/mapper.js';
import { SfmDatabase } from '../src/sfm/database.js';
import { evaluatePoses } from '../src/eval/poses.js';
import { bundleAdjust, type BAProblem } from '../src/sfm/bundle.js';
import { expSO3, matMul3, matToQuat } from '../src/geometry/rotation.js';
import { Rng } from '../src/util/rng.js';
import { writeJsonAtomic } from '../src/util/fsx.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'sfm-scale.json');
const work = path.join(os.tmpdir(), 'r2s-bench-sfm-scale');

interface SizeResult {
  images: number; registered: number; points: number; pairs: number; verifiedPairs: number;
  rotErrDeg: { median: number; max: number }; centerErrRel: { mean: number; max: number };
  seconds: { generate: number; matching: number; verification: number; mapping: number };
  /** CPU seconds of the process (all threads): less sensitive to the shared machine's load than wall time */
  cpuSeconds: { generate: number; matching: number; verification: number; mapping: number };
  peakRssMiB: number; load: number[];
}

async function runSize(n: number): Promise<SizeResult> {
  const load0 = os.loadavg();
  let t = performance.now(), c = process.cpuUsage();
  const cpu: number[] = [];
  const lap = () => {
    const now = performance.now(), s = (now - t) / 1000, u = process.cpuUsage(c);
    t = now; c = process.cpuUsage();
    cpu.push(Math.round((u.user + u.system) / 1e4) / 100);
    return Math.round(s * 100) / 100;
  };
  const cap = streetFeatureCapture({ images: n, seed: 7 });
  const generate = lap();
  const dbFile = path.join(work, `db-${n}.sqlite`);
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
  const db = new SfmDatabase(dbFile);
  try {
    const { pairs } = selectPairs(n, 'sequential');
    const matches = await matchPairs(db, cap.feats, pairs, { ...defaultMatchOptions, silent: true });
    const matching = lap();
    const cams = cap.feats.map(() => cap.camera);
    const geoms = await verifyPairs(db, cap.feats, cams, cams.map(() => true), pairs, matches, { maxError: 2, minInliers: 15, homographyRatio: 0.8, seed: 1, silent: true });
    const verification = lap();
    const res = new IncrementalMapper(
      { feats: cap.feats, cameras: [cap.camera], imageCamera: cap.feats.map(() => 0), refine: [{ focal: false, principalPoint: false, distortion: false }], pairs, geoms, trustedFocal: true },
      { ...defaultMapperOptions, maxError: 4, seed: 1, silent: true },
    ).run();
    const mapping = lap();
    const ev = evaluatePoses(res.model, new Map(cap.feats.map((f, i) => [f.name, cap.views[i]!])));
    const r3 = (x: number) => Number(x.toPrecision(3));
    return {
      images: n, registered: res.stats.registered, points: res.stats.points, pairs: pairs.length, verifiedPairs: geoms.filter((g) => g.config !== 'degenerate').length,
      rotErrDeg: { median: r3(ev.rotErrDeg.median), max: r3(ev.rotErrDeg.max) }, centerErrRel: { mean: r3(ev.centerErrRel.mean), max: r3(ev.centerErrRel.max) },
      seconds: { generate, matching, verification, mapping },
      cpuSeconds: { generate: cpu[0]!, matching: cpu[1]!, verification: cpu[2]!, mapping: cpu[3]! },
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), load: [...load0, ...os.loadavg()].map((x) => Math.round(x * 100) / 100),
    };
  } finally { db.close(); }
}

/** Corridor BA problem (cameras along x, wall points): banded co-visibility like a walk. */
function corridor(nImg: number): BAProblem {
  const g = new Rng(5), f = 800;
  const R = Array.from({ length: nImg }, () => expSO3([0.02 * g.normal(), 0.02 * g.normal(), 0.02 * g.normal()]));
  const C = Array.from({ length: nImg }, (_, i) => [0.5 * i, 0.2 * Math.sin(i), 0]);
  const nPts = 40 * nImg, pts = new Float64Array(3 * nPts), obs: BAProblem['observations'] = [];
  for (let p = 0; p < nPts; p++) {
    pts.set([g.uniform(-3, 0.5 * nImg + 3), g.uniform(-2, 2), g.uniform(4, 7)], 3 * p);
    const seen: BAProblem['observations'] = [];
    for (let i = 0; i < nImg; i++) {
      const d = [0, 1, 2].map((k) => pts[3 * p + k]! - C[i]![k]!);
      const x = [0, 1, 2].map((r) => R[i]![3 * r]! * d[0]! + R[i]![3 * r + 1]! * d[1]! + R[i]![3 * r + 2]! * d[2]!);
      if (x[2]! > 0.5 && Math.abs(x[0]! / x[2]!) < 0.6 && Math.abs(x[1]! / x[2]!) < 0.45) seen.push({ image: i, point: p, x: f * (x[0]! / x[2]!) + 500 + 0.3 * g.normal(), y: f * (x[1]! / x[2]!) + 400 + 0.3 * g.normal() });
    }
    if (seen.length >= 2) obs.push(...seen);
  }
  return {
    cameras: [{ model: 'SIMPLE_RADIAL', params: Float64Array.from([810, 500, 400, 0]), refineFocal: true, refinePrincipalPoint: false, refineDistortion: true }],
    images: R.map((Ri, i) => {
      const Rp = i === 0 ? Ri : matMul3(expSO3([0.003 * g.normal(), 0.003 * g.normal(), 0.003 * g.normal()]), Ri);
      const t = [0, 1, 2].map((r) => -(Rp[3 * r]! * C[i]![0]! + Rp[3 * r + 1]! * C[i]![1]! + Rp[3 * r + 2]! * C[i]![2]!));
      return { camera: 0, q: Float64Array.from(matToQuat(Rp)), t: Float64Array.from(t), fixed: i === 0, fixTranslationScale: i === 1 };
    }),
    points: pts.map((v) => v + 0.02 * g.normal()),
    observations: obs,
  };
}

/** Seconds per LM iteration (mean of 3) for each solver, by corridor length. */
function solverTimes(): Array<Record<string, number>> {
  const rows: Array<Record<string, number>> = [];
  for (const n of [10, 20, 40, 80, 160, 320]) {
    const row: Record<string, number> = { images: n, columns: 6 * n - 5 };
    for (const solver of ['dense', 'envelope'] as const) {
      if (solver === 'dense' && n > 160) continue; // minutes per iteration: the point of the envelope
      const prob = corridor(n);
      row.observations = prob.observations.length;
      const t0 = performance.now();
      const rep = bundleAdjust(prob, { solver, loss: 'cauchy', maxIterations: 3, functionTolerance: 0 });
      row[`${solver}SecondsPerIteration`] = Math.round(((performance.now() - t0) / 1000 / Math.max(1, rep.iterations)) * 1000) / 1000;
    }
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  return rows;
}

/** Fitted exponent b of seconds ≈ a·nᵇ between the smallest and largest size. */
function exponent(rs: SizeResult[], key: keyof SizeResult['seconds'], what: 'seconds' | 'cpuSeconds'): number {
  const a = rs[0]!, b = rs[rs.length - 1]!;
  return Math.round((Math.log(b[what][key] / a[what][key]) / Math.log(b.images / a.images)) * 100) / 100;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') { console.log(`RESULT ${JSON.stringify(await runSize(Number(args[1])))}`); return; }
  mkdirSync(work, { recursive: true });
  const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
  const doSolver = args.includes('--solver') || args.length === 0;
  const prev = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
  const results: SizeResult[] = [];
  for (const n of sizes.length ? sizes : [100, 200, 500]) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', String(n)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`size ${n} failed: ${r.stderr.slice(-2000)}`);
    results.push(JSON.parse(line.slice(7)));
    console.log(line);
  }
  const all = [...((prev.sizes ?? []) as SizeResult[]).filter((p) => !results.some((r) => r.images === p.images)), ...results].sort((a, b) => a.images - b.images);
  await writeJsonAtomic(out, {
    what: 'SYNTHETIC street walk given as features (no rendering, no feature extraction): real sequential pair selection, matching, verification and incremental mapping; poses vs the exact truth',
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, shared (load averages 1/5/15 min before and after each size)`,
    date: new Date().toISOString().slice(0, 10),
    sizes: all,
    // b in time ≈ a·nᵇ between the smallest and the largest size, wall and CPU time
    growthExponent: all.length >= 2 ? Object.fromEntries((['matching', 'verification', 'mapping'] as const).map((k) => [k, { wall: exponent(all, k, 'seconds'), cpu: exponent(all, k, 'cpuSeconds') }])) : undefined,
    solverSecondsPerIteration: doSolver ? solverTimes() : prev.solverSecondsPerIteration,
    // measured once with the code before issue 16 (kept across runs; not reproducible from this script)
    before: prev.before,
  });
}

await main();
