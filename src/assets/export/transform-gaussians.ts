/**
 * Similarity transform of Gaussians, x' = s·R·x + t, done fully: means moved, rotations composed
 * (q' = q_R ⊗ q), log-scales shifted by ln s, and the view-dependent colour rotated — SH degree
 * 1..3 coefficient blocks are multiplied by the rotation's matrix in the real SH basis the
 * rasterizer evaluates (src/scene/raster/sh.ts), found numerically: colour must satisfy
 * f'(d) = f(Rᵀd), so with Y the basis at sample directions dₖ, Y(dₖ)·c' = Y(Rᵀdₖ)·c for every
 * band, solved by least squares once per rotation.
 */
import { SH_COEFFS, type GaussianParams } from '../../core/gaussians.js';
import { matToQuat } from '../../geometry/rotation.js';
import { shBasis } from '../../scene/raster/sh.js';

/** Row-major 3×3 rotation, scale and translation: x' = s·R·x + t. */
export interface Similarity {
  R: number[];
  s: number;
  t: [number, number, number];
}

export function applySimilarity(T: Similarity, x: ArrayLike<number>): [number, number, number] {
  const R = T.R;
  return [0, 1, 2].map((r) => T.s * (R[3 * r]! * x[0]! + R[3 * r + 1]! * x[1]! + R[3 * r + 2]! * x[2]!) + T.t[r]!) as [number, number, number];
}

/** Per band l = 1..3, the (2l+1)² matrix M with c'_band = M · c_band. */
export function shRotationMatrices(R: ArrayLike<number>): number[][] {
  const dirs: [number, number, number][] = [];
  // Fibonacci sphere: well-spread directions, 32 of them (≥ 2·7 per band keeps it well posed)
  for (let k = 0; k < 32; k++) {
    const z = 1 - (2 * (k + 0.5)) / 32, r = Math.sqrt(1 - z * z), phi = k * Math.PI * (3 - Math.sqrt(5));
    dirs.push([r * Math.cos(phi), r * Math.sin(phi), z]);
  }
  const Y = new Float64Array(16), Yr = new Float64Array(16);
  const A: number[][] = [], B: number[][] = [];
  for (const d of dirs) {
    shBasis(3, d[0], d[1], d[2], Y);
    // Rᵀd
    const x = R[0]! * d[0] + R[3]! * d[1] + R[6]! * d[2];
    const y = R[1]! * d[0] + R[4]! * d[1] + R[7]! * d[2];
    const z = R[2]! * d[0] + R[5]! * d[1] + R[8]! * d[2];
    shBasis(3, x, y, z, Yr);
    A.push(Array.from(Y));
    B.push(Array.from(Yr));
  }
  const out: number[][] = [];
  for (let l = 1; l <= 3; l++) {
    const lo = l * l, n = 2 * l + 1;
    // normal equations (AᵀA) M = AᵀB on this band's columns
    const AtA = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => dirs.reduce((s, _d, k) => s + A[k]![lo + i]! * A[k]![lo + j]!, 0)));
    const AtB = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => dirs.reduce((s, _d, k) => s + A[k]![lo + i]! * B[k]![lo + j]!, 0)));
    out.push(solve(AtA, AtB).flat());
  }
  return out;
}

/** Gauss–Jordan solve of A X = B (small, well-conditioned). */
function solve(A: number[][], B: number[][]): number[][] {
  const n = A.length, a = A.map((r) => [...r]), b = B.map((r) => [...r]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    [b[c], b[p]] = [b[p]!, b[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = 0; k < n; k++) { a[r]![k]! -= f * a[c]![k]!; b[r]![k]! -= f * b[c]![k]!; }
    }
  }
  return b.map((row, i) => row.map((v) => v / a[i]![i]!));
}

/**
 * The Gaussians `indices` of `src` (all when omitted), transformed by `T`. Bands above `shDegree`
 * are left zero (a degree-0 scene has none to rotate: skipping them is a fifth of a 1M extract).
 */
export function transformGaussians(src: GaussianParams, T: Similarity, indices?: ArrayLike<number>, shDegree = 3): GaussianParams {
  const n = indices ? indices.length : src.count;
  const at = (k: number) => (indices ? indices[k]! : k);
  const out: GaussianParams = {
    count: n,
    means: new Float32Array(n * 3),
    logScales: new Float32Array(n * 3),
    quats: new Float32Array(n * 4),
    opacityLogits: new Float32Array(n),
    sh: new Float32Array(n * SH_COEFFS * 3),
  };
  const qR = matToQuat(T.R);
  const [rw, rx, ry, rz] = [qR[0]!, qR[1]!, qR[2]!, qR[3]!];
  const lns = Math.log(T.s);
  const M = shRotationMatrices(T.R);
  const S = SH_COEFFS * 3;
  for (let k = 0; k < n; k++) {
    const i = at(k);
    out.means.set(applySimilarity(T, src.means.subarray(3 * i, 3 * i + 3)), 3 * k);
    for (let a = 0; a < 3; a++) out.logScales[3 * k + a] = src.logScales[3 * i + a]! + lns;
    const w = src.quats[4 * i]!, x = src.quats[4 * i + 1]!, y = src.quats[4 * i + 2]!, z = src.quats[4 * i + 3]!;
    out.quats[4 * k] = rw * w - rx * x - ry * y - rz * z;
    out.quats[4 * k + 1] = rw * x + rx * w + ry * z - rz * y;
    out.quats[4 * k + 2] = rw * y - rx * z + ry * w + rz * x;
    out.quats[4 * k + 3] = rw * z + rx * y - ry * x + rz * w;
    out.opacityLogits[k] = src.opacityLogits[i]!;
    const si = i * S, so = k * S;
    for (let c = 0; c < 3; c++) out.sh[so + c] = src.sh[si + c]!;
    for (let l = 1; l <= shDegree; l++) {
      const lo = l * l, nb = 2 * l + 1, m = M[l - 1]!;
      for (let r = 0; r < nb; r++) for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let j = 0; j < nb; j++) acc += m[r * nb + j]! * src.sh[si + 3 * (lo + j) + c]!;
        out.sh[so + 3 * (lo + r) + c] = acc;
      }
    }
  }
  return out;
}

/** Several Gaussian sets in one. */
export function concatGaussians(parts: GaussianParams[]): GaussianParams {
  const n = parts.reduce((s, p) => s + p.count, 0);
  const out: GaussianParams = { count: n, means: new Float32Array(n * 3), logScales: new Float32Array(n * 3), quats: new Float32Array(n * 4), opacityLogits: new Float32Array(n), sh: new Float32Array(n * SH_COEFFS * 3) };
  let o = 0;
  for (const p of parts) {
    out.means.set(p.means, 3 * o); out.logScales.set(p.logScales, 3 * o); out.quats.set(p.quats, 4 * o);
    out.opacityLogits.set(p.opacityLogits, o); out.sh.set(p.sh, SH_COEFFS * 3 * o);
    o += p.count;
  }
  return out;
}
