/**
 * A vocabulary tree of binary visual words (Nistér & Stewénius 2006, in Hamming space as DBoW2
 * does for ORB): `branching` centres per node, `depth` levels, trained by k-majority (k-means
 * where a centre is the bitwise majority of its members) on a seeded sample of descriptors.
 * A descriptor's word is found by descending the tree: branching × depth distances instead of
 * one per leaf, which is what makes quantizing every descriptor of a capture cheap.
 */
import { Rng } from '../util/rng.js';
import { nearestCentres } from './retrieval-hamming.js';

export interface VocabularyOptions {
  /** centres per node; default: what gives about `descriptorsPerWord` descriptors per leaf, 8…40 */
  branching?: number;
  descriptorsPerWord: number;
  depth: number;
  /** descriptors drawn (uniformly over all images) to train the tree */
  sampleSize: number;
  /** k-majority iterations per node (it stops earlier once assignments settle) */
  iterations: number;
  seed: number;
}

/**
 * About 20 descriptors per word (32³ = 32 768 words for 119 images × 5000): few enough that the
 * inverted file's within-word distance checks (src/sfm/retrieval.ts) stay cheap, while a feature
 * seen again still lands in the same word often enough (on moldGoldCape 16³ and 24³ words
 * recalled the same pairs, 16³ at 4× the checks). Coarse levels decide most of the assignment, so
 * a 40 000 sample and 5 k-majority rounds suffice (bench/retrieval.json).
 */
export const defaultVocabularyOptions: VocabularyOptions = { descriptorsPerWord: 20, depth: 3, sampleSize: 40_000, iterations: 5, seed: 1 };

export interface VocabularyTree {
  /** Uint32 per descriptor */
  words: number;
  branching: number;
  depth: number;
  /**
   * centres per level: level l (0-based) holds branching^(l+1) centres, the children of node p of
   * the level above at p × branching + c. A node with fewer distinct members than `branching`
   * repeats centres; quantize keeps the first of equal distances, so repeats are never chosen.
   */
  levels: Uint32Array[];
}

/** The descriptors `ids` of `src` packed one after another (what the nearest-centre scan reads). */
function gather(src: Uint32Array, ids: ArrayLike<number>, W: number, out: Uint32Array): Uint32Array {
  for (let k = 0; k < ids.length; k++) out.set(src.subarray(ids[k]! * W, ids[k]! * W + W), k * W);
  return out;
}

/**
 * k-majority on `m` packed descriptors, k-means++ seeding; writes k centres into `out` at `outOff`
 * and returns each descriptor's cluster.
 */
function kMajority(rows: Uint32Array, m: number, W: number, k: number, iterations: number, rng: Rng, out: Uint32Array, outOff: number): Int32Array {
  const assign = new Int32Array(m);
  if (m === 0) return assign;
  const dist = new Int32Array(m), tmp = new Int32Array(m);
  // k-means++: each next centre drawn with probability ∝ squared distance to the nearest chosen one
  const chosen: number[] = [rng.int(m)];
  const dmin = new Float64Array(m).fill(Infinity);
  while (chosen.length < k) {
    const last = chosen[chosen.length - 1]!;
    nearestCentres(rows, m, rows.subarray(last * W, last * W + W), 1, W, tmp, dist);
    let total = 0;
    for (let i = 0; i < m; i++) {
      const d2 = dist[i]! * dist[i]!;
      if (d2 < dmin[i]!) dmin[i] = d2;
      total += dmin[i]!;
    }
    if (total === 0) break; // fewer distinct descriptors than k: the rest repeat
    let r = rng.next() * total, pick = m - 1;
    for (let i = 0; i < m; i++) { r -= dmin[i]!; if (r < 0) { pick = i; break; } }
    chosen.push(pick);
  }
  for (let c = 0; c < k; c++) {
    const src = chosen[c % chosen.length]! * W;
    out.set(rows.subarray(src, src + W), outOff + c * W);
  }
  const kk = chosen.length;
  const centres = out.subarray(outOff, outOff + kk * W);
  const bits = W * 32;
  const counts = new Int32Array(kk * bits);
  const sizes = new Int32Array(kk);
  assign.fill(-1);
  for (let it = 0; it < iterations; it++) {
    nearestCentres(rows, m, centres, kk, W, tmp, dist);
    let changed = false;
    for (let i = 0; i < m; i++) if (tmp[i] !== assign[i]) { assign[i] = tmp[i]!; changed = true; }
    if (!changed || it === iterations - 1) break;
    counts.fill(0);
    sizes.fill(0);
    for (let i = 0; i < m; i++) {
      const c = assign[i]!, o = i * W;
      sizes[c]!++;
      for (let w = 0; w < W; w++) {
        let x = rows[o + w]!;
        while (x !== 0) {
          counts[c * bits + w * 32 + 31 - Math.clz32(x & -x)]!++;
          x &= x - 1;
        }
      }
    }
    for (let c = 0; c < kk; c++) {
      if (sizes[c] === 0) continue; // an emptied cluster keeps its centre
      for (let w = 0; w < W; w++) {
        let v = 0;
        for (let b = 0; b < 32; b++) if (2 * counts[c * bits + w * 32 + b]! > sizes[c]!) v |= 1 << b;
        centres[c * W + w] = v >>> 0;
      }
    }
  }
  return assign;
}

/** Train a tree on a seeded sample of all descriptors (`descs[i]` holds `counts[i]` descriptors). */
export function trainVocabulary(descs: Uint32Array[], counts: number[], W: number, opts: VocabularyOptions = defaultVocabularyOptions): VocabularyTree {
  const rng = new Rng(opts.seed);
  const total = counts.reduce((a, b) => a + b, 0);
  const take = Math.min(opts.sampleSize, total);
  // a seeded sample without replacement over the concatenated descriptors (partial Fisher–Yates)
  const ids = new Int32Array(total);
  for (let i = 0; i < total; i++) ids[i] = i;
  for (let i = 0; i < take; i++) {
    const j = i + rng.int(total - i);
    const t = ids[i]!; ids[i] = ids[j]!; ids[j] = t;
  }
  const starts: number[] = [];
  let s = 0;
  for (const c of counts) { starts.push(s); s += c; }
  const sample = new Uint32Array(take * W);
  const chosen = Array.from(ids.subarray(0, take)).sort((a, b) => a - b);
  let img = 0;
  for (let k = 0; k < take; k++) {
    const g = chosen[k]!;
    while (img + 1 < counts.length && g >= starts[img + 1]!) img++;
    const o = (g - starts[img]!) * W;
    sample.set(descs[img]!.subarray(o, o + W), k * W);
  }

  const B = opts.branching ?? Math.min(40, Math.max(8, Math.round((total / opts.descriptorsPerWord) ** (1 / opts.depth))));
  const levels: Uint32Array[] = [];
  let groups: Int32Array[] = [Int32Array.from({ length: take }, (_, i) => i)];
  const scratch = new Uint32Array(take * W);
  for (let l = 0; l < opts.depth; l++) {
    const centres = new Uint32Array(groups.length * B * W);
    const next: Int32Array[] = [];
    for (let p = 0; p < groups.length; p++) {
      const members = groups[p]!;
      const rows = gather(sample, members, W, scratch);
      const assign = kMajority(rows, members.length, W, B, opts.iterations, rng, centres, p * B * W);
      const split: number[][] = Array.from({ length: B }, () => []);
      for (let i = 0; i < members.length; i++) split[assign[i]!]!.push(members[i]!);
      for (const g of split) next.push(Int32Array.from(g));
    }
    levels.push(centres);
    groups = next;
  }
  return { words: W, branching: B, depth: opts.depth, levels };
}

/** The leaf word (0 … branching^depth − 1) of each of the first `n` descriptors. */
export function quantize(tree: VocabularyTree, desc: Uint32Array, n: number): Uint32Array {
  const { words: W, branching: B, levels } = tree;
  const node = new Uint32Array(n);
  const rows = new Uint32Array(n * W), best = new Int32Array(n), dist = new Int32Array(n);
  let nodes = 1;
  for (const centres of levels) {
    // descriptors grouped by their node (counting sort), so each group scans its node's children
    const start = new Int32Array(nodes + 1);
    for (let i = 0; i < n; i++) start[node[i]! + 1]!++;
    for (let v = 0; v < nodes; v++) start[v + 1]! += start[v]!;
    const fill = start.slice(0, nodes);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[fill[node[i]!]!++] = i;
    for (let v = 0; v < nodes; v++) {
      const ids = order.subarray(start[v]!, start[v + 1]!);
      if (ids.length === 0) continue;
      gather(desc, ids, W, rows);
      nearestCentres(rows, ids.length, centres.subarray(v * B * W, (v + 1) * B * W), B, W, best, dist);
      for (let k = 0; k < ids.length; k++) node[ids[k]!] = v * B + best[k]!;
    }
    nodes *= B;
  }
  return node;
}
