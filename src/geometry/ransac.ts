/**
 * LO-RANSAC (Chum et al.): minimal samples scored by MSAC (truncated squared error), a local
 * optimisation (non-minimal refit on the inliers, iterated) whenever the best model improves, and
 * the adaptive stopping rule N = log(1 − p) / log(1 − wˢ). Seeded, so results are reproducible.
 * A hypothesis is scored in blocks and dropped once it cannot beat the best (exact: same result).
 * Wrappers for essential (five-point, on normalised coordinates, Sampson error in pixels),
 * fundamental (seven/eight-point) and homography (DLT) follow.
 */
import { mulberry32 } from '../util/rng.js';
import type { Camera } from '../core/camera.js';
import { meanFocal, unprojectPixel } from './camera-model.js';
import { essentialFivePoint, recoverPose } from './essential.js';
import { epipolarDesign, fundamentalEightPoint, fundamentalSevenPoint, sampsonError } from './fundamental.js';
import { homographyDLT, homographyError } from './homography.js';
import { nullSpace, svd } from './linalg.js';
import { normalizeFrobenius } from './normalize.js';
import { expSO3, matMul3 } from './rotation.js';

export interface RansacOptions { maxError: number; confidence?: number; minIterations?: number; maxIterations?: number; seed?: number }
export interface RansacResult<M> { model: M; inliers: Uint8Array; numInliers: number; iterations: number }

/** A model family for loRansac: minimal and non-minimal solvers and squared residuals. */
export interface RansacEstimator<M> {
  n: number;
  sampleSize: number;
  minimal(idx: Int32Array): M[];
  /** least-squares refit on a set of (inlier) indices; `from` is the model they are inliers of */
  nonMinimal?(idx: Int32Array, from: M): M[];
  /** squared residual of every correspondence, in the units of the threshold */
  residuals(model: M, out: Float64Array): void;
  /**
   * squared residuals of correspondences from..to-1 only (into out[from..to-1]): when given, a
   * hypothesis is scored in blocks and dropped as soon as its partial score can no longer beat the
   * best (MSAC terms are ≥ 0), which changes no decision and skips most of the work on bad ones
   */
  residualsRange?(model: M, out: Float64Array, from: number, to: number): void;
}

/** Correspondences scored per block before the early-rejection check. */
const SCORE_BLOCK = 64;

/** Seeded generator for RANSAC sampling (the project's mulberry32, seed offset as before). */
export function makeRng(seed: number): () => number {
  return mulberry32(((seed >>> 0) + 0x6d2b79f5) >>> 0);
}

export function loRansac<M>(est: RansacEstimator<M>, thresholdSq: number, opts: RansacOptions): RansacResult<M> | null {
  const { n, sampleSize } = est;
  if (n < sampleSize) return null;
  const confidence = opts.confidence ?? 0.9999;
  const minIt = opts.minIterations ?? 50;
  const maxIt = opts.maxIterations ?? 10000;
  const rng = makeRng(opts.seed ?? 0);
  const res = new Float64Array(n);
  const perm = new Int32Array(n).map((_, i) => i);
  const sample = new Int32Array(sampleSize);

  let best: M | null = null, bestScore = Infinity, bestCount = 0;
  // MSAC score and inlier count; with residualsRange, Infinity as soon as the partial sum reaches
  // bestScore (the full sum could only be larger: that model would be rejected anyway)
  const score = (m: M): [number, number] => {
    let s = 0, c = 0;
    if (!est.residualsRange) {
      est.residuals(m, res);
      for (let i = 0; i < n; i++) {
        const r = res[i]!;
        if (r < thresholdSq) { s += r; c++; } else s += thresholdSq;
      }
      return [s, c];
    }
    for (let from = 0; from < n; from += SCORE_BLOCK) {
      const to = Math.min(n, from + SCORE_BLOCK);
      est.residualsRange(m, res, from, to);
      for (let i = from; i < to; i++) {
        const r = res[i]!;
        if (r < thresholdSq) { s += r; c++; } else s += thresholdSq;
      }
      if (s >= bestScore) return [Infinity, c];
    }
    return [s, c];
  };
  const inlierIdx = (m: M): Int32Array => {
    est.residuals(m, res);
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (res[i]! < thresholdSq) idx.push(i);
    return Int32Array.from(idx);
  };
  const consider = (m: M): boolean => {
    const [s, c] = score(m);
    if (s < bestScore) { best = m; bestScore = s; bestCount = c; return true; }
    return false;
  };
  // Local optimisation: refit on the inliers while that improves the score.
  const localOptimize = () => {
    if (!est.nonMinimal) return;
    for (let k = 0; k < 4; k++) {
      const idx = inlierIdx(best!);
      if (idx.length <= sampleSize) return;
      let improved = false;
      for (const m of est.nonMinimal(idx, best!)) if (consider(m)) improved = true;
      if (!improved) return;
    }
  };

  let needed = maxIt, it = 0;
  for (; it < maxIt && (it < minIt || it < needed); it++) {
    // Partial Fisher–Yates: the first sampleSize entries of perm are the sample.
    for (let k = 0; k < sampleSize; k++) {
      const j = k + Math.floor(rng() * (n - k));
      const t = perm[k]!; perm[k] = perm[j]!; perm[j] = t;
      sample[k] = perm[k]!;
    }
    let improved = false;
    for (const m of est.minimal(sample)) if (consider(m)) improved = true;
    if (improved) {
      localOptimize();
      const w = bestCount / n;
      const denom = Math.log(1 - Math.pow(w, sampleSize));
      needed = w >= 1 ? 0 : denom < 0 ? Math.ceil(Math.log(1 - confidence) / denom) : maxIt;
    }
  }
  if (best === null) return null;
  localOptimize();
  const inliers = new Uint8Array(n);
  est.residuals(best, res);
  let count = 0;
  for (let i = 0; i < n; i++) if (res[i]! < thresholdSq) { inliers[i] = 1; count++; }
  if (count < sampleSize) return null;
  return { model: best, inliers, numInliers: count, iterations: it };
}

function subset(x: Float64Array, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(2 * idx.length);
  for (let k = 0; k < idx.length; k++) { out[2 * k] = x[2 * idx[k]!]!; out[2 * k + 1] = x[2 * idx[k]! + 1]!; }
  return out;
}

/** Linear E from ≥ 8 normalised correspondences, projected onto the essential manifold (singular values 1, 1, 0). */
function essentialLinear(x1: Float64Array, x2: Float64Array): number[] | null {
  const n = x1.length / 2;
  if (n < 8) return null;
  const [e] = nullSpace(epipolarDesign(x1, x2), n, 9, 1) as [number[]];
  const { U, V } = svd(e, 3, 3);
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[i * 3 + j] = U[i * 3]! * V[j * 3]! + U[i * 3 + 1]! * V[j * 3 + 1]!;
  return out.every(Number.isFinite) ? normalizeFrobenius(out) : null;
}

function skewMul(t: ArrayLike<number>, R: ArrayLike<number>): number[] {
  // [t]× R
  const tx = [0, -t[2]!, t[1]!, t[2]!, 0, -t[0]!, -t[1]!, t[0]!, 0];
  return matMul3(tx, R as number[]);
}

/**
 * Nonlinear refinement of (R, t) (|t| = 1) minimising the Sampson error of E = [t]×R over inliers
 * (Gauss–Newton with LM damping, numeric Jacobian: 5 parameters, so this is cheap).
 */
export function refineRelativePose(R0: number[], t0: number[], x1: Float64Array, x2: Float64Array, inliers: Uint8Array, iterations = 10): { R: number[]; t: number[] } {
  const idx: number[] = [];
  for (let i = 0; i < inliers.length; i++) if (inliers[i]) idx.push(i);
  const m = idx.length;
  if (m < 6) return { R: R0, t: t0 };
  const residuals = (R: number[], t: number[], out: Float64Array) => {
    const E = skewMul(t, R);
    for (let k = 0; k < m; k++) {
      const i = idx[k]!;
      const u1 = x1[2 * i]!, v1 = x1[2 * i + 1]!, u2 = x2[2 * i]!, v2 = x2[2 * i + 1]!;
      const Fx0 = E[0]! * u1 + E[1]! * v1 + E[2]!, Fx1 = E[3]! * u1 + E[4]! * v1 + E[5]!, Fx2 = E[6]! * u1 + E[7]! * v1 + E[8]!;
      const Ftx0 = E[0]! * u2 + E[3]! * v2 + E[6]!, Ftx1 = E[1]! * u2 + E[4]! * v2 + E[7]!;
      const d = Fx0 * Fx0 + Fx1 * Fx1 + Ftx0 * Ftx0 + Ftx1 * Ftx1;
      out[k] = (u2 * Fx0 + v2 * Fx1 + Fx2) / Math.sqrt(d > 0 ? d : 1e-300);
    }
  };
  // Tangent basis of the unit sphere at t.
  const tangent = (t: number[]) => {
    const a = Math.abs(t[0]!) < 0.9 ? [1, 0, 0] : [0, 1, 0];
    let b1 = [t[1]! * a[2]! - t[2]! * a[1]!, t[2]! * a[0]! - t[0]! * a[2]!, t[0]! * a[1]! - t[1]! * a[0]!];
    const nb = Math.hypot(b1[0]!, b1[1]!, b1[2]!); b1 = b1.map((x) => x / nb);
    const b2 = [t[1]! * b1[2]! - t[2]! * b1[1]!, t[2]! * b1[0]! - t[0]! * b1[2]!, t[0]! * b1[1]! - t[1]! * b1[0]!];
    return [b1, b2] as const;
  };
  const apply = (R: number[], t: number[], d: ArrayLike<number>) => {
    const Rn = matMul3(expSO3([d[0]!, d[1]!, d[2]!]), R);
    const [b1, b2] = tangent(t);
    const tn = [0, 1, 2].map((k) => t[k]! + d[3]! * b1[k]! + d[4]! * b2[k]!);
    const nn = Math.hypot(tn[0]!, tn[1]!, tn[2]!);
    return { R: Rn, t: tn.map((x) => x / nn) };
  };
  let R = R0, t = t0, lambda = 1e-3;
  const r0 = new Float64Array(m), r1 = new Float64Array(m), J = new Float64Array(m * 5);
  residuals(R, t, r0);
  let cost = r0.reduce((s, v) => s + v * v, 0);
  for (let it = 0; it < iterations; it++) {
    const h = 1e-7;
    for (let p = 0; p < 5; p++) {
      const d = [0, 0, 0, 0, 0]; d[p] = h;
      const c = apply(R, t, d);
      residuals(c.R, c.t, r1);
      for (let k = 0; k < m; k++) J[k * 5 + p] = (r1[k]! - r0[k]!) / h;
    }
    const H = new Float64Array(25), g = new Float64Array(5);
    for (let k = 0; k < m; k++) for (let a = 0; a < 5; a++) {
      g[a]! -= J[k * 5 + a]! * r0[k]!;
      for (let b = 0; b < 5; b++) H[a * 5 + b]! += J[k * 5 + a]! * J[k * 5 + b]!;
    }
    let accepted = false;
    for (let tries = 0; tries < 6 && !accepted; tries++) {
      const A = H.slice(), b = g.slice();
      for (let a = 0; a < 5; a++) A[a * 5 + a]! += lambda * Math.max(H[a * 5 + a]!, 1e-12);
      if (!solveSmall(A, b, 5)) { lambda *= 10; continue; }
      const c = apply(R, t, b);
      residuals(c.R, c.t, r1);
      const nc = r1.reduce((s, v) => s + v * v, 0);
      if (nc < cost) { R = c.R; t = c.t; r0.set(r1); const rel = (cost - nc) / cost; cost = nc; lambda = Math.max(1e-9, lambda / 10); accepted = true; if (rel < 1e-10) it = iterations; }
      else lambda *= 10;
    }
    if (!accepted) break;
  }
  return { R, t };
}

function solveSmall(A: Float64Array, b: Float64Array, n: number): boolean {
  // Gaussian elimination with partial pivoting (n ≤ 6).
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r * n + c]!) > Math.abs(A[p * n + c]!)) p = r;
    if (!(Math.abs(A[p * n + c]!) > 1e-300)) return false;
    if (p !== c) { for (let j = 0; j < n; j++) { const t = A[c * n + j]!; A[c * n + j] = A[p * n + j]!; A[p * n + j] = t; } const t = b[c]!; b[c] = b[p]!; b[p] = t; }
    for (let r = c + 1; r < n; r++) {
      const f = A[r * n + c]! / A[c * n + c]!;
      if (f === 0) continue;
      for (let j = c; j < n; j++) A[r * n + j]! -= f * A[c * n + j]!;
      b[r]! -= f * b[c]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let j = r + 1; j < n; j++) s -= A[r * n + j]! * b[j]!;
    b[r] = s / A[r * n + r]!;
  }
  return true;
}
export { solveSmall };

/**
 * Essential matrix from pixel correspondences of two calibrated cameras. maxError is a Sampson
 * distance in pixels (converted with the mean focal length). The result's R, t (|t| = 1,
 * x_cam2 = R x_cam1 + t) come from cheirality on the inliers after a nonlinear refinement.
 */
export function estimateEssential(x1px: Float64Array, x2px: Float64Array, cam1: Camera, cam2: Camera, opts: RansacOptions): (RansacResult<number[]> & { R: number[]; t: number[] }) | null {
  const n = Math.min(x1px.length, x2px.length) / 2;
  if (n < 5) return null;
  const x1 = new Float64Array(2 * n), x2 = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = unprojectPixel(cam1, x1px[2 * i]!, x1px[2 * i + 1]!), b = unprojectPixel(cam2, x2px[2 * i]!, x2px[2 * i + 1]!);
    x1[2 * i] = a[0]; x1[2 * i + 1] = a[1]; x2[2 * i] = b[0]; x2[2 * i + 1] = b[1];
  }
  const f = 0.5 * (meanFocal(cam1) + meanFocal(cam2));
  const th = opts.maxError / f;
  const res = loRansac<number[]>({
    n,
    sampleSize: 5,
    minimal: (idx) => essentialFivePoint(subset(x1, idx), subset(x2, idx)),
    nonMinimal: (idx) => {
      const a = subset(x1, idx), b = subset(x2, idx);
      const E = essentialLinear(a, b);
      return E ? [E] : essentialFivePoint(a, b);
    },
    residuals: (E, out) => sampsonRange(E, x1, x2, out, 0, n),
    residualsRange: (E, out, from, to) => sampsonRange(E, x1, x2, out, from, to),
  }, th * th, opts);
  if (!res) return null;
  const pose0 = recoverPose(res.model, x1, x2, res.inliers);
  const pose = refineRelativePose(pose0.R, pose0.t, x1, x2, res.inliers);
  const E = normalizeFrobenius(skewMul(pose.t, pose.R));
  // Inliers of the refined model (its errors are slightly different from the RANSAC model's).
  const inliers = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) if (sampsonError(E, x1[2 * i]!, x1[2 * i + 1]!, x2[2 * i]!, x2[2 * i + 1]!) < th * th) { inliers[i] = 1; count++; }
  if (count < res.numInliers * 0.9) return { ...res, R: pose0.R, t: pose0.t }; // refinement went astray: keep RANSAC's
  return { model: E, inliers, numInliers: count, iterations: res.iterations, R: pose.R, t: pose.t };
}

/** Fundamental matrix from pixel correspondences (seven-point samples, eight-point refits); maxError: Sampson distance in pixels. */
export function estimateFundamental(x1px: Float64Array, x2px: Float64Array, opts: RansacOptions): RansacResult<number[]> | null {
  const n = Math.min(x1px.length, x2px.length) / 2;
  if (n < 7) return null;
  return loRansac<number[]>({
    n,
    sampleSize: 7,
    minimal: (idx) => fundamentalSevenPoint(subset(x1px, idx), subset(x2px, idx)),
    nonMinimal: (idx) => { const F = fundamentalEightPoint(subset(x1px, idx), subset(x2px, idx)); return F ? [F] : []; },
    residuals: (F, out) => sampsonRange(F, x1px, x2px, out, 0, n),
    residualsRange: (F, out, from, to) => sampsonRange(F, x1px, x2px, out, from, to),
  }, opts.maxError * opts.maxError, opts);
}

/** Homography x2 ~ H x1 from pixel correspondences; maxError: transfer error in image-2 pixels. */
export function estimateHomography(x1px: Float64Array, x2px: Float64Array, opts: RansacOptions): RansacResult<number[]> | null {
  const n = Math.min(x1px.length, x2px.length) / 2;
  if (n < 4) return null;
  return loRansac<number[]>({
    n,
    sampleSize: 4,
    minimal: (idx) => { const H = homographyDLT(subset(x1px, idx), subset(x2px, idx)); return H ? [H] : []; },
    nonMinimal: (idx) => { const H = homographyDLT(subset(x1px, idx), subset(x2px, idx)); return H ? [H] : []; },
    residuals: (H, out) => transferRange(H, x1px, x2px, out, 0, n),
    residualsRange: (H, out, from, to) => transferRange(H, x1px, x2px, out, from, to),
  }, opts.maxError * opts.maxError, opts);
}

function sampsonRange(F: number[], x1: Float64Array, x2: Float64Array, out: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) out[i] = sampsonError(F, x1[2 * i]!, x1[2 * i + 1]!, x2[2 * i]!, x2[2 * i + 1]!);
}

function transferRange(H: number[], x1: Float64Array, x2: Float64Array, out: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) out[i] = homographyError(H, x1[2 * i]!, x1[2 * i + 1]!, x2[2 * i]!, x2[2 * i + 1]!);
}

