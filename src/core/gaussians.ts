/**
 * The Gaussian scene as flat arrays: the layout the rasterizer (WGSL kernels and their TypeScript
 * reference), the trainer, the file formats (.ply, .spz) and asset extraction all share.
 * SH coefficients are stored for degree 3 always (16 per channel), laid out
 * [gaussian][coefficient][rgb]; colour = 0.5 + SH·basis (as 3DGS), clamped at 0 from below.
 */

/** SH coefficients per colour channel at degree 3 (the stored layout's row length / 3). */
export const SH_COEFFS = 16;

export interface GaussianParams {
  count: number;
  /** N×3 world positions */
  means: Float32Array;
  /** N×3 log standard deviations */
  logScales: Float32Array;
  /** N×4 quaternions (w, x, y, z), not necessarily normalised (normalised inside) */
  quats: Float32Array;
  /** N opacity logits (opacity = sigmoid) */
  opacityLogits: Float32Array;
  /** N×16×3 SH coefficients */
  sh: Float32Array;
}
