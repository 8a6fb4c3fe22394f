/**
 * Stage 2: the descriptor matching of the selected pairs (src/sfm/pairs.ts chooses them): Hamming
 * nearest two, ratio test + absolute cap + mutual check, either on a pool of worker threads
 * (WebAssembly SIMD, see hamming.mjs) or on the GPU (src/gpu/match/). Both give the same matches,
 * so the backend is chosen by measured speed: the first pair runs on each, once per process.
 * Raw matches are cached per pair in the SfM database, keyed by both images' feature keys.
 *
 * Pairs chosen by guess (retrieval, sequential windows and loop offsets, GPS neighbours) first
 * pass an overlap pre-check (matchWithPrecheck in hamming.mjs): most of a retrieval selection does
 * not overlap (nerd_moldGoldCape: 781 of 1326 pairs never verify) and those pairs cost a full
 * match and the most expensive verification (RANSAC to its iteration cap). A skipped pair is cached
 * as a pair without matches, so a rerun does not check it again.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { defaultWorkerCount, runOnWorkers } from './worker-pool.js';
import { consistentMatches, matchDescriptors, mutualMatches, ratioCandidates, type OverlapPrecheck } from './hamming.mjs';
import { getDevice } from '../gpu/device.js';
import { GpuNearestTwo } from '../gpu/match/hamming-nn2.js';
import { hashString } from '../util/fsx.js';
import { Progress } from '../util/progress.js';
import { info, warnOnce } from '../util/log.js';
import type { SfmDatabase } from './database.js';
import type { FeatureSet, ImagePair } from './types.js';
import type { PairSelection } from './pairs.js';
import { pairId } from './pair-id.js';

export interface MatchOptions {
  ratio: number;
  /** absolute Hamming cap as a fraction of the descriptor bits */
  maxDistFraction: number;
  workers?: number;
  silent?: boolean;
  /**
   * 'auto' (default): the faster of a hardware GPU and the CPU workers, timed on the first pair
   * (once per process); a software adapter (lavapipe) runs on the CPU cores the workers already
   * use and is ~10× slower than them (bench/match.json), so auto does not try it. 'measure': time
   * both on any adapter. 'gpu' / 'cpu' force one. The environment variable R2S_MATCH_BACKEND sets
   * it when this is not given. Without a WebGPU adapter the CPU is used, silently.
   */
  backend?: Backend['kind'] | 'auto' | 'measure';
  /**
   * How the pairs were chosen: every kind but exhaustive gets the overlap pre-check (see
   * precheckFor) unless `precheck` says otherwise.
   */
  pairSelection?: PairSelection['kind'];
  /** the overlap pre-check's settings, or null for none (default: precheckFor(pairSelection)) */
  precheck?: OverlapPrecheck | null;
}

export const defaultMatchOptions: MatchOptions = { ratio: 0.8, maxDistFraction: 0.3 };

/**
 * Calibrated on the cached matches and verified geometries of nerd_moldGoldCape (retrieval, 1326
 * pairs), kitti_odom06 (sequential, 497), templeRing and fountain-P11 (exhaustive). At 1000 rows,
 * ±15° and ±0.35 octave, a threshold of 4 kept every pair verified with ≥ 30 inliers on all four
 * and skipped 585 of moldGoldCape's pairs (579 of its 781 that never verify; 6 of its 70 with
 * 15–30 inliers), with all 119 images registered and a rotation error of 0.1260° (0.1264° without
 * the pre-check). Tried and not taken: 750 rows (±20°, ±0.5 octave, 4) skipped as many but dropped 8
 * pairs with 15–30 inliers (0.1283°); 500 rows dropped pairs with > 100 inliers; wider windows let
 * more chance groups through (Lund photos against dash-cam frames: 11 of 24 skipped at ±20°, 17
 * at ±15°). Rotation and scale agreement separates overlapping pairs far better than the count of
 * pre-check matches: chance matches between unrelated moldGoldCape images number 12 at the median
 * at 1000 rows, as many as some pairs with 30–100 inliers have.
 */
const overlapPrecheck: OverlapPrecheck = { strongest: 1000, minConsistent: 4, maxAngleDeg: 15, maxOctaves: 0.35 };

/**
 * The pre-check for a pair selection. None for exhaustive matching: a small set (≤ 40 images by
 * default, or asked for) whose weak pairs count — templeRing has 251 pairs verified with 15–30
 * inliers, and the pre-check would drop 45 of them — while its cost is small anyway.
 */
function precheckFor(opts: MatchOptions): OverlapPrecheck | null {
  if (opts.precheck !== undefined) return opts.precheck;
  return opts.pairSelection && opts.pairSelection !== 'exhaustive' ? overlapPrecheck : null;
}

/** `opts`: the pair's options (adjacent pairs go without the pre-check) */
type Job = { idx: number; key: string; pair: ImagePair; opts: CheckedOptions };
/** One match-worker reply: interleaved match indices and the worker's compute time. */
type MatchReply = { ok: boolean; m: Uint32Array; skipped: boolean; ms: number; error?: string };
type Backend = { kind: 'cpu' } | { kind: 'gpu'; gpu: GpuNearestTwo };

/** Raw matches of every pair, interleaved (index in i, index in j); cached pairs are reused. */
export async function matchPairs(db: SfmDatabase, feats: FeatureSet[], pairs: ImagePair[], opts: MatchOptions): Promise<Uint32Array[]> {
  const out: Array<Uint32Array | null> = [];
  const todo: Job[] = [];
  const precheck = precheckFor(opts);
  const checked: CheckedOptions = { ...opts, precheck }, unchecked: CheckedOptions = { ...opts, precheck: null };
  // without the pre-check the key is the one from before it existed: cached matches stay valid
  const keyOf = (o: CheckedOptions) => JSON.stringify({ r: o.ratio, d: o.maxDistFraction, v: 1, ...(o.precheck ? { p: o.precheck } : {}) });
  const checkedKey = keyOf(checked), uncheckedKey = keyOf(unchecked);
  let adjacent = 0;
  for (let p = 0; p < pairs.length; p++) {
    const pair = pairs[p]!;
    const pairOpts = pair.adjacent ? unchecked : checked;
    if (precheck && pair.adjacent) adjacent++;
    const key = hashString(feats[pair.i]!.key + feats[pair.j]!.key + (pair.adjacent ? uncheckedKey : checkedKey));
    const cached = db.getMatches(pairId(feats[pair.i]!, feats[pair.j]!), key);
    out.push(cached);
    if (!cached) todo.push({ idx: p, key, pair, opts: pairOpts });
  }
  if (todo.length === 0) return out as Uint32Array[];
  const progress = new Progress('sfm: matching', todo.length, { silent: opts.silent });
  let done = 0, skipped = 0;
  const finish = (job: Job, r: Matched) => {
    const a = feats[job.pair.i]!, b = feats[job.pair.j]!;
    db.putMatches(pairId(a, b), job.key, r.m);
    out[job.idx] = r.m;
    if (r.skipped) skipped++;
    progress.update(++done, `${a.name}–${b.name}: ${r.skipped ? 'no overlap' : r.m.length / 2}`);
  };
  const workers = Math.max(1, Math.min(opts.workers ?? defaultWorkerCount(), todo.length));
  const { backend, probed } = await chooseBackend(feats, todo, workers, finish);
  const rest = probed ? todo.slice(1) : todo;
  if (backend.kind === 'gpu') {
    for (const job of rest) finish(job, await matchPairGpuChecked(backend.gpu, feats[job.pair.i]!, feats[job.pair.j]!, job.opts));
  } else {
    await runOnWorkers<Job, MatchReply>(workerUrl, rest, workers, async (job, ask) => finish(job, await matchPairCpu(feats, job, ask)));
  }
  progress.finish();
  if (precheck && !opts.silent) {
    const near = adjacent > 0 ? ` (${adjacent} neighbours in capture order matched without it)` : '';
    info(`sfm: ${skipped} of ${todo.length} pairs skipped by the overlap pre-check${near}`);
  }
  return out as Uint32Array[];
}

/** One pair's matches, and whether the overlap pre-check skipped the full match. */
type Matched = { m: Uint32Array; skipped: boolean };
type CheckedOptions = MatchOptions & { precheck: OverlapPrecheck | null };

const workerUrl = new URL('./match-worker.mjs', import.meta.url);

async function matchPairCpu(feats: FeatureSet[], job: Job, ask: (msg: Record<string, unknown>) => Promise<MatchReply>): Promise<Matched> {
  const r = await ask(cpuRequest(feats, job, job.opts));
  if (!r.ok) throw new Error(`matching ${feats[job.pair.i]!.name} with ${feats[job.pair.j]!.name} failed: ${r.error}`);
  return { m: r.m, skipped: r.skipped };
}

function cpuRequest(feats: FeatureSet[], job: Job, opts: CheckedOptions): Record<string, unknown> {
  const a = feats[job.pair.i]!, b = feats[job.pair.j]!;
  const p = opts.precheck;
  // the pre-check reads the keypoints of its rows only (a copy: a view would send the whole buffer)
  const kp = p ? { kpA: a.kp.slice(0, 4 * p.strongest), kpB: b.kp.slice(0, 4 * p.strongest) } : {};
  return { id: job.idx, A: a.desc, nA: a.n, B: b.desc, nB: b.n, words: a.words, ratio: opts.ratio, maxDist: maxDist(a, opts), precheck: p, ...kp };
}

/** The first `rows` features (the strongest), as a feature set of their own. */
function strongestOf(f: FeatureSet, rows: number): FeatureSet {
  const n = Math.min(f.n, rows);
  return { ...f, n, desc: f.desc.subarray(0, n * f.words), kp: f.kp.subarray(0, n * 4) };
}

/** Whether a pair passes the overlap pre-check, given the pre-check's matches (see matchWithPrecheck). */
function overlaps(a: FeatureSet, b: FeatureSet, pre: Uint32Array, p: OverlapPrecheck): boolean {
  return consistentMatches(a.kp, b.kp, pre, p.maxAngleDeg, p.maxOctaves) >= p.minConsistent;
}

/** matchWithPrecheck (hamming.mjs) with the searches on the GPU: the same result. */
async function matchPairGpuChecked(gpu: GpuNearestTwo, a: FeatureSet, b: FeatureSet, opts: CheckedOptions): Promise<Matched> {
  const p = opts.precheck;
  if (!p) return { m: await matchPairGpu(gpu, a, b, opts), skipped: false };
  const sa = strongestOf(a, p.strongest), sb = strongestOf(b, p.strongest);
  const pre = await matchPairGpu(gpu, sa, sb, opts);
  if (!overlaps(a, b, pre, p)) return { m: new Uint32Array(0), skipped: true };
  if (sa.n === a.n && sb.n === b.n) return { m: pre, skipped: false };
  return { m: await matchPairGpu(gpu, a, b, opts), skipped: false };
}

function maxDist(a: FeatureSet, opts: MatchOptions): number {
  return Math.round(a.words * 32 * opts.maxDistFraction);
}

/** The CPU matcher's result on the GPU: nearest two both ways there, the same filters here. */
export async function matchPairGpu(gpu: GpuNearestTwo, a: FeatureSet, b: FeatureSet, opts: MatchOptions): Promise<Uint32Array> {
  const fwd = await gpu.search(a.desc, a.n, b.desc, b.n, a.words, null);
  const { cand, rows } = ratioCandidates(fwd.best, fwd.d1, fwd.d2, a.n, opts.ratio, maxDist(a, opts));
  const rev = await gpu.search(b.desc, b.n, a.desc, a.n, a.words, rows);
  const rbest = new Int32Array(b.n).fill(-1);
  for (let k = 0; k < rows.length; k++) rbest[rows[k]!] = rev.best[k]!;
  return mutualMatches(cand, fwd.best, rbest);
}

let gpuMatcher: GpuNearestTwo | null = null;
/** The auto choice, made once per process (per descriptor size). */
const decided = new Map<number, 'gpu' | 'cpu'>();

function requestedBackend(opts: MatchOptions): NonNullable<MatchOptions['backend']> {
  const v = opts.backend ?? process.env.R2S_MATCH_BACKEND ?? 'auto';
  if (v === 'auto' || v === 'measure' || v === 'gpu' || v === 'cpu') return v;
  warnOnce('match-backend', `R2S_MATCH_BACKEND=${v} is not auto, measure, gpu or cpu: using auto`);
  return 'auto';
}

/**
 * Whether a hardware GPU may exist: on Linux it shows up as a device node. Without one, auto mode
 * does not start WebGPU at all (which would only find lavapipe, or warn that it found nothing).
 */
function hardwareGpuPossible(): boolean {
  return process.platform !== 'linux' || ['/dev/nvidia0', '/dev/dri', '/dev/kfd', '/dev/dxg'].some((f) => existsSync(f));
}

/**
 * The backend for this run. In auto / measure mode, the first time per process, the first pair
 * runs on the GPU and on one CPU worker; the GPU wins when one pair there takes less than one
 * pair per worker on the CPU pool (the workers run in parallel). That pair's matches are kept
 * (`probed`), and must agree between the two.
 */
async function chooseBackend(
  feats: FeatureSet[], todo: Job[], workers: number, finish: (job: Job, r: Matched) => void,
): Promise<{ backend: Backend; probed: boolean }> {
  const opts = todo[0]!.opts;
  const want = requestedBackend(opts);
  const cpu: { backend: Backend; probed: boolean } = { backend: { kind: 'cpu' }, probed: false };
  if (want === 'cpu' || (want === 'auto' && !hardwareGpuPossible())) return cpu;
  const ctx = await getDevice();
  if (!ctx || (want === 'auto' && ctx.isSoftware)) return cpu;
  gpuMatcher ??= new GpuNearestTwo(ctx.device);
  const gpu: Backend = { kind: 'gpu', gpu: gpuMatcher };
  const words = feats[todo[0]!.pair.i]!.words;
  const known = decided.get(words);
  if (want === 'gpu' || known === 'gpu') return { backend: gpu, probed: false };
  if (known === 'cpu') return cpu;

  const job = todo[0]!;
  const a = feats[job.pair.i]!, b = feats[job.pair.j]!;
  // the first dispatch also pays for driver-side shader compilation and buffer allocation: time
  // the second one
  await gpuMatcher.prepare(words);
  await matchPairGpu(gpuMatcher, a, b, opts);
  const t0 = performance.now();
  const onGpu = await matchPairGpu(gpuMatcher, a, b, opts);
  const gpuMs = performance.now() - t0;
  let onCpu: MatchReply | null = null;
  // both time the full match; the pre-check (cheap) then decides what is kept, here
  const full = { ...opts, precheck: null };
  await runOnWorkers<Job, MatchReply>(workerUrl, [job], 1, async (j, ask) => { onCpu = await ask(cpuRequest(feats, j, full)); });
  const reply = onCpu as MatchReply | null;
  if (!reply?.ok) throw new Error(`matching ${a.name} with ${b.name} failed: ${reply?.error}`);
  const same = reply.m.length === onGpu.length && reply.m.every((v, k) => v === onGpu[k]);
  const choice = same && gpuMs < reply.ms / workers ? 'gpu' : 'cpu';
  if (!same) warnOnce('match-gpu-differs', `GPU matches differ from the CPU's on ${a.name}–${b.name}: matching on the CPU`);
  decided.set(words, choice);
  if (!opts.silent) info(`sfm: matching on the ${choice === 'gpu' ? `GPU (${ctx.adapterName})` : 'CPU'}: one pair ${gpuMs.toFixed(0)} ms on the GPU, ${reply.ms.toFixed(0)} ms on one of ${workers} CPU workers`);
  const p = opts.precheck;
  const kept = !p || overlaps(a, b, precheckMatches(a, b, p, opts), p);
  finish(job, kept ? { m: reply.m, skipped: false } : { m: new Uint32Array(0), skipped: true });
  return { backend: choice === 'gpu' ? gpu : { kind: 'cpu' }, probed: true };
}

/** The pre-check's matches of a pair on this thread (the backend probe's pair only). */
function precheckMatches(a: FeatureSet, b: FeatureSet, p: OverlapPrecheck, opts: MatchOptions): Uint32Array {
  const sa = strongestOf(a, p.strongest), sb = strongestOf(b, p.strongest);
  return matchDescriptors(sa.desc, sa.n, sb.desc, sb.n, a.words, opts.ratio, maxDist(a, opts));
}
