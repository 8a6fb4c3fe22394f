/**
 * Stage 2a: which image pairs to match — exhaustive, sequential + loop offsets, GPS neighbours, or
 * image retrieval (src/sfm/retrieval.ts) for captures whose file order says nothing.
 */
import type { FeatureSet, ImagePair } from './types.js';
import { defaultRetrievalOptions, imageSimilarity, topNeighbours, type RetrievalOptions } from './retrieval.js';

export type MatcherKind = 'exhaustive' | 'sequential' | 'gps' | 'retrieval' | 'auto';

/** What pair selection may know about an image (the fields of its priors.json entry). */
export interface PairImageInfo {
  /** GPS as local East-North-Up metres */
  enu?: [number, number, number];
  /** capture time, ISO 8601 */
  time?: string;
  /** video frames: seconds from the start of the video */
  videoTime?: number;
}

export interface PairOptions {
  /** per image, in file order (priors.json `images`) */
  images?: readonly PairImageInfo[];
  /** the images' features, in the same order: needed by `retrieval` (and by `auto` when it picks it) */
  feats?: readonly FeatureSet[];
  /** sequential window */
  overlap?: number;
  gpsNeighbours?: number;
  /**
   * retrieval neighbours per image, default 15. On moldGoldCape (bench/retrieval.json) each
   * image's strongest partners rank near the top for most images, but a weakly textured one's land
   * around rank 8–15 (its counts are small and noisy): 15 reaches them while proposing ~11 pairs per
   * image (both sides' lists overlap), about what a sequential window of 10 proposes, and far fewer
   * than exhaustive's n/2 once n ≫ 30
   */
  retrievalNeighbours?: number;
  retrieval?: RetrievalOptions;
  /** seed of the retrieval vocabulary */
  seed?: number;
  /** precomputed imageSimilarity of `feats` (benchmarks try several k on one) */
  similarity?: Float32Array;
}

export interface PairSelection {
  kind: Exclude<MatcherKind, 'auto'>;
  pairs: ImagePair[];
  /** why this kind, in words (for the log) */
  reason: string;
}

const exhaustiveLimit = 40;

/**
 * True when the file order is the capture order: video frames (each has a `videoTime`, increasing),
 * or photos whose capture times all increase (never decrease) along the file order. Photos from
 * several cameras, or renamed / downloaded ones, fail this and get retrieval instead of a window.
 */
export function isTemporalOrder(images: readonly PairImageInfo[]): boolean {
  if (images.length < 2) return false;
  const monotone = (t: number[]) => t.every((v, k) => Number.isFinite(v) && (k === 0 || v >= t[k - 1]!)) && t[t.length - 1]! > t[0]!;
  if (images.every((im) => im.videoTime !== undefined)) return monotone(images.map((im) => im.videoTime!));
  if (images.every((im) => im.time !== undefined)) return monotone(images.map((im) => Date.parse(im.time!)));
  return false;
}

/**
 * Pairs to match. `auto`: exhaustive up to 40 images; above, when the order is temporal, GPS
 * neighbours if most images have ENU positions, else sequential; otherwise retrieval.
 * Sequential uses a window of `overlap` neighbours plus power-of-two offsets (cheap loop candidates
 * for a drive or a walk that comes back). Retrieval takes each image's most similar images, plus
 * the window when the order is temporal and GPS neighbours for located images.
 */
export function selectPairs(n: number, kind: MatcherKind, opts: PairOptions = {}): PairSelection {
  const images = opts.images ?? [];
  const enu = images.map((im) => im.enu);
  const enuCount = enu.filter(Boolean).length;
  const temporal = images.length === n && isTemporalOrder(images);
  let k: Exclude<MatcherKind, 'auto'>;
  let reason: string;
  if (kind !== 'auto') { k = kind; reason = `${kind} (asked)`; }
  else if (n <= exhaustiveLimit) { k = 'exhaustive'; reason = `auto: ${n} ≤ ${exhaustiveLimit} images`; }
  else if (temporal) {
    k = enuCount >= n * 0.8 ? 'gps' : 'sequential';
    reason = `auto: ${n} images in capture order${k === 'gps' ? ', most with GPS' : ''}`;
  } else { k = 'retrieval'; reason = `auto: ${n} images, file order not known to be the capture order`; }

  const set = new Set<number>();
  const adjacent = new Set<number>();
  const add = (i: number, j: number, near = false) => {
    if (i === j || i < 0 || j < 0 || i >= n || j >= n) return;
    const a = Math.min(i, j), b = Math.max(i, j);
    set.add(a * n + b);
    if (near) adjacent.add(a * n + b);
  };
  const overlap = opts.overlap ?? 10;
  if (k === 'exhaustive') {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) add(i, j);
  } else if (k === 'retrieval') {
    if (!opts.feats || opts.feats.length !== n) throw new Error('selectPairs: retrieval needs the features of every image');
    const ro = opts.retrieval ?? defaultRetrievalOptions;
    const sim = opts.similarity ?? imageSimilarity([...opts.feats], opts.seed === undefined ? ro : { ...ro, vocabulary: { ...ro.vocabulary, seed: opts.seed } });
    topNeighbours(sim, n, opts.retrievalNeighbours ?? 15).forEach((near, i) => { for (const j of near) add(i, j); });
    if (temporal) for (let i = 0; i < n; i++) for (let d = 1; d <= overlap; d++) add(i, i + d, true);
    if (enuCount > 0) addGpsNeighbours(enu, opts.gpsNeighbours ?? 12, add);
  } else {
    for (let i = 0; i < n; i++) {
      for (let d = 1; d <= overlap; d++) add(i, i + d, true);
      for (let d = overlap * 2; d < n; d *= 2) add(i, i + d);
    }
    if (k === 'gps') addGpsNeighbours(enu, opts.gpsNeighbours ?? 12, add);
  }
  const pairs = [...set].sort((a, b) => a - b).map((v): ImagePair => ({ i: Math.floor(v / n), j: v % n, ...(adjacent.has(v) ? { adjacent: true } : {}) }));
  return { kind: k, pairs, reason };
}

/** Each located image with its `count` nearest located images. */
function addGpsNeighbours(enu: ReadonlyArray<[number, number, number] | undefined>, count: number, add: (i: number, j: number) => void): void {
  for (let i = 0; i < enu.length; i++) {
    const p = enu[i];
    if (!p) continue;
    const near: Array<[number, number]> = [];
    for (let j = 0; j < enu.length; j++) {
      const q = enu[j];
      if (j !== i && q) near.push([Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]), j]);
    }
    near.sort((a, b) => a[0] - b[0]);
    for (const [, j] of near.slice(0, count)) add(i, j);
  }
}
