/**
 * Matching benchmark → bench/match.json: ms and pairs/s for one 5000×5000 AKAZE-size pair (486-bit
 * descriptors padded to 16 words; nearest two both ways, ratio test, cap, mutual check) with each
 * CPU kernel on one thread (plain JS, WebAssembly scalar, WebAssembly SIMD) and the WGSL kernel on
 * whatever adapter getDevice() finds (lavapipe here). Every kernel's matches are checked equal.
 * The machine's load average is recorded: the timings are only comparable under similar load.
 *
 *   npx tsx bench/match.ts [--db WS/sfm/database.db]   (also real descriptors: the first two feature sets)
 *   --quick: 1000×1000, nothing written
 */
import os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { matchDescriptors, setKernel } from '../src/sfm/hamming.mjs';
import { matchPairGpu, defaultMatchOptions } from '../src/sfm/matching.js';
import { getDevice } from '../src/gpu/device.js';
import { GpuNearestTwo } from '../src/gpu/match/hamming-nn2.js';
import { mulberry32 } from '../src/util/rng.js';
import { writeJsonAtomic } from '../src/util/fsx.js';
import type { FeatureSet } from '../src/sfm/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const dbArg = process.argv.indexOf('--db');
const dbFile = dbArg > 0 ? process.argv[dbArg + 1] : undefined;
const N = quick ? 1000 : 5000, WORDS = 16, BITS = 486;

/** Synthetic AKAZE-like pair: random 486-bit descriptors; half of B are noisy copies of A rows. */
function syntheticPair(): { A: Uint32Array; B: Uint32Array; source: string } {
  const rng = mulberry32(16);
  const rand = () => Math.floor(rng() * 2 ** 32) >>> 0;
  const A = new Uint32Array(N * WORDS), B = new Uint32Array(N * WORDS);
  const pad = (w: number, v: number) => (w * 32 + 32 <= BITS ? v : w * 32 >= BITS ? 0 : v & ((1 << (BITS - w * 32)) - 1)) >>> 0;
  for (let i = 0; i < N; i++) for (let w = 0; w < WORDS; w++) A[i * WORDS + w] = pad(w, rand());
  for (let i = 0; i < N; i++) {
    const src = (i * 7919) % N;
    for (let w = 0; w < WORDS; w++) {
      let v = i % 2 === 0 ? A[src * WORDS + w]! : rand();
      if (rng() < 0.6) v ^= 1 << Math.floor(rng() * 32); // up to 16 flipped bits of 486
      B[i * WORDS + w] = pad(w, v);
    }
  }
  return { A, B, source: `synthetic ${N}×${N}, half of B noisy copies of A` };
}

function realPair(file: string): { A: Uint32Array; B: Uint32Array; source: string } {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT name, n, words, descr FROM features ORDER BY name LIMIT 2').all() as { name: string; n: number; words: number; descr: Buffer }[];
  db.close();
  const u32 = (b: Buffer) => new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)).subarray(0, N * WORDS);
  if (rows.length < 2 || rows.some((r) => r.n < N || r.words !== WORDS)) throw new Error(`${file}: need two feature sets of ≥ ${N} ${WORDS}-word descriptors`);
  return { A: u32(rows[0]!.descr), B: u32(rows[1]!.descr), source: `real AKAZE (${path.basename(file)}): ${rows[0]!.name} × ${rows[1]!.name}, first ${N} of each` };
}

const maxDist = Math.round(WORDS * 32 * defaultMatchOptions.maxDistFraction);
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const reps = quick ? 2 : 3;
const ctx = await getDevice();
const matcher = ctx ? new GpuNearestTwo(ctx.device) : null;

type Row = { backend: string; ms: number; cpuMs?: number; pairsPerSecond: number; matches: number };

/** Every backend on one pair; throws when any backend's matches differ from plain JS's. */
async function benchPair({ A, B, source }: { A: Uint32Array; B: Uint32Array; source: string }) {
  const loadBefore = load();
  const results: Row[] = [];
  let reference: Uint32Array | null = null;
  const same = (m: Uint32Array) => reference !== null && m.length === reference.length && m.every((v, k) => v === reference![k]);
  for (const kernel of ['js', 'scalar', 'simd'] as const) {
    setKernel(kernel);
    let ms = Infinity, cpuMs = Infinity, m: Uint32Array = new Uint32Array(0);
    for (let r = 0; r < reps; r++) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      m = matchDescriptors(A, N, B, N, WORDS, defaultMatchOptions.ratio, maxDist);
      ms = Math.min(ms, performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000);
    }
    if (!reference) reference = m;
    else if (!same(m)) throw new Error(`${kernel}: matches differ from the JS kernel's`);
    results.push({ backend: kernel === 'js' ? 'js' : `wasm-${kernel}`, ms, cpuMs, pairsPerSecond: 1000 / ms, matches: m.length / 2 });
    console.error(`bench match: ${kernel} ${ms.toFixed(0)} ms (cpu ${cpuMs.toFixed(0)} ms), ${m.length / 2} matches`);
  }
  setKernel('simd');
  let gpu: (Row & { adapter: string; software: boolean }) | null = null;
  if (ctx && matcher) {
    await matcher.prepare(WORDS);
    const fa = { name: 'a', desc: A, n: N, words: WORDS } as FeatureSet, fb = { name: 'b', desc: B, n: N, words: WORDS } as FeatureSet;
    let ms = Infinity, m: Uint32Array = new Uint32Array(0);
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      m = await matchPairGpu(matcher, fa, fb, defaultMatchOptions);
      ms = Math.min(ms, performance.now() - t0);
    }
    if (!same(m)) throw new Error('WGSL: matches differ from the CPU kernels\'');
    gpu = { backend: 'wgsl', adapter: ctx.adapterName, software: ctx.isSoftware, ms, pairsPerSecond: 1000 / ms, matches: m.length / 2 };
    console.error(`bench match: WGSL on ${ctx.adapterName} ${ms.toFixed(0)} ms`);
  }
  const byName = (b: string) => results.find((r) => r.backend === b)!;
  return {
    pair: source,
    loadAverage: { before: loadBefore, after: load() },
    cpuKernels: results,
    simdSpeedupOverScalar: Number((byName('wasm-scalar').ms / byName('wasm-simd').ms).toFixed(2)),
    simdSpeedupOverScalarCpuTime: Number((byName('wasm-scalar').cpuMs! / byName('wasm-simd').cpuMs!).toFixed(2)),
    wgslSoftware: gpu && gpu.software ? gpu : null,
    /** filled when the benchmark runs on an NVIDIA (or any hardware) adapter */
    wgslHardware: gpu && !gpu.software ? gpu : null,
  };
}

const out = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.availableParallelism()}`,
  note: 'ms: best of the repeats, wall clock, one pair on one thread (CPU kernels) or on the adapter; cpuMs: that run\'s CPU time (less sensitive to other jobs on the machine); pairs/s = 1000 / ms; loadAverage: 1/5/15-minute load of the machine',
  synthetic: await benchPair(syntheticPair()),
  real: dbFile ? await benchPair(realPair(dbFile)) : null,
};
matcher?.destroy();
// a run without a hardware adapter keeps the hardware figures measured earlier (on a lent GPU machine)
const file = path.join(here, 'match.json');
const earlier = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<typeof out>) : {};
for (const k of ['synthetic', 'real'] as const) {
  const now = out[k], before = earlier[k];
  if (now && !now.wgslHardware && before?.wgslHardware) now.wgslHardware = before.wgslHardware;
}
if (!quick) await writeJsonAtomic(file, out);
console.log(JSON.stringify(out, null, 2));
process.exit(0);
