/**
 * Stage 2: which image pairs to match (exhaustive, sequential + loop offsets, GPS neighbours) and
 * the descriptor matching itself (Hamming, ratio test + mutual check) on a pool of worker threads.
 * Raw matches are cached per pair in the SfM database, keyed by both images' feature keys.
 */
import { runOnWorkers } from './worker-pool.js';
import { hashString } from '../util/fsx.js';
import { Progress } from '../util/progress.js';
import type { SfmDatabase } from './database.js';
import type { FeatureSet, ImagePair } from './types.js';

export type MatcherKind = 'exhaustive' | 'sequential' | 'gps' | 'auto';

export interface MatchOptions {
  ratio: number;
  /** absolute Hamming cap as a fraction of the descriptor bits */
  maxDistFraction: number;
  workers?: number;
  silent?: boolean;
}

export const defaultMatchOptions: MatchOptions = { ratio: 0.8, maxDistFraction: 0.3 };

export interface PairSelection {
  kind: Exclude<MatcherKind, 'auto'>;
  pairs: ImagePair[];
}

/**
 * Pairs to match. `auto`: exhaustive up to 40 images, GPS neighbours when most images have ENU
 * positions, sequential otherwise. Sequential uses a window of `overlap` neighbours plus
 * power-of-two offsets (cheap loop candidates for a drive or a walk that comes back).
 */
export function selectPairs(n: number, kind: MatcherKind, opts: { enu?: Array<[number, number, number] | undefined>; overlap?: number; gpsNeighbours?: number } = {}): PairSelection {
  const enuCount = opts.enu ? opts.enu.filter(Boolean).length : 0;
  let k = kind;
  if (k === 'auto') k = n <= 40 ? 'exhaustive' : enuCount >= n * 0.8 ? 'gps' : 'sequential';
  const set = new Set<number>();
  const add = (i: number, j: number) => {
    if (i === j || i < 0 || j < 0 || i >= n || j >= n) return;
    const a = Math.min(i, j), b = Math.max(i, j);
    set.add(a * n + b);
  };
  if (k === 'exhaustive') {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) add(i, j);
  } else {
    const overlap = opts.overlap ?? 10;
    for (let i = 0; i < n; i++) {
      for (let d = 1; d <= overlap; d++) add(i, i + d);
      for (let d = overlap * 2; d < n; d *= 2) add(i, i + d);
    }
    if (k === 'gps') {
      const enu = opts.enu ?? [];
      const kn = opts.gpsNeighbours ?? 12;
      for (let i = 0; i < n; i++) {
        const p = enu[i];
        if (!p) continue;
        const near: Array<[number, number]> = [];
        for (let j = 0; j < n; j++) {
          const q = enu[j];
          if (j !== i && q) near.push([Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]), j]);
        }
        near.sort((a, b) => a[0] - b[0]);
        for (const [, j] of near.slice(0, kn)) add(i, j);
      }
    }
  }
  const pairs = [...set].sort((a, b) => a - b).map((v) => ({ i: Math.floor(v / n), j: v % n }));
  return { kind: k, pairs };
}

export function pairId(a: FeatureSet, b: FeatureSet): string {
  return `${a.name}\u0000${b.name}`;
}

/** Raw matches of every pair, interleaved (index in i, index in j); cached pairs are reused. */
export async function matchPairs(db: SfmDatabase, feats: FeatureSet[], pairs: ImagePair[], opts: MatchOptions): Promise<Uint32Array[]> {
  const out: Array<Uint32Array | null> = [];
  const todo: Array<{ idx: number; key: string; pair: ImagePair }> = [];
  const optKey = JSON.stringify({ r: opts.ratio, d: opts.maxDistFraction, v: 1 });
  for (let p = 0; p < pairs.length; p++) {
    const { i, j } = pairs[p]!;
    const key = hashString(feats[i]!.key + feats[j]!.key + optKey);
    const cached = db.getMatches(pairId(feats[i]!, feats[j]!), key);
    out.push(cached);
    if (!cached) todo.push({ idx: p, key, pair: pairs[p]! });
  }
  if (todo.length > 0) {
    const progress = new Progress('sfm: matching', todo.length, { silent: opts.silent });
    let done = 0;
    await runOnWorkers<(typeof todo)[number], MatchReply>(new URL('./match-worker.mjs', import.meta.url), todo, opts.workers, async (job, ask) => {
      const a = feats[job.pair.i]!, b = feats[job.pair.j]!;
      const bits = a.words * 32;
      const r = await ask({ id: job.idx, A: a.desc, nA: a.n, B: b.desc, nB: b.n, words: a.words, ratio: opts.ratio, maxDist: Math.round(bits * opts.maxDistFraction) });
      if (!r.ok) throw new Error(`matching ${a.name} with ${b.name} failed: ${r.error}`);
      db.putMatches(pairId(a, b), job.key, r.m);
      out[job.idx] = r.m;
      progress.update(++done, `${a.name}–${b.name}: ${r.m.length / 2}`);
    });
    progress.finish();
  }
  return out as Uint32Array[];
}

/** One match-worker reply: interleaved match indices. */
type MatchReply = { ok: boolean; m: Uint32Array; error?: string };
