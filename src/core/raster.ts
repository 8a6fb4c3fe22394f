/**
 * The contract between the Gaussian rasterizer (WGSL kernels and their TypeScript reference) and
 * its users (trainer, eval, bench, asset extraction). Both implementations take and return the same
 * structures, so tests compare them directly; the constants here are the ones both compile in.
 *
 * Conventions: camera pose world-to-camera (x_cam = R·X + t, R row-major), OpenCV axes, pixel
 * centres at +0.5, images row-major from the top-left.
 */
import type { Pinhole } from './camera.js';

/** Compositing: a Gaussian contributes to a pixel only with alpha ≥ ALPHA_MIN ... */
export const ALPHA_MIN = 1 / 255;
/** ... alpha is clamped at ALPHA_MAX ... */
export const ALPHA_MAX = 0.99;
/** ... and a pixel stops once its transmittance falls below T_MIN. */
export const T_MIN = 1e-4;

export interface RasterCamera extends Pinhole {
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

export interface PreparedCamera extends Pinhole {
  R: number[];
  t: number[];
  /** camera centre in world coordinates, −Rᵀt */
  campos: number[];
  near: number;
  far: number;
  limXPos: number;
  limXNeg: number;
  limYPos: number;
  limYNeg: number;
}

export function prepareCamera(cam: RasterCamera): PreparedCamera {
  const R = Array.from(cam.R, Number);
  const t = Array.from(cam.t, Number);
  const campos = [
    -(R[0]! * t[0]! + R[3]! * t[1]! + R[6]! * t[2]!),
    -(R[1]! * t[0]! + R[4]! * t[1]! + R[7]! * t[2]!),
    -(R[2]! * t[0]! + R[5]! * t[1]! + R[8]! * t[2]!),
  ];
  const tanFovX = (0.5 * cam.width) / cam.fx;
  const tanFovY = (0.5 * cam.height) / cam.fy;
  return {
    width: cam.width,
    height: cam.height,
    fx: cam.fx,
    fy: cam.fy,
    cx: cam.cx,
    cy: cam.cy,
    R,
    t,
    campos,
    near: cam.near ?? 0.01,
    far: cam.far ?? 1e4,
    limXPos: (cam.width - cam.cx) / cam.fx + 0.3 * tanFovX,
    limXNeg: cam.cx / cam.fx + 0.3 * tanFovX,
    limYPos: (cam.height - cam.cy) / cam.fy + 0.3 * tanFovY,
    limYNeg: cam.cy / cam.fy + 0.3 * tanFovY,
  };
}
