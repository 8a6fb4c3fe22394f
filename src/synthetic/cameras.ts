/**
 * Known cameras for synthetic scenes: views on a hemisphere around the scene, looking at its
 * centre, OpenCV axes (x right, y down, z forward), world z up.
 */
import type { Mat3, Vec3 } from '../geometry/rotation.js';
import type { Pinhole } from '../core/camera.js';
import { Rng } from '../util/rng.js';

export interface SynthView {
  R: Mat3;
  t: Vec3;
}

/** Intrinsics of the synthetic camera (one for all views). */
export type SynthIntrinsics = Pinhole;

export function lookAt(eye: Vec3, target: Vec3, up: Vec3 = [0, 0, 1]): SynthView {
  const f = normalize([target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]]);
  const x = normalize(cross(f, up));
  const y = cross(f, x);
  const R = [...x, ...y, ...f];
  const t: Vec3 = [
    -(R[0]! * eye[0] + R[1]! * eye[1] + R[2]! * eye[2]),
    -(R[3]! * eye[0] + R[4]! * eye[1] + R[5]! * eye[2]),
    -(R[6]! * eye[0] + R[7]! * eye[1] + R[8]! * eye[2]),
  ];
  return { R, t };
}

/** N views spread in azimuth, elevation alternating between 25° and 55°, small seeded jitter. */
export function hemisphereViews(n: number, seed: number, radius = 4.2, target: Vec3 = [0, 0, 0.3]): SynthView[] {
  const rng = new Rng(seed ^ 0x5f3759df);
  const views: SynthView[] = [];
  for (let i = 0; i < n; i++) {
    const az = (2 * Math.PI * i) / n + rng.uniform(-0.05, 0.05);
    const el = ((i % 3 === 0 ? 25 : i % 3 === 1 ? 40 : 55) + rng.uniform(-3, 3)) * (Math.PI / 180);
    const r = radius * rng.uniform(0.9, 1.1);
    const eye: Vec3 = [r * Math.cos(el) * Math.cos(az), r * Math.cos(el) * Math.sin(az), r * Math.sin(el)];
    views.push(lookAt(eye, target));
  }
  return views;
}

/** Pinhole intrinsics for a 4:3 image whose long side is `size`, 55° horizontal field of view. */
export function synthIntrinsics(size: number, fovDeg = 55): SynthIntrinsics {
  const width = size, height = Math.round((size * 3) / 4);
  const f = width / 2 / Math.tan((fovDeg * Math.PI) / 360);
  return { width, height, fx: f, fy: f, cx: width / 2, cy: height / 2 };
}

function cross(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

function normalize(a: readonly number[]): Vec3 {
  const n = Math.hypot(a[0]!, a[1]!, a[2]!) || 1;
  return [a[0]! / n, a[1]! / n, a[2]! / n];
}
