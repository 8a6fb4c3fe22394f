/**
 * Stage 2: the descriptor matching of the selected pairs (src/sfm/pairs.ts chooses them): Hamming
 * nearest two, ratio test + absolute cap + mutual check, either on a pool of worker threads
 * (WebAssembly SIMD, see hamming.mjs) or on the GPU (src/gpu/match/). Both give the same matches,
 * so the backend is chosen by measured speed: the first pair runs on each, once per process.
 * Raw matches are cached per pair in the SfM database, keyed by both images' feature keys.
 */
import os from 'node:os';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { runOnWorkers } from './worker-pool.js';
import { mutualMatches, ratioCandidates } from './hamming.mjs';
import { getDevice } from '../gpu/device.js';
import { GpuNearestTwo } from '../gpu/match/hamming-nn2.js';
import { hashString } from '../util/fsx.js';
import { Progress } from '../util/progress.js';
import { info, warnOnce } from '../util/log.js';
import type { SfmDatabase } from './database.js';
import type { FeatureSet, ImagePair } from './types.js';
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
}

export const defaultMatchOptions: MatchOptions = { ratio: 0.8, maxDistFraction: 0.3 };


type Job = { idx: number; key: string; pair: ImagePair };
/** One match-worker reply: interleaved match indices and the worker's compute time. */
type MatchReply = { ok: boolean; m: Uint32Array; ms: number; error?: string };
type Backend = { kind: 'cpu' } | { kind: 'gpu'; gpu: GpuNearestTwo };

/** Raw matches of every pair, interleaved (index in i, index in j); cached pairs are reused. */
export async function matchPairs(db: SfmDatabase, feats: FeatureSet[], pairs: ImagePair[], opts: MatchOptions): Promise<Uint32Array[]> {
  const out: Array<Uint32Array | null> = [];
  const todo: Job[] = [];
  const optKey = JSON.stringify({ r: opts.ratio, d: opts.maxDistFraction, v: 1 });
  for (let p = 0; p < pairs.length; p++) {
    const { i, j } = pairs[p]!;
    const key = hashString(feats[i]!.key + feats[j]!.key + optKey);
    const cached = db.getMatches(pairId(feats[i]!, feats[j]!), key);
    out.push(cached);
    if (!cached) todo.push({ idx: p, key, pair: pairs[p]! });
  }
  if (todo.length === 0) return out as Uint32Array[];
  const progress = new Progress('sfm: matching', todo.length, { silent: opts.silent });
  let done = 0;
  const finish = (job: Job, m: Uint32Array) => {
    const a = feats[job.pair.i]!, b = feats[job.pair.j]!;
    db.putMatches(pairId(a, b), job.key, m);
    out[job.idx] = m;
    progress.update(++done, `${a.name}–${b.name}: ${m.length / 2}`);
  };
  const workers = Math.max(1, Math.min(opts.workers ?? Math.min(2, os.availableParallelism()), todo.length));
  const { backend, probed } = await chooseBackend(feats, todo, opts, workers, finish);
  const rest = probed ? todo.slice(1) : todo;
  if (backend.kind === 'gpu') {
    for (const job of rest) finish(job, await matchPairGpu(backend.gpu, feats[job.pair.i]!, feats[job.pair.j]!, opts));
  } else {
    await runOnWorkers<Job, MatchReply>(workerUrl, rest, workers, async (job, ask) => finish(job, await matchPairCpu(feats, job, opts, ask)));
  }
  progress.finish();
  return out as Uint32Array[];
}

const workerUrl = new URL('./match-worker.mjs', import.meta.url);

async function matchPairCpu(feats: FeatureSet[], job: Job, opts: MatchOptions, ask: (msg: Record<string, unknown>) => Promise<MatchReply>): Promise<Uint32Array> {
  const r = await ask(cpuRequest(feats, job, opts));
  if (!r.ok) throw new Error(`matching ${feats[job.pair.i]!.name} with ${feats[job.pair.j]!.name} failed: ${r.error}`);
  return r.m;
}

function cpuRequest(feats: FeatureSet[], job: Job, opts: MatchOptions): Record<string, unknown> {
  const a = feats[job.pair.i]!, b = feats[job.pair.j]!;
  return { id: job.idx, A: a.desc, nA: a.n, B: b.desc, nB: b.n, words: a.words, ratio: opts.ratio, maxDist: maxDist(a, opts) };
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
  feats: FeatureSet[], todo: Job[], opts: MatchOptions, workers: number, finish: (job: Job, m: Uint32Array) => void,
): Promise<{ backend: Backend; probed: boolean }> {
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
  await runOnWorkers<Job, MatchReply>(workerUrl, [job], 1, async (j, ask) => { onCpu = await ask(cpuRequest(feats, j, opts)); });
  const reply = onCpu as MatchReply | null;
  if (!reply?.ok) throw new Error(`matching ${a.name} with ${b.name} failed: ${reply?.error}`);
  const same = reply.m.length === onGpu.length && reply.m.every((v, k) => v === onGpu[k]);
  const choice = same && gpuMs < reply.ms / workers ? 'gpu' : 'cpu';
  if (!same) warnOnce('match-gpu-differs', `GPU matches differ from the CPU's on ${a.name}–${b.name}: matching on the CPU`);
  decided.set(words, choice);
  if (!opts.silent) info(`sfm: matching on the ${choice === 'gpu' ? `GPU (${ctx.adapterName})` : 'CPU'}: one pair ${gpuMs.toFixed(0)} ms on the GPU, ${reply.ms.toFixed(0)} ms on one of ${workers} CPU workers`);
  finish(job, reply.m);
  return { backend: choice === 'gpu' ? gpu : { kind: 'cpu' }, probed: true };
}
