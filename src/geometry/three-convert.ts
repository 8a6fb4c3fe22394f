/**
 * The viewer boundary: COLMAP/OpenCV world-to-camera poses (x_cam = R·X + t; camera x right,
 * y down, z forward) to three.js camera poses (camera y up, looking down −z). This is the one place
 * the conversion happens; the viewer imports it too. Plain arrays in and out so that Node code and
 * tests use it without three.js.
 */
import { quatToMat, matToQuat, cameraCenter, type Vec3 } from './rotation.js';
import type { Pinhole } from '../core/camera.js';
import { symmetricEigen } from './linalg.js';

export interface ThreePose {
  /** camera centre in world coordinates */
  position: Vec3;
  /** camera-to-world rotation as a three.js quaternion, order (x, y, z, w) */
  quaternion: [number, number, number, number];
  /** camera-to-world 4×4 matrix, column-major (three's Matrix4.fromArray order) */
  matrix: number[];
}

/**
 * COLMAP world-to-camera pose (quaternion w,x,y,z and translation) to the three.js camera pose in
 * the same world frame. three's camera axes are OpenCV's with y and z flipped, so the
 * camera-to-world rotation is Rᵀ·diag(1, −1, −1).
 */
export function colmapToThreePose(qvec: readonly number[], tvec: readonly number[]): ThreePose {
  const R = quatToMat(qvec);
  const C = cameraCenter(R, tvec);
  // rows of R are the OpenCV camera axes in world coordinates; columns of M are three's
  const xAxis: Vec3 = [R[0]!, R[1]!, R[2]!];
  const yAxis: Vec3 = [-R[3]!, -R[4]!, -R[5]!];
  const zAxis: Vec3 = [-R[6]!, -R[7]!, -R[8]!];
  const M = [xAxis[0], yAxis[0], zAxis[0], xAxis[1], yAxis[1], zAxis[1], xAxis[2], yAxis[2], zAxis[2]];
  const q = matToQuat(M);
  return {
    position: C,
    quaternion: [q[1], q[2], q[3], q[0]],
    matrix: [...xAxis, 0, ...yAxis, 0, ...zAxis, 0, C[0], C[1], C[2], 1],
  };
}

export type PinholeIntrinsics = Pinhole;

/**
 * OpenGL projection matrix (column-major) that reproduces a pinhole camera's pixels exactly,
 * principal point included (pixel centres at +0.5, top-left origin, as COLMAP). When the viewport's
 * aspect differs from the photo's, the photo is fitted inside it (letterboxed) at the same scale.
 */
export function projectionFromIntrinsics(
  k: PinholeIntrinsics,
  viewportWidth: number,
  viewportHeight: number,
  near: number,
  far: number,
): number[] {
  const s = Math.min(viewportWidth / k.width, viewportHeight / k.height);
  const fx = k.fx * s, fy = k.fy * s;
  const cx = k.cx * s + (viewportWidth - k.width * s) / 2;
  const cy = k.cy * s + (viewportHeight - k.height * s) / 2;
  const W = viewportWidth, H = viewportHeight;
  // row-major rows, then transposed into column-major below
  const p = [
    [(2 * fx) / W, 0, 1 - (2 * cx) / W, 0],
    [0, (2 * fy) / H, (2 * cy) / H - 1, 0],
    [0, 0, -(far + near) / (far - near), (-2 * far * near) / (far - near)],
    [0, 0, -1, 0],
  ];
  const out: number[] = [];
  for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) out.push(p[r]![c]!);
  return out;
}

/** Vertical field of view (degrees) of a pinhole camera, for three's PerspectiveCamera.fov. */
export function verticalFovDeg(k: Pick<PinholeIntrinsics, 'height' | 'fy'>): number {
  return (2 * Math.atan(k.height / (2 * k.fy)) * 180) / Math.PI;
}

/**
 * The scene's up direction in world coordinates, estimated from the capture cameras. People rarely
 * roll a camera, so each camera's x axis (image right) is horizontal: up is the direction most
 * perpendicular to all of them (smallest eigenvector of Σ x xᵀ), signed to agree with the cameras'
 * mean "up" (−y in OpenCV axes). When the x axes do not span a plane (all cameras facing one way),
 * the mean "up" made perpendicular to that shared x axis is used instead; it is biased by the
 * cameras' pitch, which is why it is only the fallback. With no cameras, the usual COLMAP/3DGS
 * convention: −y is up.
 */
export function estimateUp(qvecs: ReadonlyArray<readonly number[]>): Vec3 {
  if (qvecs.length === 0) return [0, -1, 0];
  const mean: Vec3 = [0, 0, 0];
  const M = new Array<number>(9).fill(0);
  for (const q of qvecs) {
    const R = quatToMat(q);
    for (let i = 0; i < 3; i++) {
      mean[i] = mean[i]! - R[3 + i]!;
      for (let j = 0; j < 3; j++) M[i * 3 + j] = M[i * 3 + j]! + R[i]! * R[j]!;
    }
  }
  const { values, vectors } = symmetricEigen(M, 3);
  let up: Vec3;
  if (values[1]! > 0.05 * values[2]!) {
    up = [vectors[0]![0]!, vectors[0]![1]!, vectors[0]![2]!];
  } else {
    const x = vectors[2]!;
    const d = mean[0] * x[0]! + mean[1] * x[1]! + mean[2] * x[2]!;
    up = [mean[0] - d * x[0]!, mean[1] - d * x[1]!, mean[2] - d * x[2]!];
  }
  const n = Math.hypot(up[0], up[1], up[2]);
  if (n < 1e-9) return [0, -1, 0];
  const sign = up[0] * mean[0] + up[1] * mean[1] + up[2] * mean[2] < 0 ? -1 : 1;
  return [(sign * up[0]) / n, (sign * up[1]) / n, (sign * up[2]) / n];
}

/**
 * Rotation (three quaternion x, y, z, w) turning `up` into +y, the viewer's up, along the shortest
 * arc. Applied to the scene root so that orbit controls and the ground grid are level.
 */
export function upToYQuaternion(up: readonly number[]): [number, number, number, number] {
  const n = Math.hypot(up[0]!, up[1]!, up[2]!) || 1;
  const ux = up[0]! / n, uy = up[1]! / n, uz = up[2]! / n;
  const d = uy; // dot(up, +y)
  if (d < -0.999999) return [1, 0, 0, 0]; // opposite: half turn about x
  // axis = up × y = (−uz, 0, ux); q = (axis, 1 + d) normalised
  const qx = -uz, qy = 0, qz = ux, qw = 1 + d;
  const m = Math.hypot(qx, qy, qz, qw);
  return [qx / m, qy / m, qz / m, qw / m];
}
