/** Triangulation of a point seen in several views (DLT) and the triangulation angle. */
import { svd } from './linalg.js';

/**
 * Linear triangulation: rows x·P₃ − P₁ and y·P₃ − P₂ per view (each scaled to unit norm for
 * conditioning), null vector by SVD. Ps are 3×4 row-major: [R|t] with normalised xs, or K[R|t] with
 * pixels. Returns null for a point at infinity or not finite.
 */
export function triangulateDLT(Ps: number[][], xs: Array<[number, number]>): [number, number, number] | null {
  const n = Ps.length;
  if (n < 2 || xs.length !== n) return null;
  const A = new Float64Array(2 * n * 4);
  for (let v = 0; v < n; v++) {
    const P = Ps[v]!, [x, y] = xs[v]!;
    for (let r = 0; r < 2; r++) {
      const c = r === 0 ? x : y;
      let s = 0;
      for (let j = 0; j < 4; j++) {
        const val = c * P[8 + j]! - P[r * 4 + j]!;
        A[(2 * v + r) * 4 + j] = val;
        s += val * val;
      }
      s = Math.sqrt(s);
      if (s > 0) for (let j = 0; j < 4; j++) A[(2 * v + r) * 4 + j]! /= s;
    }
  }
  const { V } = svd(A, 2 * n, 4);
  const w = V[15]!;
  if (!(Math.abs(w) > 1e-14)) return null;
  const X: [number, number, number] = [V[3]! / w, V[7]! / w, V[11]! / w];
  return X.every(Number.isFinite) ? X : null;
}

/** Angle (degrees) at X between the rays to the camera centres c1 and c2. */
export function triangulationAngleDeg(c1: readonly number[], c2: readonly number[], X: readonly number[]): number {
  const a0 = c1[0]! - X[0]!, a1 = c1[1]! - X[1]!, a2 = c1[2]! - X[2]!;
  const b0 = c2[0]! - X[0]!, b1 = c2[1]! - X[1]!, b2 = c2[2]! - X[2]!;
  const cr = Math.hypot(a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0);
  return (Math.atan2(cr, a0 * b0 + a1 * b1 + a2 * b2) * 180) / Math.PI;
}

/**
 * Two-view triangulation of normalised points for cheirality tests: depths (d1, d2) minimising
 * |d2·x2 − (R·d1·x1 + t)|. Writes X (camera-1 frame) into out; returns false when the rays are parallel.
 */
export function triangulateDepths(R: ArrayLike<number>, t: ArrayLike<number>, u1: number, v1: number, u2: number, v2: number, out: Float64Array | number[]): boolean {
  const a0 = R[0]! * u1 + R[1]! * v1 + R[2]!, a1 = R[3]! * u1 + R[4]! * v1 + R[5]!, a2 = R[6]! * u1 + R[7]! * v1 + R[8]!;
  // Solve [a, -x2] [d1; d2] = -t in least squares.
  const b0 = -u2, b1 = -v2, b2 = -1;
  const aa = a0 * a0 + a1 * a1 + a2 * a2, ab = a0 * b0 + a1 * b1 + a2 * b2, bb = b0 * b0 + b1 * b1 + b2 * b2;
  const at = -(a0 * t[0]! + a1 * t[1]! + a2 * t[2]!), bt = -(b0 * t[0]! + b1 * t[1]! + b2 * t[2]!);
  const det = aa * bb - ab * ab;
  if (!(det > 1e-14 * aa * bb)) return false;
  const d1 = (bb * at - ab * bt) / det, d2 = (aa * bt - ab * at) / det;
  out[0] = d1 * u1; out[1] = d1 * v1; out[2] = d1; out[3] = d2;
  return true;
}

/** Widest angle (degrees) at X between the rays to any two of the centres. */
export function maxAngleDeg(centres: number[][], X: readonly number[]): number {
  let best = 0;
  const dirs = centres.map((c) => {
    const d = [c[0]! - X[0]!, c[1]! - X[1]!, c[2]! - X[2]!];
    const n = Math.hypot(d[0]!, d[1]!, d[2]!) || 1;
    return [d[0]! / n, d[1]! / n, d[2]! / n];
  });
  for (let a = 0; a < dirs.length; a++) {
    for (let b = a + 1; b < dirs.length; b++) {
      const c = dirs[a]![0]! * dirs[b]![0]! + dirs[a]![1]! * dirs[b]![1]! + dirs[a]![2]! * dirs[b]![2]!;
      best = Math.max(best, (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI);
    }
  }
  return best;
}
