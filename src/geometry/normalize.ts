/** Hartley normalisation of 2D point sets: centroid to the origin, mean distance √2. */

/** Returns the normalised copy and the 3×3 similarity T (row-major) with x̂ = T x. */
export function hartleyNormalize(x: Float64Array): { xn: Float64Array; T: number[] } {
  const n = x.length / 2;
  let cx = 0, cy = 0;
  for (let i = 0; i < n; i++) { cx += x[2 * i]!; cy += x[2 * i + 1]!; }
  cx /= n; cy /= n;
  let d = 0;
  for (let i = 0; i < n; i++) d += Math.hypot(x[2 * i]! - cx, x[2 * i + 1]! - cy);
  d /= n;
  const s = d > 0 ? Math.SQRT2 / d : 1;
  const xn = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) { xn[2 * i] = (x[2 * i]! - cx) * s; xn[2 * i + 1] = (x[2 * i + 1]! - cy) * s; }
  return { xn, T: [s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1] };
}

/** Inverse of a Hartley normalisation matrix [s 0 tx; 0 s ty; 0 0 1]. */
export function invertSimilarity2D(T: readonly number[]): number[] {
  const s = T[0]!;
  return [1 / s, 0, -T[2]! / s, 0, 1 / s, -T[5]! / s, 0, 0, 1];
}

/** Frobenius normalisation of a matrix, in place; returns it. */
export function normalizeFrobenius(m: number[]): number[] {
  let s = 0;
  for (const v of m) s += v * v;
  s = Math.sqrt(s);
  if (s > 0) for (let i = 0; i < m.length; i++) m[i] = m[i]! / s;
  return m;
}
