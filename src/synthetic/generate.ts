/**
 * Synthetic captures with exact ground truth: the known Gaussian scene (scene.ts) rendered with the
 * reference rasterizer from known hemisphere cameras, with optional per-image exposure / white
 * balance changes, pixel noise and camera pose noise. Used by tests of every later stage.
 */
import type { GaussianParams } from '../core/gaussians.js';
import type { RasterCamera } from '../core/raster.js';
import { defaultRasterOptions } from '../core/raster.js';
import { rasterizeReference } from '../scene/raster/reference.js';
import { expSO3, matMul3, matVec3, cameraCenter, type Mat3, type Vec3 } from '../geometry/rotation.js';
import { buildSyntheticScene } from './scene.js';
import { hemisphereViews, synthIntrinsics, type SynthIntrinsics, type SynthView } from './cameras.js';
import { Rng } from '../util/rng.js';
import { shDcToRgb, sigmoid } from '../scene/gaussians.js';
import { SH_COEFFS } from '../core/gaussians.js';

export interface SynthOptions {
  views: number;
  /** long side in pixels */
  size: number;
  /** per-image exposure drawn uniformly in ±EV (view 1, the anchor, stays at 0) */
  exposureJitter: number;
  /** per-channel white-balance log-gain standard deviation */
  wbJitter: number;
  /** pixel noise standard deviation (0..1 units) */
  noise: number;
  /** rotation noise (degrees, random axis, exactly this angle) */
  poseNoiseDeg: number;
  /** camera-centre noise as a fraction of the camera's distance to the scene centre */
  poseNoiseFraction: number;
  seed: number;
  /** scene detail: 1 ≈ 2400 Gaussians; tests use less to stay fast on the CPU rasterizer */
  detail: number;
}

/** The view whose photometry stays identity (see renderSyntheticCapture). */
export const REFERENCE_VIEW = 1;

export const defaultSynthOptions: SynthOptions = { views: 40, size: 128, exposureJitter: 0, wbJitter: 0, noise: 0, poseNoiseDeg: 0, poseNoiseFraction: 0, seed: 1, detail: 1 };

export interface SynthImage {
  name: string;
  /** true world-to-camera pose */
  truth: SynthView;
  /** pose written to the sparse model (noisy when pose noise is asked for) */
  given: SynthView;
  ev: number;
  wb: [number, number, number];
  /** H×W×3 in [0, 1], after photometric changes and noise */
  rgb: Float32Array;
  /** H×W expected depth / alpha (0 where nothing was hit) */
  depth: Float32Array;
  alpha: Float32Array;
}

export interface SynthCapture {
  options: SynthOptions;
  scene: GaussianParams;
  intrinsics: SynthIntrinsics;
  images: SynthImage[];
}

export function rasterCamera(k: SynthIntrinsics, v: SynthView): RasterCamera {
  return { width: k.width, height: k.height, fx: k.fx, fy: k.fy, cx: k.cx, cy: k.cy, R: v.R, t: v.t };
}

export function renderSyntheticCapture(partial: Partial<SynthOptions> = {}): SynthCapture {
  const options: SynthOptions = { ...defaultSynthOptions, ...partial };
  if (options.poseNoiseDeg > 0 && !partial.poseNoiseFraction) options.poseNoiseFraction = 0.02;
  const scene = buildSyntheticScene({ seed: options.seed, groundResolution: Math.max(6, Math.round(40 * Math.sqrt(options.detail))), objectDetail: Math.max(20, Math.round(260 * options.detail)) });
  const intrinsics = synthIntrinsics(options.size);
  const views = hemisphereViews(options.views, options.seed);
  const rng = new Rng(options.seed * 7919 + 13);
  const images: SynthImage[] = views.map((truth, i) => {
    const out = rasterizeReference(scene, rasterCamera(intrinsics, truth), { ...defaultRasterOptions, shDegree: 0, background: [0, 0, 0] });
    // View 1 — the first training view under the every-8th hold-out (which takes view 0) and so
    // the trainer's photometric anchor — keeps identity photometry.
    const ref = i === REFERENCE_VIEW;
    const ev = ref || options.exposureJitter === 0 ? 0 : rng.uniform(-options.exposureJitter, options.exposureJitter);
    const wb: [number, number, number] = ref || options.wbJitter === 0 ? [0, 0, 0] : [rng.normal() * options.wbJitter, rng.normal() * options.wbJitter, rng.normal() * options.wbJitter];
    const gain = [0, 1, 2].map((c) => 2 ** ev * Math.exp(wb[c]!));
    const rgb = new Float32Array(out.rgb.length);
    for (let p = 0; p < rgb.length; p++) {
      const noise = options.noise > 0 ? rng.normal() * options.noise : 0;
      rgb[p] = Math.min(1, Math.max(0, out.rgb[p]! * gain[p % 3]! + noise));
    }
    const depth = new Float32Array(out.depth.length);
    for (let p = 0; p < depth.length; p++) depth[p] = out.alpha[p]! > 1e-3 ? out.depth[p]! / out.alpha[p]! : 0;
    const given = ref || options.poseNoiseDeg === 0 ? truth : perturbPose(truth, options.poseNoiseDeg, options.poseNoiseFraction, rng);
    return { name: `view_${String(i).padStart(3, '0')}.png`, truth, given, ev, wb, rgb, depth, alpha: out.alpha };
  });
  return { options, scene, intrinsics, images };
}

/**
 * Rotate by exactly `deg` about a random axis and move the centre by `fraction` of its distance to
 * the origin in a random direction. The reference view keeps its true pose (it fixes the gauge).
 */
export function perturbPose(v: SynthView, deg: number, fraction: number, rng: Rng): SynthView {
  const axis = normalize([rng.normal(), rng.normal(), rng.normal()]);
  const th = (deg * Math.PI) / 180;
  const R = matMul3(expSO3([axis[0] * th, axis[1] * th, axis[2] * th]), v.R);
  const C = cameraCenter(v.R, v.t);
  const dist = Math.hypot(C[0], C[1], C[2]);
  const dir = normalize([rng.normal(), rng.normal(), rng.normal()]);
  const C2: Vec3 = [C[0] + dir[0] * dist * fraction, C[1] + dir[1] * dist * fraction, C[2] + dir[2] * dist * fraction];
  const Rc = matVec3(R, C2);
  return { R: R as Mat3, t: [-Rc[0], -Rc[1], -Rc[2]] };
}

function normalize(a: number[]): Vec3 {
  const n = Math.hypot(a[0]!, a[1]!, a[2]!) || 1;
  return [a[0]! / n, a[1]! / n, a[2]! / n];
}

export interface SynthPoint {
  xyz: Vec3;
  rgb: [number, number, number];
  /** (image index, x, y) of each view that sees the point unoccluded */
  track: { image: number; x: number; y: number }[];
}

/**
 * Exact 3D points: the scene's Gaussian centres with their colours, observed in each view where
 * they project inside the image, in front of the camera, and within 3 % of the rendered depth
 * (i.e. not hidden behind something else), using the true poses.
 */
export function syntheticPoints(cap: SynthCapture): SynthPoint[] {
  const { scene, intrinsics: k } = cap;
  const pts: SynthPoint[] = [];
  for (let i = 0; i < scene.count; i++) {
    if (sigmoid(scene.opacityLogits[i]!) < 0.5) continue;
    const X: Vec3 = [scene.means[i * 3]!, scene.means[i * 3 + 1]!, scene.means[i * 3 + 2]!];
    const rgb = [0, 1, 2].map((c) => Math.min(1, Math.max(0, shDcToRgb(scene.sh[i * SH_COEFFS * 3 + c]!)))) as [number, number, number];
    const track: SynthPoint['track'] = [];
    cap.images.forEach((im, j) => {
      const p = matVec3(im.truth.R, X);
      const z = p[2] + im.truth.t[2];
      if (z <= 0.05) return;
      const x = (k.fx * (p[0] + im.truth.t[0])) / z + k.cx;
      const y = (k.fy * (p[1] + im.truth.t[1])) / z + k.cy;
      if (x < 0 || y < 0 || x >= k.width || y >= k.height) return;
      const d = im.depth[Math.floor(y) * k.width + Math.floor(x)]!;
      if (d <= 0 || Math.abs(d - z) > 0.03 * z) return;
      track.push({ image: j, x, y });
    });
    pts.push({ xyz: X, rgb, track });
  }
  return pts;
}
