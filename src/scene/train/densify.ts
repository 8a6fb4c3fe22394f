/**
 * Adaptive density control operations (the strategies that schedule them: train/strategy-*.ts).
 *  - 3DGS default: accumulate each Gaussian's screen-space gradient norm over the views that see
 *    it; every `densifyEvery` steps clone small Gaussians and split large ones whose mean gradient
 *    exceeds the threshold, prune transparent and oversized ones; reset opacities periodically.
 *  - MCMC (Kheradmand et al. 2024) with a Gaussian budget: dead Gaussians are relocated onto live
 *    ones sampled by opacity, the count grows 5 % per round up to the budget, and positions get
 *    opacity-gated noise.
 * Each operation returns the new parameters plus, per new row, the old row its Adam moments come
 * from (−1: fresh zeros — 3DGS gives new Gaussians zero moments).
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { allocGaussians, gatherGaussians, logit, sigmoid } from '../gaussians.js';
import { SH_COEFFS } from '../../core/gaussians.js';
import { quatToMat } from '../../geometry/rotation.js';
import type { Rng } from '../../util/rng.js';

export class GradStats {
  sum: Float32Array;
  count: Float32Array;
  constructor(n: number) {
    this.sum = new Float32Array(n);
    this.count = new Float32Array(n);
  }

  /**
   * Add one view's per-Gaussian ‖∂L/∂mean2D‖ (pixels). 3DGS thresholds the gradient w.r.t.
   * normalised device coordinates, which is the pixel gradient × (image size / 2).
   */
  add(pixelGradNorm: Float32Array, width: number, height: number): void {
    const toNdc = (width + height) / 4;
    for (let i = 0; i < this.sum.length; i++) {
      const g = pixelGradNorm[i]!;
      if (g > 0) {
        this.sum[i]! += g * toNdc;
        this.count[i]! += 1;
      }
    }
  }
}

export interface Restructure {
  params: GaussianParams;
  /** per new row: old row whose optimizer moments it keeps, or −1 */
  momentSrc: Int32Array;
  cloned: number;
  split: number;
  pruned: number;
  relocated?: number;
}

export interface DensifyOptions {
  gradThreshold: number; // 0.0002
  percentDense: number; // 0.01
  extent: number;
  minOpacity: number; // 0.005
  /** prune Gaussians larger than 0.1 × extent (3DGS does so after the first opacity reset) */
  pruneBig: boolean;
  /** prune size threshold, × extent (default 0.1) */
  pruneBigFactor?: number;
  /** never grow past this count (0 = unlimited) */
  maxCount?: number;
}

export function densifyAndPrune(g: GaussianParams, stats: GradStats, o: DensifyOptions, rng: Rng): Restructure {
  const n = g.count;
  const keepSrc: number[] = [];
  const keepMoment: number[] = [];
  const extra: number[] = []; // rows to clone (same parameters, fresh moments)
  const splitRows: number[] = [];
  let budget = o.maxCount && o.maxCount > 0 ? o.maxCount - n : Infinity;
  let pruned = 0;
  const bigWorld = (o.pruneBigFactor ?? 0.1) * o.extent;
  for (let i = 0; i < n; i++) {
    const avg = stats.count[i]! > 0 ? stats.sum[i]! / stats.count[i]! : 0;
    const maxScale = Math.exp(Math.max(g.logScales[i * 3]!, g.logScales[i * 3 + 1]!, g.logScales[i * 3 + 2]!));
    const opacity = sigmoid(g.opacityLogits[i]!);
    const grow = avg >= o.gradThreshold && budget > 0;
    const isSplit = grow && maxScale > o.percentDense * o.extent;
    if (grow && !isSplit) { extra.push(i); budget--; }
    if (isSplit) { splitRows.push(i); budget--; continue; } // the original is replaced by its 2 samples
    // Prune after growth decisions, as 3DGS (clones of a pruned Gaussian survive only if grown).
    if (opacity < o.minOpacity || (o.pruneBig && maxScale > bigWorld)) { pruned++; continue; }
    keepSrc.push(i);
    keepMoment.push(i);
  }
  const base = gatherGaussians(g, [...keepSrc, ...extra]);
  const samples = splitSamples(g, splitRows, 2, rng);
  const params = concatGaussians(base, samples);
  // Split children start with the parent's opacity; prune the ones born transparent too.
  const momentSrc = new Int32Array(params.count).fill(-1);
  momentSrc.set(keepMoment, 0);
  return { params, momentSrc, cloned: extra.length, split: splitRows.length, pruned };
}

/** N samples per row from the Gaussian itself, with scales shrunk by 1/(0.8·N) (3DGS split). */
export function splitSamples(g: GaussianParams, rows: number[], N: number, rng: Rng): GaussianParams {
  const src: number[] = [];
  for (const i of rows) for (let k = 0; k < N; k++) src.push(i);
  const out = gatherGaussians(g, src);
  for (let j = 0; j < src.length; j++) {
    const i = src[j]!;
    const R = quatToMat([g.quats[i * 4]!, g.quats[i * 4 + 1]!, g.quats[i * 4 + 2]!, g.quats[i * 4 + 3]!]);
    const s = [0, 1, 2].map((a) => Math.exp(g.logScales[i * 3 + a]!) * rng.normal());
    for (let a = 0; a < 3; a++) {
      out.means[j * 3 + a] = g.means[i * 3 + a]! + R[a * 3]! * s[0]! + R[a * 3 + 1]! * s[1]! + R[a * 3 + 2]! * s[2]!;
      out.logScales[j * 3 + a] = g.logScales[i * 3 + a]! - Math.log(0.8 * N);
    }
  }
  return out;
}

export function concatGaussians(a: GaussianParams, b: GaussianParams): GaussianParams {
  const out = allocGaussians(a.count + b.count);
  out.means.set(a.means); out.means.set(b.means, a.count * 3);
  out.logScales.set(a.logScales); out.logScales.set(b.logScales, a.count * 3);
  out.quats.set(a.quats); out.quats.set(b.quats, a.count * 4);
  out.opacityLogits.set(a.opacityLogits); out.opacityLogits.set(b.opacityLogits, a.count);
  out.sh.set(a.sh); out.sh.set(b.sh, a.count * SH_COEFFS * 3);
  return out;
}

/** Clamp every opacity to at most `cap` (3DGS: 0.01); returns the rows changed. */
export function resetOpacity(g: GaussianParams, cap = 0.01): number[] {
  const l = logit(cap);
  const rows: number[] = [];
  for (let i = 0; i < g.count; i++) {
    if (g.opacityLogits[i]! > l) {
      g.opacityLogits[i] = l;
      rows.push(i);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// MCMC

/** Sample `k` rows with probability ∝ weights (with replacement). */
function sampleByWeight(w: Float64Array, k: number, rng: Rng): number[] {
  const cdf = new Float64Array(w.length);
  let s = 0;
  for (let i = 0; i < w.length; i++) cdf[i] = s += w[i]!;
  const out: number[] = [];
  if (s <= 0) return out;
  for (let j = 0; j < k; j++) {
    const u = rng.next() * s;
    let lo = 0, hi = w.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out.push(lo);
  }
  return out;
}

/**
 * One MCMC refinement round: relocate dead Gaussians (opacity < minOpacity) onto live ones sampled
 * by opacity, then add up to 5 % new ones (within `cap`) the same way. A Gaussian shared by n
 * copies gets opacity 1 − (1 − o)^(1/n), so the rendered coverage stays about the same.
 */
export function mcmcRelocateAndGrow(g: GaussianParams, cap: number, minOpacity: number, rng: Rng, growthRate = 0.05): Restructure {
  const n = g.count;
  const op = new Float64Array(n);
  const dead: number[] = [];
  for (let i = 0; i < n; i++) {
    op[i] = sigmoid(g.opacityLogits[i]!);
    if (op[i]! < minOpacity) dead.push(i);
  }
  const alive = new Float64Array(n);
  for (let i = 0; i < n; i++) alive[i] = op[i]! >= minOpacity ? op[i]! : 0;
  const grow = Math.max(0, Math.min(cap - n, Math.floor(growthRate * n)));
  const targets = sampleByWeight(alive, dead.length + grow, rng);
  if (targets.length === 0) return { params: g, momentSrc: Int32Array.from({ length: n }, (_, i) => i), cloned: 0, split: 0, pruned: 0, relocated: 0 };
  const copies = new Map<number, number>();
  for (const t of targets) copies.set(t, (copies.get(t) ?? 1) + 1);
  const src = Int32Array.from({ length: n }, (_, i) => i);
  const momentSrc = Int32Array.from({ length: n + grow }, (_, i) => (i < n ? i : -1));
  dead.forEach((d, j) => { src[d] = targets[j]!; momentSrc[d] = -1; });
  const allSrc = [...src, ...targets.slice(dead.length)];
  const params = gatherGaussians(g, allSrc);
  for (let j = 0; j < params.count; j++) {
    const s = allSrc[j]!;
    const c = copies.get(s);
    if (c) {
      params.opacityLogits[j] = logit(1 - Math.pow(1 - op[s]!, 1 / c));
      momentSrc[j] = -1;
    }
  }
  return { params, momentSrc, cloned: grow, split: 0, pruned: 0, relocated: dead.length };
}

/**
 * MCMC exploration noise: each position moves by its own covariance-shaped noise, scaled by the
 * current position lr, and gated off for opaque Gaussians.
 */
export function mcmcNoise(g: GaussianParams, lrPosition: number, rng: Rng, noiseLr = 5e5): void {
  for (let i = 0; i < g.count; i++) {
    const o = sigmoid(g.opacityLogits[i]!);
    const gate = 1 / (1 + Math.exp(100 * (o - 0.005)));
    if (gate < 1e-6) continue;
    const R = quatToMat([g.quats[i * 4]!, g.quats[i * 4 + 1]!, g.quats[i * 4 + 2]!, g.quats[i * 4 + 3]!]);
    const e = [0, 1, 2].map((a) => Math.exp(2 * g.logScales[i * 3 + a]!) * rng.normal());
    for (let a = 0; a < 3; a++) {
      g.means[i * 3 + a]! += gate * lrPosition * noiseLr * (R[a * 3]! * e[0]! + R[a * 3 + 1]! * e[1]! + R[a * 3 + 2]! * e[2]!);
    }
  }
}
