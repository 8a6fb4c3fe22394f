/**
 * The contract between the Gaussian rasterizer (WGSL kernels and their TypeScript reference) and
 * its users (trainer, eval, bench). Both implementations take and return the same structures, so
 * tests compare them directly.
 *
 * Conventions: camera pose world-to-camera (x_cam = R·X + t, R row-major), OpenCV axes, pixel
 * centres at +0.5, images row-major from the top-left. SH coefficients are stored for degree 3
 * always (16 per channel), laid out [gaussian][coefficient][rgb]; `shDegree` selects how many are
 * used. Colour = 0.5 + SH·basis (as 3DGS), clamped at 0 from below.
 */

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

export interface RasterCamera {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  /** world-to-camera rotation, row-major 3×3 */
  R: ArrayLike<number>;
  /** world-to-camera translation */
  t: ArrayLike<number>;
  near?: number; // default 0.01
  far?: number; // default 1e4
}

export interface RasterOptions {
  shDegree: number; // 0..3
  background: [number, number, number];
  /** Mip-Splatting / gsplat "antialiased": 2D dilation with opacity compensation */
  antialiased: boolean;
  /** screen-space dilation added to the 2D covariance diagonal (pixels²) */
  eps2d: number; // 0.3
  tileSize: number; // 16
}

export const defaultRasterOptions: RasterOptions = {
  shDegree: 3,
  background: [0, 0, 0],
  antialiased: false,
  eps2d: 0.3,
  tileSize: 16,
};

export interface RasterOutput {
  /** H×W×3 */
  rgb: Float32Array;
  /** H×W accumulated alpha (1 − final transmittance) */
  alpha: Float32Array;
  /** H×W expected depth (Σ wᵢ zᵢ, not normalised by alpha) */
  depth: Float32Array;
  /** number of Gaussians that survived culling */
  visible: number;
}

export interface RasterGradients {
  means: Float32Array;
  logScales: Float32Array;
  quats: Float32Array;
  opacityLogits: Float32Array;
  sh: Float32Array;
  /**
   * Gradient w.r.t. a left-multiplied pose perturbation of the world-to-camera transform,
   * T ← exp([ω, v]^) · T: [dω (3), dv (3)].
   */
  pose: Float64Array;
  /** per-Gaussian ‖∂L/∂mean2D‖ in pixels (what 3DGS densification accumulates) */
  means2dGradNorm: Float32Array;
}

export interface RasterUpstream {
  rgb: Float32Array;
  alpha?: Float32Array;
  depth?: Float32Array;
}
