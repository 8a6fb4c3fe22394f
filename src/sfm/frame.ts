/**
 * Stage 5: scale and frame of the reconstruction. With GPS (priors' ENU) a robust similarity maps
 * the model to ENU metres; with a known camera height the ground plane under the cameras sets the
 * scale; otherwise the scale stays arbitrary. Either way the "up" direction is recorded.
 */
import type { SparseModel } from '../core/sparse-model.js';
import { matMul3, matToQuat, quatToMat, transpose3 } from '../geometry/rotation.js';
import { robustSimilarity } from '../geometry/umeyama.js';
import { mulberry32 } from '../util/rng.js';

export interface FrameInfo {
  scale: 'metric' | 'arbitrary';
  method: 'gps' | 'camera-height' | 'none';
  /** world "up" unit vector in the model's coordinates */
  up: [number, number, number];
  /** factor applied to the model (1 when none) */
  scaleFactor: number;
  cameraHeight?: number;
  groundInliers?: number;
  gpsInliers?: number;
  note?: string;
}

/** Apply X' = s·R·X + T to every camera and point (in place). */
export function transformModel(model: SparseModel, s: number, R: number[], T: number[]): void {
  const Rt = transpose3(R);
  for (const im of model.images.values()) {
    const Rc = quatToMat(im.qvec);
    const Rn = matMul3(Rc, Rt);
    const rT = [Rn[0]! * T[0]! + Rn[1]! * T[1]! + Rn[2]! * T[2]!, Rn[3]! * T[0]! + Rn[4]! * T[1]! + Rn[5]! * T[2]!, Rn[6]! * T[0]! + Rn[7]! * T[1]! + Rn[8]! * T[2]!];
    im.qvec = matToQuat(Rn);
    im.tvec = [s * im.tvec[0] - rT[0]!, s * im.tvec[1] - rT[1]!, s * im.tvec[2] - rT[2]!];
  }
  for (const p of model.points3D.values()) {
    const [x, y, z] = p.xyz;
    p.xyz = [s * (R[0]! * x + R[1]! * y + R[2]! * z) + T[0]!, s * (R[3]! * x + R[4]! * y + R[5]! * z) + T[1]!, s * (R[6]! * x + R[7]! * y + R[8]! * z) + T[2]!];
  }
}

export function cameraCentre(q: readonly number[], t: readonly number[]): [number, number, number] {
  const R = quatToMat(q);
  return [-(R[0]! * t[0]! + R[3]! * t[1]! + R[6]! * t[2]!), -(R[1]! * t[0]! + R[4]! * t[1]! + R[7]! * t[2]!), -(R[2]! * t[0]! + R[5]! * t[1]! + R[8]! * t[2]!)];
}

/** Up as the mean of the cameras' "minus y" axes (cameras are mostly held upright). */
export function cameraUp(model: SparseModel): [number, number, number] {
  const u = [0, 0, 0];
  for (const im of model.images.values()) {
    const R = quatToMat(im.qvec);
    u[0]! -= R[3]!; u[1]! -= R[4]!; u[2]! -= R[5]!; // row 1 of R is the camera y axis in world coords
  }
  return normalize(u);
}

/** GPS alignment: similarity from camera centres to ENU positions (by image name). */
export function alignToGps(model: SparseModel, enu: Map<string, [number, number, number]>, seed = 1): FrameInfo | null {
  const src: number[][] = [], dst: number[][] = [];
  for (const im of model.images.values()) {
    const e = enu.get(im.name);
    if (e) { src.push(cameraCentre(im.qvec, im.tvec)); dst.push(e); }
  }
  if (src.length < 3) return null;
  const sim = robustSimilarity(src, dst, { maxError: 5, seed });
  if (!sim) return null;
  let inl = 0;
  for (const v of sim.inliers) if (v) inl++;
  if (inl < 3) return null;
  transformModel(model, sim.s, sim.R, sim.t);
  return { scale: 'metric', method: 'gps', up: [0, 0, 1], scaleFactor: sim.s, gpsInliers: inl };
}

/**
 * Camera-height scaling: fit the ground plane (RANSAC) to points below the camera path, close to it
 * horizontally, with a normal near the cameras' up and the whole path above it; scale so the mean
 * camera-to-plane distance is H. Where that plane disagrees with the densest cluster of the points'
 * drops below their nearest camera (the road right under the path), the cluster sets the height
 * and frame.note says the scale is uncertain.
 */
export function scaleByCameraHeight(model: SparseModel, height: number, seed = 1): FrameInfo | null {
  const up0 = cameraUp(model);
  const centres = [...model.images.values()].map((im) => cameraCentre(im.qvec, im.tvec));
  if (centres.length < 2) return null;
  // candidate ground points: below the nearest (horizontally) camera, not too far ahead of it (a
  // camera at height h sees the road from a few h onwards)
  const cand: number[][] = [];
  const drops: number[] = [];
  for (const p of model.points3D.values()) {
    let best = Infinity, drop = 0;
    for (const c of centres) {
      const d = [p.xyz[0] - c[0]!, p.xyz[1] - c[1]!, p.xyz[2] - c[2]!];
      const v = dot(d, up0);
      const h = Math.hypot(d[0]! - v * up0[0]!, d[1]! - v * up0[1]!, d[2]! - v * up0[2]!);
      if (h < best) { best = h; drop = -v; }
    }
    if (drop > 0 && best < 10 * drop + 1e-12) { cand.push([p.xyz[0], p.xyz[1], p.xyz[2], best, drop]); drops.push(drop); }
  }
  if (cand.length < 20) return null;
  drops.sort((a, b) => a - b);
  // the camera height in model units: the densest cluster of drops (the road under the path), not
  // their median. A forward-moving camera triangulates far points at small angles, and their
  // scattered depths put many "below" it by several heights (samples/dashcam: median 0.73, road 0.12)
  const typical = densestCluster(drops, 1.3);
  // prefer points within a few camera heights of the path: the road right under the camera
  const near = cand.filter((c) => c[3]! < 8 * typical);
  const pts = near.length >= 20 ? near : cand;
  const thr = 0.03 * typical;
  const rng = mulberry32(seed);
  let bestN = 0, bestPlane: number[] | null = null;
  for (let it = 0; it < 2000; it++) {
    const a = pts[Math.floor(rng() * pts.length)]!, b = pts[Math.floor(rng() * pts.length)]!, c = pts[Math.floor(rng() * pts.length)]!;
    const n = cross(sub(b, a), sub(c, a));
    const len = Math.hypot(n[0]!, n[1]!, n[2]!);
    if (len < 1e-12) continue;
    let nn = n.map((v) => v / len);
    if (dot(nn, up0) < 0) nn = nn.map((v) => -v);
    if (dot(nn, up0) < Math.cos((30 * Math.PI) / 180)) continue;
    const d = -dot(nn, a);
    let cnt = 0;
    for (const p of pts) if (Math.abs(dot(nn, p) + d) < thr) cnt++;
    if (cnt > bestN && underPath(nn, d, centres)) { bestN = cnt; bestPlane = [...nn, d]; }
  }
  if (!bestPlane || bestN < 10) return null;
  // least-squares refit on the inliers (smallest eigenvector of the scatter, by power iteration on the inverse-free approach: use centroid + normal refinement via 3×3 eigen)
  const inl = pts.filter((p) => Math.abs(dot(bestPlane!, p) + bestPlane![3]!) < thr);
  const plane = fitPlane(inl, bestPlane);
  if (!underPath(plane, plane[3]!, centres)) return null;
  let hSum = 0;
  for (const c of centres) hSum += dot(plane, c) + plane[3]!;
  const hMean = hSum / centres.length;
  if (!(hMean > 0)) return null;
  // the plane must agree with the densest cluster of drops (the road right under the path). On
  // samples/dashcam the plane with most inliers was the roadside slope, at 0.43× the cluster (a
  // scale of 25 for 0.5 s frames: 180 km/h); then the cluster sets the height, cruder (kitti: 6 %
  // under the plane, lund 13 %) but not off by 2×
  const agrees = hMean > 0.7 * typical && hMean < 1.4 * typical;
  const s = height / (agrees ? hMean : typical);
  transformModel(model, s, [1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0]);
  const notes: string[] = [];
  if (!agrees) notes.push(`the ground plane with most points lies ${(hMean / typical).toFixed(2)}× as far below the cameras as most ground points: height from those points instead`);
  // few ground points (a dashcam sees mostly the roadside; lane paint is sparse): say so
  if (inl.length < 50) notes.push(`ground plane from only ${inl.length} points`);
  const note = notes.length ? `${notes.join('; ')}: the metric scale is uncertain` : undefined;
  const up: [number, number, number] = agrees ? [plane[0]!, plane[1]!, plane[2]!] : up0;
  return { scale: 'metric', method: 'camera-height', up, scaleFactor: s, cameraHeight: height, groundInliers: inl.length, ...(note ? { note } : {}) };
}

/**
 * The ground lies under the whole path: 90 % of the cameras at least half the median height above
 * the plane. A plane fitted to one stretch of a forward capture (a roadside slope, a drifting path)
 * can be tilted through the path: samples/dashcam put the cameras at −0.03…+0.006 above one, and a
 * colleague's dashcam footage got scaled ×976 by another.
 */
function underPath(n: readonly number[], d: number, centres: number[][]): boolean {
  const h = centres.map((c) => dot(n, c) + d).sort((a, b) => a - b);
  const med = h[h.length >> 1]!;
  return med > 0 && h[Math.floor(0.1 * (h.length - 1))]! > 0.5 * med;
}

/** Median of the values in the densest window [v, ratio·v] of sorted positive values. */
function densestCluster(sorted: number[], ratio: number): number {
  let bestI = 0, bestJ = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    if (j < i) j = i;
    while (j + 1 < sorted.length && sorted[j + 1]! <= ratio * sorted[i]!) j++;
    if (j - i > bestJ - bestI) { bestI = i; bestJ = j; }
  }
  return sorted[(bestI + bestJ) >> 1]!;
}

/** Plane through the centroid with the normal of least scatter (Jacobi eigen-decomposition). */
function fitPlane(pts: number[][], init: number[]): number[] {
  const c = [0, 0, 0];
  for (const p of pts) { c[0]! += p[0]!; c[1]! += p[1]!; c[2]! += p[2]!; }
  for (let k = 0; k < 3; k++) c[k]! /= pts.length;
  const A = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (const p of pts) {
    const d = [p[0]! - c[0]!, p[1]! - c[1]!, p[2]! - c[2]!];
    for (let r = 0; r < 3; r++) for (let q = 0; q < 3; q++) A[r * 3 + q]! += d[r]! * d[q]!;
  }
  const { vectors, values } = jacobiEigen3(A);
  let k = 0;
  if (values[1]! < values[k]!) k = 1;
  if (values[2]! < values[k]!) k = 2;
  let n = [vectors[k]!, vectors[3 + k]!, vectors[6 + k]!];
  if (dot(n, init) < 0) n = n.map((v) => -v);
  return [n[0]!, n[1]!, n[2]!, -dot(n, c)];
}

function jacobiEigen3(A0: number[]): { values: number[]; vectors: number[] } {
  const A = A0.slice();
  const V = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = A[1]! ** 2 + A[2]! ** 2 + A[5]! ** 2;
    if (off < 1e-30) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as const) {
      const apq = A[p * 3 + q]!;
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (A[q * 3 + q]! - A[p * 3 + p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = A[k * 3 + p]!, akq = A[k * 3 + q]!;
        A[k * 3 + p] = c * akp - s * akq;
        A[k * 3 + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = A[p * 3 + k]!, aqk = A[q * 3 + k]!;
        A[p * 3 + k] = c * apk - s * aqk;
        A[q * 3 + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = V[k * 3 + p]!, vkq = V[k * 3 + q]!;
        V[k * 3 + p] = c * vkp - s * vkq;
        V[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: [A[0]!, A[4]!, A[8]!], vectors: V };
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}
function sub(a: number[], b: number[]): number[] {
  return [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
}
function cross(a: number[], b: number[]): number[] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}
function normalize(v: number[]): [number, number, number] {
  const n = Math.hypot(v[0]!, v[1]!, v[2]!) || 1;
  return [v[0]! / n, v[1]! / n, v[2]! / n];
}
