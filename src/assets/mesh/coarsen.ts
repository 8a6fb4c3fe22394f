/**
 * Fewer Gaussians for the extraction renders, chosen by the render's own resolution. Gaussians far
 * below a pixel are drawn as the rasterizer's dilated one-pixel blob whatever their size, so a
 * million of them on an object cost sort and compositing time without adding detail. Each
 * Gaussian whose footprint (product of its two largest standard deviations) is under the target
 * area A = (ρ·pixel)² is kept with probability q = footprint / A and, when kept, scaled by
 * 1/√q on every axis: its footprint becomes A, its shape (a flat splat stays flat) and orientation
 * stay, and the expected projected area — the coverage the depth and alpha renders see — is that of
 * the original set from every direction. Gaussians at or above A are kept unchanged, so coarse
 * scenes (and every Gaussian that matters on its own) render as before.
 */
import type { GaussianParams } from '../../core/gaussians.js';

/** Kept blobs' standard deviation in pixels (default ½: the dilated blob is about one pixel). */
export const COARSEN_SIGMA_PX = 0.5;

export function coarsenForRender(p: GaussianParams, pixel: number, sigmaPx = COARSEN_SIGMA_PX): GaussianParams {
  const A = (sigmaPx * pixel) ** 2;
  if (!(A > 0)) return p;
  const n = p.count;
  const keep = new Int32Array(n);
  const grow = new Float32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = p.logScales[3 * i]!, b = p.logScales[3 * i + 1]!, c = p.logScales[3 * i + 2]!;
    const footprint = Math.exp(a + b + c - Math.min(a, b, c));
    const q = footprint / A;
    if (q >= 1) { keep[m] = i; grow[m++] = 0; continue; }
    if (unitHash(i) < q) { keep[m] = i; grow[m++] = -0.5 * Math.log(q); }
  }
  if (m === n) return p;
  const S = p.sh.length / Math.max(1, n);
  const out: GaussianParams = { count: m, means: new Float32Array(3 * m), logScales: new Float32Array(3 * m), quats: new Float32Array(4 * m), opacityLogits: new Float32Array(m), sh: new Float32Array(S * m) };
  for (let k = 0; k < m; k++) {
    const i = keep[k]!, g = grow[k]!;
    out.means.set(p.means.subarray(3 * i, 3 * i + 3), 3 * k);
    for (let a = 0; a < 3; a++) out.logScales[3 * k + a] = p.logScales[3 * i + a]! + g;
    out.quats.set(p.quats.subarray(4 * i, 4 * i + 4), 4 * k);
    out.opacityLogits[k] = p.opacityLogits[i]!;
    out.sh.set(p.sh.subarray(S * i, S * i + S), S * k);
  }
  return out;
}

/**
 * A fixed pseudo-random number in [0, 1) per index (a 32-bit integer hash): the same Gaussians are
 * kept for every view, so the views agree on the surface they fuse.
 */
function unitHash(i: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

/**
 * World size of the finest pixel over `cams` at the object's centre: distance to the centre over the
 * focal length, the smallest over the views.
 */
export function finestPixel(cams: { R: ArrayLike<number>; t: ArrayLike<number>; fx: number; fy: number }[], center: [number, number, number]): number {
  let best = Infinity;
  for (const c of cams) {
    const R = c.R, t = c.t;
    const z = R[6]! * center[0] + R[7]! * center[1] + R[8]! * center[2] + t[2]!;
    if (z > 0) best = Math.min(best, z / Math.max(c.fx, c.fy));
  }
  return Number.isFinite(best) ? best : 0;
}
