/** Homography x2 ~ H x1 by the Hartley-normalised DLT (≥ 4 points). */
import { matMul, nullSpace } from './linalg.js';
import { hartleyNormalize, invertSimilarity2D } from './normalize.js';

export function homographyDLT(x1: Float64Array, x2: Float64Array): number[] | null {
  const n = x1.length / 2;
  if (n < 4 || x1.length !== x2.length) return null;
  const a = hartleyNormalize(x1), b = hartleyNormalize(x2);
  const A = new Float64Array(2 * n * 9);
  for (let i = 0; i < n; i++) {
    const u1 = a.xn[2 * i]!, v1 = a.xn[2 * i + 1]!, u2 = b.xn[2 * i]!, v2 = b.xn[2 * i + 1]!;
    // element by element (zeros are already there): this runs for every RANSAC sample
    const o = 18 * i;
    A[o + 3] = -u1; A[o + 4] = -v1; A[o + 5] = -1; A[o + 6] = v2 * u1; A[o + 7] = v2 * v1; A[o + 8] = v2;
    A[o + 9] = u1; A[o + 10] = v1; A[o + 11] = 1; A[o + 15] = -u2 * u1; A[o + 16] = -u2 * v1; A[o + 17] = -u2;
  }
  const [h] = nullSpace(A, 2 * n, 9, 1) as [number[]];
  const H = matMul(matMul(invertSimilarity2D(b.T), h, 3, 3, 3), a.T, 3, 3, 3);
  const s = Math.abs(H[8]!) > 1e-12 * Math.hypot(...H) ? H[8]! : Math.hypot(...H);
  if (!(Math.abs(s) > 0) || !H.every(Number.isFinite)) return null;
  return H.map((v) => v / s);
}

/** Squared transfer error |x2 - H x1|² (in the units of x2); Infinity when x1 maps to infinity. */
export function homographyError(H: ArrayLike<number>, u1: number, v1: number, u2: number, v2: number): number {
  const w = H[6]! * u1 + H[7]! * v1 + H[8]!;
  if (Math.abs(w) < 1e-15) return Infinity;
  const du = (H[0]! * u1 + H[1]! * v1 + H[2]!) / w - u2, dv = (H[3]! * u1 + H[4]! * v1 + H[5]!) / w - v2;
  return du * du + dv * dv;
}
