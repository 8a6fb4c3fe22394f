/**
 * Stage 2: the descriptor matching of the selected pairs (src/sfm/pairs.ts chooses them): Hamming,
 * ratio test + mutual check, on a pool of worker threads.
 * Raw matches are cached per pair in the SfM database, keyed by both images' feature keys.
 */
import { runOnWorkers } from './worker-pool.js';
import { hashString } from '../util/fsx.js';
import { Progress } from '../util/progress.js';
import type { SfmDatabase } from './database.js';
import type { FeatureSet, ImagePair } from './types.js';

export interface MatchOptions {
  ratio: number;
  /** absolute Hamming cap as a fraction of the descriptor bits */
  maxDistFraction: number;
  workers?: number;
  silent?: boolean;
}

export const defaultMatchOptions: MatchOptions = { ratio: 0.8, maxDistFraction: 0.3 };

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
