/**
 * The asset frame: +Y up, origin at the bottom centre on the ground, metres when the scale is
 * known. Built from the scene's up vector, an optional ground plane (else the lowest Gaussians of
 * the cut along up), and the metric factor.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import type { Similarity } from './transform-gaussians.js';

/** n·x + d = 0 with unit n pointing up (scene coordinates). */
export interface GroundPlane {
  normal: [number, number, number];
  d: number;
}

/** Rotation (row-major) taking unit `up` to +Y by the shortest arc. */
export function rotationUpToY(up: [number, number, number]): number[] {
  const l = Math.hypot(...up);
  const u = [up[0] / l, up[1] / l, up[2] / l];
  // axis = u × Y, cos = u·Y
  const ax = [-u[2]!, 0, u[0]!], c = u[1]!, s = Math.hypot(ax[0]!, ax[2]!);
  if (s < 1e-12) return c > 0 ? [1, 0, 0, 0, 1, 0, 0, 0, 1] : [1, 0, 0, 0, -1, 0, 0, 0, -1];
  const k = [ax[0]! / s, 0, ax[2]! / s];
  const K = [0, -k[2]!, k[1]!, k[2]!, 0, -k[0]!, -k[1]!, k[0]!, 0];
  const KK = [0, 1, 2].flatMap((r) => [0, 1, 2].map((q) => K[3 * r]! * K[q]! + K[3 * r + 1]! * K[3 + q]! + K[3 * r + 2]! * K[6 + q]!));
  return [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => (i % 4 === 0 ? 1 : 0) + s * K[i]! + (1 - c) * KK[i]!);
}

/**
 * `R` (up → +Y) followed by the yaw about +Y that turns the horizontal direction `heading` (scene
 * frame: an object's long side, the x axis of its upright box) into +X, so the asset's extents
 * are along its own sides. Unchanged without a heading, or when it is (nearly) vertical.
 */
export function headingToX(R: number[], heading?: ArrayLike<number>): number[] {
  if (!heading) return R;
  const h = [0, 1, 2].map((r) => R[3 * r]! * heading[0]! + R[3 * r + 1]! * heading[1]! + R[3 * r + 2]! * heading[2]!);
  const l = Math.hypot(h[0]!, h[2]!);
  if (!(l > 1e-6)) return R;
  const c = h[0]! / l, s = h[2]! / l;
  // Ry = [c 0 s; 0 1 0; −s 0 c] maps (c, ·, s) to +X
  const Ry = [c, 0, s, 0, 1, 0, -s, 0, c];
  return [0, 1, 2].flatMap((r) => [0, 1, 2].map((q) => Ry[3 * r]! * R[q]! + Ry[3 * r + 1]! * R[3 + q]! + Ry[3 * r + 2]! * R[6 + q]!));
}

/** q-quantile of an array (copy sorted). */
function quantile(a: Float64Array, q: number): number {
  const s = Float64Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * (s.length - 1) + 0.5)))]!;
}

/** Fraction of extreme Gaussian centres dropped per side and axis when measuring an asset's extents (stray splats). */
export const ASSET_EXTENT_TRIM = 5e-4;

export interface AssetFrame {
  T: Similarity;
  /** asset-frame extents of the Gaussian centres (trimmed by `trim` at each end) */
  extents: [number, number, number];
}

/**
 * The scene→asset similarity. `trim` drops that fraction of extreme centres per side and axis
 * (stray Gaussians); the bottom is the ground plane when given, else the trimmed lowest centre.
 */
export function assetFrame(p: GaussianParams, indices: ArrayLike<number>, up: [number, number, number], scale: number, ground?: GroundPlane, trim = ASSET_EXTENT_TRIM, heading?: ArrayLike<number>): AssetFrame {
  const R = headingToX(rotationUpToY(up), heading);
  const n = indices.length;
  const cols = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    const x = p.means[3 * i]!, y = p.means[3 * i + 1]!, z = p.means[3 * i + 2]!;
    for (let r = 0; r < 3; r++) cols[r]![k] = R[3 * r]! * x + R[3 * r + 1]! * y + R[3 * r + 2]! * z;
  }
  const lo = cols.map((c) => quantile(c, trim)), hi = cols.map((c) => quantile(c, 1 - trim));
  let bottom = lo[1]!;
  if (ground) {
    // height of the plane along the rotated up axis (the plane's normal ≈ up)
    const nl = Math.hypot(...ground.normal);
    bottom = -ground.d / nl;
  }
  const cx = (lo[0]! + hi[0]!) / 2, cz = (lo[2]! + hi[2]!) / 2;
  const T: Similarity = { R, s: scale, t: [-scale * cx, -scale * bottom, -scale * cz] };
  return { T, extents: [scale * (hi[0]! - lo[0]!), scale * (hi[1]! - bottom), scale * (hi[2]! - lo[2]!)] };
}
