/**
 * Fundamental matrix x2ᵀ F x1 = 0: seven-point (minimal, up to three solutions) and Hartley-normalised
 * eight-point (least squares, rank 2 enforced) solvers. Points are interleaved Float64Arrays.
 */
import { det3, matMul, nullSpace, realPolyRoots, svd } from './linalg.js';
import { hartleyNormalize, normalizeFrobenius } from './normalize.js';
import { transpose3 } from './rotation.js';

/** The n×9 design matrix of the epipolar constraint, row [x2x1, x2y1, x2, y2x1, y2y1, y2, x1, y1, 1]. */
export function epipolarDesign(x1: Float64Array, x2: Float64Array): Float64Array {
  const n = x1.length / 2;
  const A = new Float64Array(n * 9);
  for (let i = 0; i < n; i++) {
    const u1 = x1[2 * i]!, v1 = x1[2 * i + 1]!, u2 = x2[2 * i]!, v2 = x2[2 * i + 1]!, o = i * 9;
    // element by element: this runs for every RANSAC sample, an array literal per row would be garbage
    A[o] = u2 * u1; A[o + 1] = u2 * v1; A[o + 2] = u2; A[o + 3] = v2 * u1; A[o + 4] = v2 * v1; A[o + 5] = v2; A[o + 6] = u1; A[o + 7] = v1; A[o + 8] = 1;
  }
  return A;
}

/** F = T2ᵀ F̂ T1, Frobenius-normalised. */
function denormalize(Fn: number[], T1: number[], T2: number[]): number[] {
  return normalizeFrobenius(matMul(matMul(transpose3(T2), Fn, 3, 3, 3), T1, 3, 3, 3));
}

export function fundamentalSevenPoint(x1: Float64Array, x2: Float64Array): number[][] {
  if (x1.length < 14 || x1.length !== x2.length) return [];
  const a = hartleyNormalize(x1), b = hartleyNormalize(x2);
  const [F1, F2] = nullSpace(epipolarDesign(a.xn, b.xn), x1.length / 2, 9, 2) as [number[], number[]];
  // det(F2 + s (F1 - F2)) is a cubic in s: interpolate it from four samples.
  const D = F1.map((v, i) => v - F2[i]!);
  const f = (s: number) => det3(F2.map((v, i) => v + s * D[i]!));
  const y0 = f(0), y1 = f(1), ym = f(-1), y2 = f(2);
  // Newton form → ascending coefficients c0..c3.
  const c3 = (y2 - 3 * y1 + 3 * y0 - ym) / 6;
  const c2 = (y1 + ym) / 2 - y0;
  const c1 = (y1 - ym) / 2 - c3;
  const out: number[][] = [];
  for (const s of realPolyRoots([y0, c1, c2, c3])) out.push(denormalize(F2.map((v, i) => v + s * D[i]!), a.T, b.T));
  return out;
}

export function fundamentalEightPoint(x1: Float64Array, x2: Float64Array): number[] | null {
  const n = x1.length / 2;
  if (n < 8 || x1.length !== x2.length) return null;
  const a = hartleyNormalize(x1), b = hartleyNormalize(x2);
  const [f] = nullSpace(epipolarDesign(a.xn, b.xn), n, 9, 1) as [number[]];
  if (!f.every(Number.isFinite)) return null;
  return denormalize(enforceRank2(f), a.T, b.T);
}

/** Nearest rank-2 matrix (Frobenius): zero the smallest singular value. */
export function enforceRank2(F: number[]): number[] {
  const { U, S, V } = svd(F, 3, 3);
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let k = 0; k < 2; k++) s += U[i * 3 + k]! * S[k]! * V[j * 3 + k]!;
    out[i * 3 + j] = s;
  }
  return out;
}

/** Sampson distance² of x2ᵀ F x1 (same units as the points F maps). */
export function sampsonError(F: ArrayLike<number>, u1: number, v1: number, u2: number, v2: number): number {
  const Fx0 = F[0]! * u1 + F[1]! * v1 + F[2]!, Fx1 = F[3]! * u1 + F[4]! * v1 + F[5]!, Fx2 = F[6]! * u1 + F[7]! * v1 + F[8]!;
  const Ftx0 = F[0]! * u2 + F[3]! * v2 + F[6]!, Ftx1 = F[1]! * u2 + F[4]! * v2 + F[7]!;
  const e = u2 * Fx0 + v2 * Fx1 + Fx2;
  const d = Fx0 * Fx0 + Fx1 * Fx1 + Ftx0 * Ftx0 + Ftx1 * Ftx1;
  return d > 0 ? (e * e) / d : Infinity;
}
