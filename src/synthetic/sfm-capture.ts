/**
 * A synthetic street walk as SfM FEATURES, not photos: a camera walks along a façade (with relief)
 * and a ground strip, and each image's keypoints are the exact projections of the 3D points it sees
 * (plus Gaussian noise, missed detections and distractor keypoints), each carrying a binary
 * descriptor planted per 3D point with a few bits flipped per observation. The real matcher,
 * verification and mapper run on it, so it measures how SfM scales to hundreds of images without
 * rendering and detecting them (which 2 CPU cores cannot do for 500 images in a benchmark).
 * Camera poses are known exactly. World z up; cameras OpenCV (x right, y down, z forward).
 * The feature sets are structurally sfm/types.ts FeatureSet (synthetic may not import sfm).
 */
import type { Camera } from '../core/camera.js';
import type { Vec3 } from '../geometry/rotation.js';
import { Rng } from '../util/rng.js';
import { lookAt, type SynthView } from './cameras.js';

export interface StreetCaptureOptions {
  images: number;
  seed: number;
  /** keypoint noise, pixels (σ) */
  noisePx: number;
  /** probability that a visible point is detected in an image */
  detectRate: number;
  /** distractor keypoints (random descriptors, matching nothing) per true keypoint */
  distractors: number;
  /** probability of flipping each descriptor bit per observation */
  bitFlip: number;
  /** walking step between images, metres */
  step: number;
  /** 3D points per square metre of façade */
  density: number;
}

export const defaultStreetCaptureOptions: StreetCaptureOptions = { images: 100, seed: 1, noisePx: 0.5, detectRate: 0.75, distractors: 0.15, bitFlip: 0.06, step: 0.8, density: 10 };

/** One image's keypoints (x, y, size, angle) and descriptors: sfm's FeatureSet. */
export interface SyntheticFeatures { name: string; key: string; width: number; height: number; n: number; kp: Float32Array; desc: Uint32Array; words: number; rgb: Uint8Array }

export interface StreetCapture {
  camera: Camera;
  /** true world-to-camera pose of each image */
  views: SynthView[];
  feats: SyntheticFeatures[];
  points: number;
}

/** AKAZE's 486-bit descriptor, zero-padded to 16 words as the extractor stores it */
const WORDS = 16, BITS = 486;
const FACADE_Y = 8, FACADE_HEIGHT = 7, GROUND_Z = 0, EYE_Z = 1.6;

export function streetFeatureCapture(partial: Partial<StreetCaptureOptions> = {}): StreetCapture {
  const o = { ...defaultStreetCaptureOptions, ...partial };
  const rng = new Rng(o.seed);
  const camera: Camera = { id: 1, model: 'PINHOLE', width: 1024, height: 768, params: [800, 800, 512, 384] };
  const [fx, fy, cx, cy] = camera.params as [number, number, number, number];
  // 3D points: the façade (a plane with balconies and recesses) and the ground in front of it
  const length = o.step * (o.images - 1);
  const X: number[] = [];
  const nFacade = Math.round((length + 16) * FACADE_HEIGHT * o.density);
  for (let k = 0; k < nFacade; k++) X.push(rng.uniform(-8, length + 8), FACADE_Y + (rng.next() < 0.3 ? rng.uniform(-1.2, 0.8) : 0), rng.uniform(0, FACADE_HEIGHT));
  const nGround = Math.round((length + 16) * (FACADE_Y - 2) * o.density * 0.4);
  for (let k = 0; k < nGround; k++) X.push(rng.uniform(-8, length + 8), rng.uniform(2, FACADE_Y), GROUND_Z);
  const nPts = X.length / 3;
  const desc = new Uint32Array(nPts * WORDS);
  for (let p = 0; p < nPts; p++) plantDescriptor(desc, p * WORDS, rng);
  // the walk: sideways to the façade, swaying, looking a little ahead or back now and then
  const views: SynthView[] = [];
  for (let i = 0; i < o.images; i++) {
    const eye: Vec3 = [o.step * i, 0.4 * Math.sin(i / 11), EYE_Z + 0.1 * Math.sin(i / 5)];
    const yaw = 0.3 * Math.sin(i / 23) + rng.uniform(-0.03, 0.03), pitch = -0.1 + rng.uniform(-0.03, 0.03);
    views.push(lookAt(eye, [eye[0] + Math.sin(yaw), eye[1] + Math.cos(yaw), eye[2] + pitch]));
  }
  const feats: SyntheticFeatures[] = views.map((v, i) => {
    const kp: number[] = [], ids: number[] = [];
    const R = v.R, t = v.t;
    for (let p = 0; p < nPts; p++) {
      const x0 = X[3 * p]!, x1 = X[3 * p + 1]!, x2 = X[3 * p + 2]!;
      const z = R[6]! * x0 + R[7]! * x1 + R[8]! * x2 + t[2];
      if (z < 0.5) continue;
      const u = fx * ((R[0]! * x0 + R[1]! * x1 + R[2]! * x2 + t[0]) / z) + cx, w = fy * ((R[3]! * x0 + R[4]! * x1 + R[5]! * x2 + t[1]) / z) + cy;
      if (!(u >= 0 && w >= 0 && u < camera.width && w < camera.height) || rng.next() >= o.detectRate) continue;
      kp.push(u + o.noisePx * rng.normal(), w + o.noisePx * rng.normal(), 6, 0);
      ids.push(p);
    }
    const nTrue = ids.length, nFalse = Math.round(nTrue * o.distractors), n = nTrue + nFalse;
    for (let k = 0; k < nFalse; k++) kp.push(rng.uniform(0, camera.width), rng.uniform(0, camera.height), 6, 0);
    const d = new Uint32Array(n * WORDS);
    for (let k = 0; k < nTrue; k++) {
      for (let w = 0; w < WORDS; w++) d[k * WORDS + w] = desc[ids[k]! * WORDS + w]!;
      for (let b = 0; b < BITS; b++) if (rng.next() < o.bitFlip) d[k * WORDS + (b >>> 5)]! ^= 1 << (b & 31);
    }
    for (let k = nTrue; k < n; k++) plantDescriptor(d, k * WORDS, rng);
    const name = `street${String(i).padStart(4, '0')}.jpg`;
    return { name, key: `street-${JSON.stringify(o)}-${i}`, width: camera.width, height: camera.height, n, kp: Float32Array.from(kp), desc: d, words: WORDS, rgb: new Uint8Array(3 * n).fill(128) };
  });
  return { camera, views, feats, points: nPts };
}

function plantDescriptor(out: Uint32Array, at: number, rng: Rng): void {
  for (let w = 0; w < WORDS; w++) {
    const bits = Math.min(32, BITS - 32 * w);
    out[at + w] = bits <= 0 ? 0 : bits === 32 ? (rng.next() * 4294967296) >>> 0 : ((rng.next() * 4294967296) >>> 0) & ((1 << bits) - 1);
  }
}
