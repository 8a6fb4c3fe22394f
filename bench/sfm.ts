/**
 * SfM benchmark → bench/sfm.json: wall time, peak RSS and pose accuracy of `r2s sfm` on the shared
 * datasets (fresh workspace, nothing cached), and COLMAP 3.8's figures beside them in the same run
 * when `colmap` is on PATH (same images; known intrinsics fixed as r2s gets them, else COLMAP's own
 * self-calibration; exhaustive or sequential matching; CPU only, 2 threads). All r2s cases run
 * first, then COLMAP's; each records the 1-minute load average before and after.
 *
 *   npx tsx bench/sfm.ts [fountain] [fountain-selfcal] [herzjesu] [kitti] [temple] [mold] [mold-shuffled] [fern] [forward-synthetic] [--no-colmap]
 * fern has no ground-truth poses: its self-calibrated intrinsics are reported against COLMAP's
 * (≈ 586 px, issue 15); forward-synthetic is the synthetic forward-facing capture of
 * test/sfm-trust.test.ts (exact intrinsics known), run in-process.
 * (--no-colmap keeps COLMAP figures measured earlier for the case.)
 * Default: fountain fountain-selfcal kitti.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mulberry32 } from '../src/util/rng.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspaceFromImages } from '../src/sfm/dataset-workspace.js';
import { evaluatePoses, loadGroundTruthW2C } from '../src/eval/poses.js';
import { readColmapModel } from '../src/io/colmap.js';
import { parseIntrinsics } from '../src/sfm/intrinsics.js';
import { cameraCentre } from '../src/sfm/frame.js';
import { writeJsonAtomic } from '../src/util/fsx.js';
import { matMul3, matToQuat, quatToMat, rotationDistanceDeg, transpose3 } from '../src/geometry/rotation.js';
import type { SparseModel } from '../src/core/sparse-model.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const data = path.resolve(repo, '../shared/datasets');
const work = path.join(os.tmpdir(), 'r2s-bench-sfm');

interface Case {
  id: string;
  dataset: string;
  intrinsics?: string; // file inside the dataset, or undefined = self-calibrated
  matcher: 'exhaustive' | 'sequential' | 'retrieval' | 'auto';
  /** photos linked in under names s000.jpg… in an order shuffled with this seed (a download, several phones) */
  shuffleSeed?: number;
  cameraHeight?: number;
  /** run COLMAP 3.8 on the same images beside r2s (its matcher: sequential unless the case is exhaustive) */
  colmap: boolean;
  /** why COLMAP is not run for this case (written into the result instead of its figures) */
  colmapSkipped?: string;
  /** extra COLMAP mapper flags the capture needs (e.g. KITTI's forward motion and its initial pair) */
  colmapMapperArgs?: string[];
  /** every `every`-th image only (a thinner capture than the one shared: 2 = every 2nd image) */
  every?: number;
  /** the starting focal (a guess) scaled by this factor: the self-calibration from a different start */
  focalFactor?: number;
  /** no ground-truth poses: report the self-calibrated intrinsics against this focal (px) instead */
  referenceFocal?: { px: number; source: string };
}

/**
 * KITTI drives straight ahead: COLMAP's initial-pair rule rejects pairs whose motion is mostly along
 * the viewing direction (init_max_forward_motion 0.95), so among 51 frames 1.2 m apart on a 60 m
 * drive it finds "no good initial image pair" and stops. Allowing forward motion is all it needs
 * (measured: 51/51 registered, the same with init_min_tri_angle 16 or 4).
 */
const KITTI_COLMAP_MAPPER = ['--Mapper.init_max_forward_motion', '1.0'];

const cases: Record<string, Case> = {
  fountain: { id: 'fountain-P11', dataset: 'strecha_fountain-P11', intrinsics: 'gt/K.txt', matcher: 'exhaustive', colmap: true },
  'fountain-selfcal': { id: 'fountain-P11 self-calibrated', dataset: 'strecha_fountain-P11', matcher: 'exhaustive', colmap: false },
  herzjesu: { id: 'Herz-Jesu-P8', dataset: 'strecha_Herz-Jesus-P8', intrinsics: 'gt/K.txt', matcher: 'exhaustive', colmap: false },
  kitti: { id: 'kitti_odom06 (51 frames)', dataset: 'kitti_odom06_f0-50', intrinsics: 'gt/calib.txt', matcher: 'sequential', cameraHeight: 1.65, colmap: true, colmapMapperArgs: KITTI_COLMAP_MAPPER },
  fern: { id: 'llff_fern self-calibrated', dataset: 'llff_fern', matcher: 'exhaustive', colmap: false, referenceFocal: { px: 586, source: 'COLMAP (issue 15)' } },
  // reference cameras: COLMAP's, from the LLFF release (gt/cameras_w2c.json, focal 592.5 px): pose accuracy and focal against them (issue 24)
  flower: { id: 'llff_flower self-calibrated', dataset: 'llff_flower', matcher: 'exhaustive', colmap: false },
  'flower-half': { id: 'llff_flower self-calibrated, every 2nd image', dataset: 'llff_flower', matcher: 'exhaustive', colmap: false, every: 2 },
  'flower-f0.7': { id: 'llff_flower self-calibrated, starting focal 0.7x the guess', dataset: 'llff_flower', matcher: 'exhaustive', colmap: false, focalFactor: 0.7 },
  'flower-f1.3': { id: 'llff_flower self-calibrated, starting focal 1.3x the guess', dataset: 'llff_flower', matcher: 'exhaustive', colmap: false, focalFactor: 1.3 },
  'fern-half': { id: 'llff_fern self-calibrated, every 2nd image', dataset: 'llff_fern', matcher: 'exhaustive', colmap: false, every: 2, referenceFocal: { px: 586, source: 'COLMAP (issue 15)' } },
  'fern-f0.7': { id: 'llff_fern self-calibrated, starting focal 0.7x the guess', dataset: 'llff_fern', matcher: 'exhaustive', colmap: false, focalFactor: 0.7, referenceFocal: { px: 586, source: 'COLMAP (issue 15)' } },
  'fern-f1.3': { id: 'llff_fern self-calibrated, starting focal 1.3x the guess', dataset: 'llff_fern', matcher: 'exhaustive', colmap: false, focalFactor: 1.3, referenceFocal: { px: 586, source: 'COLMAP (issue 15)' } },
  horns: { id: 'llff_horns self-calibrated', dataset: 'llff_horns', matcher: 'auto', colmap: false, referenceFocal: { px: 836.7, source: 'COLMAP (LLFF release)' } },
  temple: { id: 'middlebury_templeRing', dataset: 'middlebury_templeRing', intrinsics: 'gt/templeR_par.txt', matcher: 'exhaustive', colmap: false },
  // reference cameras made by COLMAP from the full-resolution photos (gt/cameras_w2c.json, K scaled to 1024 px): self-calibrated here
  // default matcher: no capture times, so auto picks retrieval (issue 16)
  // COLMAP as issue 16 measured it: capture order, sequential matcher, self-calibrated SIMPLE_RADIAL
  mold: { id: 'nerd_moldGoldCape_1024 self-calibrated', dataset: 'nerd_moldGoldCape_1024', matcher: 'auto', colmap: true },
  'mold-shuffled': {
    id: 'nerd_moldGoldCape_1024 self-calibrated, shuffled names', dataset: 'nerd_moldGoldCape_1024', matcher: 'auto', shuffleSeed: 16, colmap: false,
    colmapSkipped: 'COLMAP has no matcher for this offline: its sequential matcher assumes capture order, its vocabulary-tree matcher needs a pretrained tree file that is not installed, and exhaustive matching of 7021 pairs takes about an hour on this machine (0.5 s a pair); compare with the mold case (same images, capture order)',
  },
};

/** Run a command under /usr/bin/time: wall seconds and peak RSS (MiB). */
function timed(cmd: string, args: string[], cwd: string, log: string): { ok: boolean; seconds: number; peakRssMiB: number } {
  const t0 = Date.now();
  const useTime = existsSync('/usr/bin/time');
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', 'R2S_TIME %e %M', cmd, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (Date.now() - t0) / 1000;
  writeFileSync(log, (r.stdout ?? '') + (r.stderr ?? ''));
  const m = /R2S_TIME ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  return { ok: r.status === 0, seconds: m ? Number(m[1]) : seconds, peakRssMiB: m ? Math.round(Number(m[2]) / 1024) : -1 };
}

/** Intrinsics file for the case: templeR_par.txt lines carry a per-image K, the first one is used. */
function intrinsicsFile(c: Case, dir: string): string | undefined {
  if (!c.intrinsics) return undefined;
  const src = path.join(data, c.dataset, c.intrinsics);
  if (!c.intrinsics.endsWith('_par.txt')) return src;
  const line = readFileSync(src, 'utf8').split('\n')[1]!.trim().split(/\s+/).slice(1, 10).join(' ');
  const out = path.join(dir, 'K.txt');
  writeFileSync(out, line + '\n');
  return out;
}

/** Self-calibrated intrinsics against a reference focal (no ground-truth poses). */
function intrinsicsCheck(model: SparseModel, ref: { px: number; source: string }) {
  const k = [...model.cameras.values()][0]!;
  const [f, cx, cy, k1] = k.params as [number, number, number, number];
  const r = Math.hypot(k.width / 2, k.height / 2) / f;
  return {
    registered: model.images.size, focalPx: f, referenceFocalPx: ref.px, referenceSource: ref.source, focalRelToReference: f / ref.px - 1,
    principalPointOffsetOfSize: [(cx - k.width / 2) / k.width, (cy - k.height / 2) / k.height], k1, k1CornerPx: k1 * f * r ** 3,
  };
}

function accuracy(model: SparseModel, c: Case) {
  if (c.referenceFocal) return intrinsicsCheck(model, c.referenceFocal);
  const gt = loadGroundTruthW2C(path.join(data, c.dataset, 'gt/cameras_w2c.json'));
  const ev = evaluatePoses(model, gt);
  const out: Record<string, unknown> = {
    registered: ev.registered, total: ev.total, rotErrDegMean: ev.rotErrDeg.mean, rotErrDegMax: ev.rotErrDeg.max,
    centreErrMean: ev.centerErr.mean, centreErrRelBboxMean: ev.centerErrRel.mean, alignedBy: ev.alignedBy, scaleEstToGt: ev.scale,
    focalRelErr: ev.focalRelErr?.mean, relRotErrDegMean: relativeRotationError(model, gt),
    cameras: [...model.cameras.values()].map((k) => ({ model: k.model, params: k.params })),
  };
  if (c.cameraHeight !== undefined) {
    // metric: path length of the GT centres, centre error relative to it, and the scale error
    const names = [...gt.keys()].sort();
    let len = 0;
    for (let k = 1; k < names.length; k++) {
      const a = gt.get(names[k - 1]!)!, b = gt.get(names[k]!)!;
      const ca = cameraCentre(quatFromR(a.R), a.t), cb = cameraCentre(quatFromR(b.R), b.t);
      len += Math.hypot(ca[0] - cb[0], ca[1] - cb[1], ca[2] - cb[2]);
    }
    out.pathLength = len;
    out.centreErrOfPath = ev.centerErr.mean / len;
    out.scaleErr = Math.abs(ev.scale - 1);
  }
  return out;
}

/**
 * Mean over all pairs of registered images of the angle between the estimated relative rotation
 * R_i R_jᵀ and the reference one: needs no alignment (a forward-facing capture's nearly coplanar
 * centres make the similarity fitted to them ill-posed).
 */
function relativeRotationError(model: SparseModel, gt: Map<string, { R: number[] }>): number {
  const est: Array<[number[], number[]]> = [];
  for (const im of model.images.values()) {
    const g = gt.get(im.name);
    if (g) est.push([quatToMat(im.qvec), g.R]);
  }
  let sum = 0, n = 0;
  for (let a = 0; a < est.length; a++) {
    for (let b = a + 1; b < est.length; b++) {
      const re = matMul3(est[a]![0], transpose3(est[b]![0])), rg = matMul3(est[a]![1], transpose3(est[b]![1]));
      sum += rotationDistanceDeg(re, rg);
      n++;
    }
  }
  return n ? sum / n : NaN;
}

function quatFromR(R: number[]): number[] {
  return matToQuat(R);
}

/** The dataset's photos linked into a folder beside `dir` under names s000.jpg… in a seeded random order. */
function shuffledImages(c: Case, dir: string, original: Map<string, string>): string {
  const src = path.join(data, c.dataset, 'images');
  const out = `${dir}-images`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const names = readdirSync(src).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
  const rng = mulberry32(c.shuffleSeed!);
  for (let k = names.length - 1; k > 0; k--) { const j = Math.floor(rng() * (k + 1)); [names[k], names[j]] = [names[j]!, names[k]!]; }
  names.forEach((n, k) => {
    const alias = `s${String(k).padStart(3, '0')}${path.extname(n)}`;
    symlinkSync(path.join(src, n), path.join(out, alias));
    original.set(alias, n);
  });
  return out;
}

async function runR2s(c: Case) {
  const dir = path.join(work, c.id.replace(/[^\w-]+/g, '_'), 'r2s');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const original = new Map<string, string>();
  const imagesDir = c.shuffleSeed === undefined ? path.join(data, c.dataset, 'images') : shuffledImages(c, dir, original);
  const all = readdirSync(imagesDir).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
  const names = c.every ? all.filter((_, k) => k % c.every! === 0) : all;
  let focalPx: number | undefined;
  if (c.focalFactor) {
    const { default: sharp } = await import('sharp');
    const meta = await sharp(path.join(imagesDir, names[0]!)).metadata();
    focalPx = 1.2 * Math.max(meta.width!, meta.height!) * c.focalFactor; // the size guess of workspaceFromImages, scaled
  }
  await workspaceFromImages(imagesDir, dir, { names, ...(focalPx ? { focalPx, focalIsGuess: true } : {}) });
  const args = ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), 'sfm', '-w', dir, '--matcher', c.matcher, '--json'];
  const K = intrinsicsFile(c, dir);
  if (K) args.push('--intrinsics', K);
  if (c.cameraHeight !== undefined) args.push('--camera-height', String(c.cameraHeight));
  const t = timed(process.execPath, args, repo, path.join(dir, 'sfm.log'));
  if (!t.ok) return { ok: false, log: path.join(dir, 'sfm.log'), seconds: t.seconds };
  const lines = readFileSync(path.join(dir, 'sfm.log'), 'utf8').trim().split('\n');
  const summary = JSON.parse(lines.filter((l) => l.startsWith('{"ok"')).pop() ?? '{}');
  const model = await readColmapModel(path.join(dir, 'sparse'));
  for (const im of model.images.values()) im.name = original.get(im.name) ?? im.name;
  return {
    ok: true, matcher: summary.matcher, seconds: t.seconds, peakRssMiB: t.peakRssMiB, stageSeconds: summary.seconds, points: summary.points, meanReprojError: summary.meanReprojError, frame: summary.frame,
    intrinsics: summary.intrinsics, homographicPairs: summary.homographicPairs, verifiedPairs: summary.verifiedPairs, warnings: summary.warnings, accuracy: accuracy(model, c),
  };
}

async function runColmap(c: Case) {
  const dir = path.join(work, c.id.replace(/[^\w-]+/g, '_'), 'colmap');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'sparse'), { recursive: true });
  const images = path.join(data, c.dataset, 'images');
  const kFile = intrinsicsFile(c, dir);
  const K = kFile ? parseIntrinsics(kFile) : null;
  const db = path.join(dir, 'database.db');
  // known intrinsics: fixed PINHOLE, as r2s gets them; otherwise COLMAP's own self-calibration
  // (one SIMPLE_RADIAL camera, focal and k1 refined, principal point fixed at the centre)
  const camera = K
    ? ['--ImageReader.camera_model', 'PINHOLE', '--ImageReader.camera_params', `${K.fx},${K.fy},${K.cx},${K.cy}`]
    : ['--ImageReader.camera_model', 'SIMPLE_RADIAL'];
  const fixIntrinsics = K ? ['--Mapper.ba_refine_focal_length', '0', '--Mapper.ba_refine_principal_point', '0', '--Mapper.ba_refine_extra_params', '0'] : [];
  const matcher = c.matcher === 'exhaustive' ? 'exhaustive_matcher' : 'sequential_matcher';
  const steps: Array<[string, string[]]> = [
    ['feature_extractor', ['--database_path', db, '--image_path', images, ...camera, '--ImageReader.single_camera', '1', '--SiftExtraction.use_gpu', '0', '--SiftExtraction.num_threads', '2']],
    [matcher, ['--database_path', db, '--SiftMatching.use_gpu', '0', '--SiftMatching.num_threads', '2']],
    ['mapper', ['--database_path', db, '--image_path', images, '--output_path', path.join(dir, 'sparse'), ...fixIntrinsics, '--Mapper.num_threads', '2', ...(c.colmapMapperArgs ?? [])]],
  ];
  const protocol = `COLMAP 3.8, CPU SIFT, ${matcher}, ${K ? 'PINHOLE intrinsics fixed' : 'one SIMPLE_RADIAL camera self-calibrated (COLMAP defaults)'}, 2 threads${c.colmapMapperArgs ? `, mapper ${c.colmapMapperArgs.join(' ')}` : ''}`;
  let seconds = 0, peak = 0;
  const stepSeconds: Record<string, number> = {};
  for (const [cmd, args] of steps) {
    const t = timed('colmap', [cmd, ...args], dir, path.join(dir, `${cmd}.log`));
    seconds += t.seconds;
    stepSeconds[cmd] = t.seconds;
    peak = Math.max(peak, t.peakRssMiB);
    if (!t.ok) {
      const tail = readFileSync(path.join(dir, `${cmd}.log`), 'utf8').split('\n').filter((l) => /error|fail/i.test(l)).slice(-2);
      return { ok: false, protocol, failedStep: cmd, error: tail.join(' | '), seconds, stepSeconds };
    }
  }
  // the mapper may split the images into several models: the largest one is COLMAP's answer
  const models = await Promise.all(readdirSync(path.join(dir, 'sparse')).map((m) => readColmapModel(path.join(dir, 'sparse', m))));
  const model = models.sort((a, b) => b.images.size - a.images.size)[0];
  if (!model) return { ok: false, protocol, failedStep: 'mapper', error: 'no model written', seconds, stepSeconds };
  return { ok: true, protocol, seconds, stepSeconds, peakRssMiB: peak, models: models.length, points: model.points3D.size, accuracy: accuracy(model, c) };
}

/** The synthetic forward-facing capture of test/sfm-trust.test.ts, two scenes: intrinsics vs the truth. */
async function forwardSynthetic() {
  const { makeCapture, reconstructSynthetic } = await import('../test/sfm-trust-scenes.js');
  const { evaluatePoses } = await import('../src/eval/poses.js');
  const out: Record<string, unknown>[] = [];
  for (const seed of [2, 5]) {
    const t0 = Date.now();
    const s = makeCapture({ views: 16, points: 2000, noisePx: 0.5, seed, baseline: 0.3, rotation: 0.01, near: 3.8, far: 4.2, depthJitter: 0 });
    const { res, cam, pairs, geoms } = await reconstructSynthetic(s);
    const gt = new Map<string, { R: number[]; t: number[] }>();
    s.feats.forEach((f, v) => gt.set(f.name, { R: s.R[v]!, t: s.t[v]! }));
    const [f, cx, cy, k1] = cam.params as [number, number, number, number];
    const fT = s.truth.params[0]!, r = Math.hypot(s.truth.width / 2, s.truth.height / 2) / f;
    out.push({
      seed, registered: res.stats.registered, total: s.feats.length, homographicPairs: geoms.filter((g) => g.config === 'planar' || g.config === 'panoramic').length, pairs: pairs.length,
      focalPx: f, truthFocalPx: fT, focalRelErr: f / fT - 1, principalPointOffsetOfSize: [(cx - s.truth.params[2]!) / s.truth.width, (cy - s.truth.params[3]!) / s.truth.height], k1, k1CornerPx: k1 * f * r ** 3,
      rotErrDegMean: res.stats.registered ? evaluatePoses(res.model, gt, { alignRotationsOnly: true }).rotErrDeg.mean : null, intrinsics: res.intrinsics, seconds: (Date.now() - t0) / 1000,
    });
  }
  return out;
}

const argv = process.argv.slice(2);
const noColmap = argv.includes('--no-colmap');
const wanted = argv.filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : ['fountain', 'fountain-selfcal', 'kitti'];
const hasColmap = !noColmap && spawnSync('colmap', ['help'], { encoding: 'utf8' }).status === 0;
// R2S_BENCH_SFM_OUT: write elsewhere (two runs side by side; merge their results into bench/sfm.json after)
const outFile = process.env.R2S_BENCH_SFM_OUT ?? path.join(here, 'sfm.json');
const prev = existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as { results?: Record<string, unknown> }) : {};
const results: Record<string, unknown> = { ...(prev.results ?? {}) };
// r2s on every case first, then COLMAP on the cases that compare with it: the r2s figures are
// measured back to back on the same machine state, and COLMAP's long runs come after them
const colmapTodo: Array<[string, Case]> = [];
for (const name of names) {
  if (name === 'forward-synthetic') {
    console.error('bench sfm: synthetic forward-facing capture (in-process)');
    results[name] = { r2s: await forwardSynthetic(), measuredAt: new Date().toISOString() };
    console.error(JSON.stringify(results[name]));
    continue;
  }
  const c = cases[name];
  if (!c) { console.error(`bench sfm: unknown case '${name}' (have: ${Object.keys(cases).join(', ')})`); process.exitCode = 1; continue; }
  if (!existsSync(path.join(data, c.dataset))) { console.error(`bench sfm: dataset ${c.dataset} missing, skipped`); continue; }
  console.error(`bench sfm: ${c.id} (r2s)`);
  const loadBefore = os.loadavg()[0];
  const r2s = { ...(await runR2s(c)), loadAverage1mBeforeAfter: [loadBefore, os.loadavg()[0]] };
  console.error(JSON.stringify(r2s));
  // --no-colmap keeps COLMAP's earlier figures for the case (they do not change with r2s)
  const earlier = (prev.results?.[name] as { colmap?: { ok?: boolean } } | undefined)?.colmap;
  const colmap: unknown = c.colmapSkipped ? { skipped: c.colmapSkipped } : earlier ? earlier : { skipped: c.colmap ? 'colmap not on PATH or --no-colmap' : 'not run for this case' };
  results[name] = { case: c, r2s, colmap, measuredAt: new Date().toISOString() };
  if (hasColmap && c.colmap && !c.colmapSkipped) colmapTodo.push([name, c]);
}
for (const [name, c] of colmapTodo) {
  console.error(`bench sfm: ${c.id} (COLMAP)`);
  const loadBefore = os.loadavg()[0];
  const colmap = { ...(await runColmap(c)), measuredAt: new Date().toISOString(), loadAverage1mBeforeAfter: [loadBefore, os.loadavg()[0]] };
  console.error(JSON.stringify(colmap));
  (results[name] as { colmap: unknown }).colmap = colmap;
}
await writeJsonAtomic(outFile, {
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadAverageAtEnd: os.loadavg() },
  note: 'wall time and peak RSS via /usr/bin/time; the machine is shared, so times vary with load; accuracy via src/eval/poses.ts (as poseeval.mjs)',
  results,
});
