/**
 * Small 3D helpers for selection: the horizontal basis about an "up" direction (yaw is measured
 * from its first axis), box rotations from up + yaw, and reading the scene's up from
 * sparse/frame.json (written by sfm; the synthetic scenes write one too).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { matToQuat, type Quat, type Vec3 } from '../../geometry/rotation.js';

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}

export function cross(a: ArrayLike<number>, b: ArrayLike<number>): Vec3 {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

export function normalize(a: ArrayLike<number>): Vec3 {
  const n = Math.hypot(a[0]!, a[1]!, a[2]!);
  if (!(n > 0)) throw new Error('cannot normalise a zero vector');
  return [a[0]! / n, a[1]! / n, a[2]! / n];
}

/**
 * Orthonormal (e1, e2, up): e1 is the scene x axis projected onto the horizontal plane (scene y
 * when x is nearly vertical), so for up = +z, yaw 0 is the x axis and yaw 90° the y axis.
 */
export function upBasis(up: ArrayLike<number>): { e1: Vec3; e2: Vec3; up: Vec3 } {
  const u = normalize(up);
  const ref: Vec3 = Math.abs(u[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  const d = dot(ref, u);
  const e1 = normalize([ref[0] - d * u[0], ref[1] - d * u[1], ref[2] - d * u[2]]);
  return { e1, e2: cross(u, e1), up: u };
}

/** Rotation (local → scene) of a box whose local z is `up` and local x is at `yawDeg` about it. */
export function yawRotation(up: ArrayLike<number>, yawDeg: number): Quat {
  const { e1, e2, up: u } = upBasis(up);
  const y = (yawDeg * Math.PI) / 180, c = Math.cos(y), s = Math.sin(y);
  const x: Vec3 = [c * e1[0] + s * e2[0], c * e1[1] + s * e2[1], c * e1[2] + s * e2[2]];
  const yv = cross(u, x);
  // columns are the local axes in scene coordinates
  return matToQuat([x[0], yv[0], u[0], x[1], yv[1], u[1], x[2], yv[2], u[2]]);
}

/** The `up` recorded in <workspace>/sparse/frame.json, or null when absent or unusable. */
export function readFrameUp(workspace: string): Vec3 | null {
  const file = path.join(workspace, 'sparse', 'frame.json');
  if (!existsSync(file)) return null;
  try {
    const up = (JSON.parse(readFileSync(file, 'utf8')) as { up?: unknown }).up;
    if (Array.isArray(up) && up.length === 3 && up.every((v) => typeof v === 'number' && Number.isFinite(v))) return normalize(up as number[]);
  } catch {
    // an unreadable frame.json only costs the prior: RANSAC then finds the ground alone
  }
  return null;
}

/** Value at quantile q (0..1) of a copy of xs. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const a = Float64Array.from(xs).sort();
  if (a.length === 0) return NaN;
  return a[Math.min(a.length - 1, Math.max(0, Math.round(q * (a.length - 1))))]!;
}

/** Robust size of a point set: the largest per-axis 2–98 % quantile range. */
export function robustExtent(xyz: ArrayLike<number>, idx?: ArrayLike<number>): number {
  const n = idx ? idx.length : xyz.length / 3;
  let best = 0;
  for (let a = 0; a < 3; a++) {
    const v = new Float64Array(n);
    for (let k = 0; k < n; k++) v[k] = xyz[3 * (idx ? idx[k]! : k) + a]!;
    best = Math.max(best, quantile(v, 0.98) - quantile(v, 0.02));
  }
  return best;
}
