/**
 * Camera refinement against the current scene by Gauss-Newton: per-view pose (6-DoF) and a
 * per-camera focal scale, solved jointly.
 *
 * Why not only Adam on the per-step pose gradient (what the trainer did first): a camera's rotation
 * and translation are strongly correlated — orbiting a compact scene by θ while sliding by θ·depth
 * barely changes the image — and Adam scales each coordinate on its own, so it crawls along that
 * valley while the scene's Gaussians drift to absorb what is left (measured: 1° noise plateaued at
 * ~0.6°). Gauss-Newton solves the 6×6 normal equations of each view and crosses the valley in one
 * step; the focal scale, shared by all views of a camera, enters through a Schur complement — the
 * same structure as bundle adjustment (src/sfm/bundle.ts), with photometric residuals.
 *
 * The Jacobian of the rendered image comes from forward differences of renders (7 per view: the
 * rasterizer is deterministic and smooth in the camera, and its analytic gradient gives only Jᵀr,
 * not J). Residuals use the trainer's prediction (photometric model included) and Huber weights,
 * so pixels the scene does not yet explain (disocclusions, specular spots) do not pull the camera.
 */
import type { RasterCamera } from '../../core/raster.js';
import { choleskySolve } from '../../geometry/linalg.js';
import { expSO3, matMul3, matVec3 } from '../../geometry/rotation.js';

/** Number of unknowns per view in a ViewSystem: ω (3), v (3), focal scale (1). */
export const VIEW_PARAMS = 7;

export interface CameraRefineOptions {
  /** forward-difference step for rotation, radians */
  epsRotation: number;
  /** forward-difference step for translation, as a fraction of the view's scene depth */
  epsTranslation: number;
  /** forward-difference step for the focal scale (relative) */
  epsFocal: number;
  /** Huber threshold on a pixel channel's residual, in units of the robust residual σ ... */
  huberSigmas: number;
  /** ... but never below this (intensity units, 0..1): a well-fitted scene's tiny σ would
   *  otherwise turn Gauss-Newton into slow IRLS-L1 */
  huberMin: number;
  /** Levenberg-Marquardt damping, relative to the normal matrix diagonal */
  damping: number;
  /** largest rotation step per pass (radians); larger solutions are scaled down */
  maxRotationStep: number;
  /** largest relative focal change per pass */
  maxFocalStep: number;
  /** Gauss-Newton iterations per pass (each re-linearises: 8 renders per view) */
  iterationsPerPass: number;
}

export const defaultCameraRefineOptions: CameraRefineOptions = {
  epsRotation: 5e-4,
  epsTranslation: 5e-4,
  epsFocal: 5e-4,
  huberSigmas: 3,
  huberMin: 0.05,
  damping: 1e-3,
  maxRotationStep: 0.01,
  maxFocalStep: 0.01,
  iterationsPerPass: 1,
};

/** Normal equations of one view: H (7×7, row-major) and b = −Jᵀ W r, with the cost ½ rᵀ W r. */
export interface ViewSystem {
  H: Float64Array;
  b: Float64Array;
  cost: number;
}

/** Left-multiplied pose update T ← exp([ω, v]^)·T of a world-to-camera pose. */
export function perturbPose(R: ArrayLike<number>, t: ArrayLike<number>, delta: ArrayLike<number>): { R: number[]; t: number[] } {
  const dR = expSO3([delta[0]!, delta[1]!, delta[2]!]);
  const R2 = matMul3(dR, Array.from(R));
  const t2 = matVec3(dR, Array.from(t));
  return { R: R2, t: [t2[0] + delta[3]!, t2[1] + delta[4]!, t2[2] + delta[5]!] };
}

/** The camera after a 7-vector step [ω, v, focal scale − 1]. */
export function stepCamera(cam: RasterCamera, delta: ArrayLike<number>): RasterCamera {
  const { R, t } = perturbPose(cam.R, cam.t, delta);
  const s = 1 + delta[6]!;
  return { ...cam, R, t, fx: cam.fx * s, fy: cam.fy * s };
}

/**
 * Build a view's normal equations. `predict` renders the camera and applies whatever image model
 * the trainer uses (it must be deterministic); `depth` is a typical scene depth for this view and
 * sets the translation step.
 */
export async function viewNormalEquations(
  predict: (cam: RasterCamera) => Promise<Float32Array>,
  cam: RasterCamera,
  target: Float32Array,
  depth: number,
  opts: CameraRefineOptions = defaultCameraRefineOptions,
): Promise<ViewSystem> {
  const base = await predict(cam);
  const n = base.length;
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) r[i] = base[i]! - target[i]!;

  // Huber weights around a robust σ (median absolute residual / 0.6745)
  const k = Math.max(opts.huberSigmas * robustSigma(r), opts.huberMin);
  const w = new Float32Array(n);
  let cost = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(r[i]!);
    w[i] = a <= k ? 1 : k / a;
    cost += a <= k ? 0.5 * a * a : k * (a - 0.5 * k);
  }

  const eps = [opts.epsRotation, opts.epsRotation, opts.epsRotation, opts.epsTranslation * depth, opts.epsTranslation * depth, opts.epsTranslation * depth, opts.epsFocal];
  const J: Float32Array[] = [];
  for (let c = 0; c < VIEW_PARAMS; c++) {
    const d = new Float64Array(VIEW_PARAMS);
    d[c] = eps[c]!;
    const img = await predict(stepCamera(cam, d));
    const col = new Float32Array(n);
    const inv = 1 / eps[c]!;
    for (let i = 0; i < n; i++) col[i] = (img[i]! - base[i]!) * inv;
    J.push(col);
  }
  const H = new Float64Array(VIEW_PARAMS * VIEW_PARAMS);
  const b = new Float64Array(VIEW_PARAMS);
  for (let p = 0; p < VIEW_PARAMS; p++) {
    const jp = J[p]!;
    let s = 0;
    for (let i = 0; i < n; i++) s += jp[i]! * w[i]! * r[i]!;
    b[p] = -s;
    for (let q = p; q < VIEW_PARAMS; q++) {
      const jq = J[q]!;
      let h = 0;
      for (let i = 0; i < n; i++) h += jp[i]! * w[i]! * jq[i]!;
      H[p * VIEW_PARAMS + q] = h;
      H[q * VIEW_PARAMS + p] = h;
    }
  }
  return { H, b, cost };
}

function robustSigma(r: Float32Array): number {
  // median of the non-zero |r| over a strided sample (exact enough, and cheap on large images);
  // exact zeros are empty background on both sides and say nothing about the noise
  const stride = Math.max(1, Math.floor(r.length / 20000));
  const a: number[] = [];
  for (let i = 0; i < r.length; i += stride) if (r[i] !== 0) a.push(Math.abs(r[i]!));
  if (a.length === 0) return 0;
  a.sort((x, y) => x - y);
  return a[a.length >> 1]! / 0.6745;
}

export interface CameraSteps {
  /** per view: the 6-vector pose step [ω, v] (zeros for fixed views) */
  pose: Float64Array[];
  /** per camera: relative focal change (0 when focal is not refined) */
  focal: Float64Array;
}

/**
 * Solve all views' systems together. Views that share a camera share its focal scale: for each
 * camera the focal unknown is eliminated by the Schur complement of the views' pose blocks, then
 * each pose is back-substituted. `fixedPose[i]` holds a view still (the gauge); its system still
 * informs the focal. LM damping scales each diagonal by (1 + damping).
 */
export function solveCameraSteps(
  systems: ViewSystem[],
  cameraOf: number[],
  cameraCount: number,
  fixedPose: boolean[],
  refineFocal: boolean,
  opts: CameraRefineOptions = defaultCameraRefineOptions,
): CameraSteps {
  const P = 6;
  const damp = (m: Float64Array, dim: number) => {
    for (let i = 0; i < dim; i++) m[i * dim + i]! *= 1 + opts.damping;
    for (let i = 0; i < dim; i++) m[i * dim + i]! += 1e-12;
  };
  const poseBlock = (s: ViewSystem) => {
    const A = new Float64Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) A[i * P + j] = s.H[i * VIEW_PARAMS + j]!;
    damp(A, P);
    return A;
  };
  const solve = (A: Float64Array, b: Float64Array) => {
    const x = Float64Array.from(b);
    if (!choleskySolve(Float64Array.from(A), P, x)) x.fill(0);
    return x;
  };

  const focal = new Float64Array(cameraCount);
  if (refineFocal) {
    const S = new Float64Array(cameraCount), g = new Float64Array(cameraCount);
    systems.forEach((s, i) => {
      const c = cameraOf[i]!;
      const hff = s.H[VIEW_PARAMS * VIEW_PARAMS - 1]! * (1 + opts.damping);
      const bf = s.b[6]!;
      if (fixedPose[i]) { S[c]! += hff; g[c]! += bf; return; }
      const A = poseBlock(s);
      const hpf = new Float64Array(P);
      for (let k = 0; k < P; k++) hpf[k] = s.H[k * VIEW_PARAMS + 6]!;
      const Ainv_hpf = solve(A, hpf);
      const Ainv_bp = solve(A, s.b.subarray(0, P));
      let sh = 0, sb = 0;
      for (let k = 0; k < P; k++) { sh += hpf[k]! * Ainv_hpf[k]!; sb += hpf[k]! * Ainv_bp[k]!; }
      S[c]! += hff - sh;
      g[c]! += bf - sb;
    });
    for (let c = 0; c < cameraCount; c++) {
      const d = S[c]! > 1e-12 ? g[c]! / S[c]! : 0;
      focal[c] = Math.max(-opts.maxFocalStep, Math.min(opts.maxFocalStep, d));
    }
  }

  const pose = systems.map((s, i) => {
    if (fixedPose[i]) return new Float64Array(P);
    const rhs = Float64Array.from(s.b.subarray(0, P));
    const df = focal[cameraOf[i]!]!;
    for (let k = 0; k < P; k++) rhs[k]! -= s.H[k * VIEW_PARAMS + 6]! * df;
    const x = solve(poseBlock(s), rhs);
    const rot = Math.hypot(x[0]!, x[1]!, x[2]!);
    if (rot > opts.maxRotationStep) {
      const f = opts.maxRotationStep / rot;
      for (let k = 0; k < P; k++) x[k]! *= f;
    }
    return x;
  });
  return { pose, focal };
}
