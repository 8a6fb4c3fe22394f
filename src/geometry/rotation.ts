/**
 * Rotations: unit quaternions (w, x, y, z, as COLMAP) and 3×3 row-major matrices (number[9]).
 */
export type Quat = [number, number, number, number];
export type Mat3 = number[]; // 9 entries, row-major
export type Vec3 = [number, number, number];

export function quatToMat(q: readonly number[]): Mat3 {
  const n = Math.hypot(q[0]!, q[1]!, q[2]!, q[3]!) || 1;
  const w = q[0]! / n, x = q[1]! / n, y = q[2]! / n, z = q[3]! / n;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/** Quaternion of a rotation matrix (Shepperd's method), w ≥ 0. */
export function matToQuat(m: readonly number[]): Quat {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m as number[] as [number, number, number, number, number, number, number, number, number];
  const tr = m00 + m11 + m22;
  let w: number, x: number, y: number, z: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = 0.25 * s; x = (m21 - m12) / s; y = (m02 - m20) / s; z = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    w = (m21 - m12) / s; x = 0.25 * s; y = (m01 + m10) / s; z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    w = (m02 - m20) / s; x = (m01 + m10) / s; y = 0.25 * s; z = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    w = (m10 - m01) / s; x = (m02 + m20) / s; y = (m12 + m21) / s; z = 0.25 * s;
  }
  const n = Math.hypot(w, x, y, z);
  const sgn = w < 0 ? -1 : 1;
  return [(sgn * w) / n, (sgn * x) / n, (sgn * y) / n, (sgn * z) / n];
}

export function matMul3(a: readonly number[], b: readonly number[]): Mat3 {
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j]! += a[i * 3 + k]! * b[k * 3 + j]!;
  return r;
}

export function transpose3(a: readonly number[]): Mat3 {
  return [a[0]!, a[3]!, a[6]!, a[1]!, a[4]!, a[7]!, a[2]!, a[5]!, a[8]!];
}

export function matVec3(m: readonly number[], v: readonly number[]): Vec3 {
  return [
    m[0]! * v[0]! + m[1]! * v[1]! + m[2]! * v[2]!,
    m[3]! * v[0]! + m[4]! * v[1]! + m[5]! * v[2]!,
    m[6]! * v[0]! + m[7]! * v[1]! + m[8]! * v[2]!,
  ];
}

/** Rodrigues: axis-angle vector (radians) to matrix. */
export function expSO3(w: readonly number[]): Mat3 {
  const th = Math.hypot(w[0]!, w[1]!, w[2]!);
  if (th < 1e-12) return [1, -w[2]!, w[1]!, w[2]!, 1, -w[0]!, -w[1]!, w[0]!, 1];
  const k = [w[0]! / th, w[1]! / th, w[2]! / th];
  const c = Math.cos(th), s = Math.sin(th), v = 1 - c;
  const [x, y, z] = k as [number, number, number];
  return [
    c + x * x * v, x * y * v - z * s, x * z * v + y * s,
    y * x * v + z * s, c + y * y * v, y * z * v - x * s,
    z * x * v - y * s, z * y * v + x * s, c + z * z * v,
  ];
}

/** Inverse of expSO3: matrix to axis-angle vector. */
export function logSO3(m: readonly number[]): Vec3 {
  const q = matToQuat(m);
  const s = Math.hypot(q[1], q[2], q[3]);
  if (s < 1e-12) return [2 * q[1], 2 * q[2], 2 * q[3]];
  const th = 2 * Math.atan2(s, q[0]);
  return [(q[1] / s) * th, (q[2] / s) * th, (q[3] / s) * th];
}

/** Angle in degrees between two rotation matrices. */
export function rotationAngleDeg(a: readonly number[], b: readonly number[]): number {
  const r = matMul3(a, transpose3(b));
  const c = Math.min(1, Math.max(-1, (r[0]! + r[4]! + r[8]! - 1) / 2));
  return (Math.acos(c) * 180) / Math.PI;
}

/** Camera centre in world coordinates from a world-to-camera pose: C = -Rᵀ t. */
export function cameraCenter(R: readonly number[], t: readonly number[]): Vec3 {
  const c = matVec3(transpose3(R), t);
  return [-c[0], -c[1], -c[2]];
}

/** Angle in degrees between two rotation matrices, via atan2 (keeps precision for tiny angles, as poseeval does). */
export function rotationDistanceDeg(a: readonly number[], b: readonly number[]): number {
  const r = matMul3(a, transpose3(b));
  const s = Math.hypot(r[7]! - r[5]!, r[2]! - r[6]!, r[3]! - r[1]!);
  return (Math.atan2(s, r[0]! + r[4]! + r[8]! - 1) * 180) / Math.PI;
}
