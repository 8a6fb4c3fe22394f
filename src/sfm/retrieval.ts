/**
 * Image retrieval for pair selection in unordered captures: each image's descriptors quantized by
 * a vocabulary tree trained on the capture itself (src/sfm/retrieval-vocabulary.ts), an inverted
 * file per visual word, and each image's most similar images by the number of near descriptors
 * they share. Nothing is learned offline, so it works for any binary descriptor type and size.
 */
import type { FeatureSet } from './types.js';
import { defaultVocabularyOptions, quantize, trainVocabulary, type VocabularyOptions } from './retrieval-vocabulary.js';

export interface RetrievalOptions {
  vocabulary: VocabularyOptions;
  /**
   * descriptors used per image (the first ones: the detector keeps the strongest first); fewer is
   * faster and the strongest features are also the most repeatable
   */
  maxDescriptors: number;
  /**
   * two descriptors in one word count as a match below this fraction of the descriptor bits: 0.18
   * (92 of AKAZE's 512-bit slot) keeps about half of the true AKAZE matches (median distance ~90
   * bits on moldGoldCape); 0.14 found fewer of the weak images' partners, 0.22 let chance pairs in
   */
  maxDistanceFraction: number;
}

export const defaultRetrievalOptions: RetrievalOptions = { vocabulary: defaultVocabularyOptions, maxDescriptors: 5000, maxDistanceFraction: 0.18 };

/** Number of set bits of a 32-bit integer. */
function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Similarity of every image pair (n × n, row-major, symmetric, diagonal 0): the number of
 * descriptor pairs of the two images that fall in the same visual word AND lie within
 * `maxDistanceFraction` of the descriptor bits of each other — Hamming embedding (Jégou et al. 2008)
 * with the binary descriptor as its own signature, i.e. a cheap approximate count of matches. The
 * distance check is what makes words usable with 5000 features per image: two images share most
 * of a few thousand words by chance, and on moldGoldCape plain tf-idf bags of words (cosine, 16³
 * words) found 74 % of the pairs with ≥ 200 raw matches at k = 10, this count 95 % (judged on the
 * 611 pairs matched then). Deterministic for a given vocabulary seed, and the same whatever the
 * order of `feats` (up to that permutation).
 */
export function imageSimilarity(feats: FeatureSet[], opts: RetrievalOptions = defaultRetrievalOptions): Float32Array {
  const n = feats.length;
  const sim = new Float32Array(n * n);
  if (n < 2) return sim;
  const W = feats[0]!.words;
  if (feats.some((f) => f.words !== W)) throw new Error('retrieval: images have descriptors of different sizes');
  const counts = feats.map((f) => Math.min(f.n, opts.maxDescriptors));
  // trained on the images in the order of their feature keys (hashes of the image bytes), so the
  // vocabulary, and with it every similarity, does not depend on the file names or their order
  const byKey = feats.map((_, i) => i).sort((a, b) => (feats[a]!.key < feats[b]!.key ? -1 : feats[a]!.key > feats[b]!.key ? 1 : a - b));
  const tree = trainVocabulary(byKey.map((i) => feats[i]!.desc), byKey.map((i) => counts[i]!), W, opts.vocabulary);
  const words = feats.map((f, i) => quantize(tree, f.desc, counts[i]!));

  // inverted file: every descriptor packed by word (counting sort), with its image
  const leaves = tree.branching ** tree.depth;
  const start = new Int32Array(leaves + 1);
  for (const ws of words) for (const w of ws) start[w + 1]!++;
  for (let w = 0; w < leaves; w++) start[w + 1]! += start[w]!;
  const fill = start.slice(0, leaves);
  const total = start[leaves]!;
  const packed = new Uint32Array(total * W), image = new Int32Array(total);
  for (let i = 0; i < n; i++) {
    const ws = words[i]!, desc = feats[i]!.desc;
    for (let k = 0; k < ws.length; k++) {
      const at = fill[ws[k]!]!++;
      image[at] = i;
      packed.set(desc.subarray(k * W, k * W + W), at * W);
    }
  }

  const maxDist = Math.round(opts.maxDistanceFraction * W * 32);
  const votes = new Int32Array(n * n);
  for (let w = 0; w < leaves; w++) {
    const end = start[w + 1]!;
    for (let a = start[w]!; a < end; a++) {
      const ia = image[a]!, oa = a * W;
      for (let b = a + 1; b < end; b++) {
        const ib = image[b]!;
        if (ib === ia) continue;
        const ob = b * W;
        let d = 0;
        for (let k = 0; k < W && d < maxDist; k++) d += popcount(packed[oa + k]! ^ packed[ob + k]!);
        if (d < maxDist) votes[ia * n + ib]!++;
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sim[i * n + j] = sim[j * n + i] = votes[i * n + j]! + votes[j * n + i]!;
  return sim;
}

/** The k most similar other images of each image (ties by lower index), most similar first. */
export function topNeighbours(sim: Float32Array, n: number, k: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const others: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i && sim[i * n + j]! > 0) others.push(j);
    others.sort((a, b) => sim[i * n + b]! - sim[i * n + a]! || a - b);
    out.push(others.slice(0, k));
  }
  return out;
}
