/**
 * Seeded random Gaussian scenes in front of a camera, for tests and the raster benchmark.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import type { RasterCamera } from '../../core/raster.js';

/** Seeded uniform generator (the project's mulberry32). */
export { mulberry32 as rng } from '../../util/rng.js';
import { mulberry32 as rng } from '../../util/rng.js';

export function gaussianRandom(r: () => number): number {
  const u = Math.max(1e-12, r());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export interface RandomSceneOptions {
  seed?: number;
  /** scene radius around the look-at point (world units) */
  radius?: number;
  /** typical Gaussian standard deviation (world units) */
  scale?: number;
}

/**
 * A camera at distance 4 looking at the origin (slightly rotated so the pose is not trivial) and
 * N Gaussians spread in a ball of `radius` around the origin.
 */
export function randomScene(count: number, width: number, height: number, o: RandomSceneOptions = {}): { params: GaussianParams; cam: RasterCamera } {
  const r = rng(o.seed ?? 1);
  const radius = o.radius ?? 1;
  const scale = o.scale ?? 0.05;
  const means = new Float32Array(count * 3), logScales = new Float32Array(count * 3), quats = new Float32Array(count * 4);
  const opacityLogits = new Float32Array(count), sh = new Float32Array(count * 48);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < 3; k++) {
      means[3 * i + k] = (r() * 2 - 1) * radius;
      logScales[3 * i + k] = Math.log(scale) + 0.5 * gaussianRandom(r);
    }
    for (let k = 0; k < 4; k++) quats[4 * i + k] = gaussianRandom(r);
    opacityLogits[i] = gaussianRandom(r) * 1.5 + 0.5;
    for (let k = 0; k < 48; k++) sh[48 * i + k] = (k < 3 ? 0.8 : 0.15) * gaussianRandom(r);
  }
  const f = 0.9 * Math.max(width, height);
  // rotation about the y axis by 0.1 rad and about x by 0.05 rad, then move the origin to z = 4
  const a = 0.1, b = 0.05;
  const Ry = [Math.cos(a), 0, Math.sin(a), 0, 1, 0, -Math.sin(a), 0, Math.cos(a)];
  const Rx = [1, 0, 0, 0, Math.cos(b), -Math.sin(b), 0, Math.sin(b), Math.cos(b)];
  const R = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) R[i * 3 + j]! += Rx[i * 3 + k]! * Ry[k * 3 + j]!;
  const cam: RasterCamera = { width, height, fx: f, fy: f * 1.02, cx: width / 2 + 0.3, cy: height / 2 - 0.2, R, t: [0.05, -0.03, 4] };
  return { params: { count, means, logScales, quats, opacityLogits, sh }, cam };
}
