/**
 * The ground plane of a scene: height h(p) = n·p + offset (n unit, pointing up, h ≥ 0 above).
 *  - With a known up (sparse/frame.json), the ground is the horizontal slab of thickness
 *    2·threshold holding the most points (a sliding window over heights), then refitted by least
 *    squares with its tilt limited — exact for a level floor, robust to objects on it.
 *  - Without one, RANSAC on 3-point planes (seeded) keeps the plane with the most inliers, refitted
 *    the same way; the normal is turned so that most off-plane points (objects, not the underside)
 *    — or the given camera centres — lie above.
 * Input points are Gaussian centres (see `gaussianCentres`) and/or sparse SfM points.
 *
 * A plane is accepted as the ground only when it carries the scene (`carriesScene`): little of
 * what lies off the plane is below it, much of the plane lies outside the footprint of what
 * stands on it (a floor reaches past its objects), and the cameras are above it. A turntable or backdrop capture has no such
 * plane — the best one runs through the object — and then the ground returned is a virtual
 * support plane instead: normal = the scene's up (known, or the normal of the ring the cameras lie
 * on, or the best plane's), through the lowest point of the foreground (the points' main
 * connected part), `carries: false`, no inliers. `--auto` then takes the foreground as one object.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import type { Vec3 } from '../../geometry/rotation.js';
import { sigmoid } from '../../scene/gaussians.js';
import { Rng } from '../../util/rng.js';
import { UserError } from '../../util/errors.js';
import { radiusComponents } from './components.js';
import { cross, dot, normalize, quantile, robustExtent } from './frame.js';

export interface GroundPlane {
  /** unit normal, pointing up */
  normal: Vec3;
  /** h(p) = normal·p + offset */
  offset: number;
  /** inlier distance used, scene units */
  threshold: number;
  /** indices of the points within threshold of the plane */
  inliers: Int32Array;
  /** RMS distance of the inliers */
  rms: number;
  /** the robust size of the point set the threshold was derived from */
  sceneExtent: number;
  method: 'up' | 'ransac';
  /**
   * false: no plane carries the scene and this is the virtual support plane under the foreground
   * (see the header); true or absent: a real ground
   */
  carries?: boolean;
  /** the carry test of the best plane (shares of the off-plane points below it, of its inliers outside the footprint of the points above, of the cameras above it) */
  support?: { below: number; outside: number; camerasAbove: number };
}

export interface GroundOptions {
  /** known up direction (sparse/frame.json); null = RANSAC over all orientations. Default null */
  up: ArrayLike<number> | null;
  /** inlier distance; default 0.01 × the robust scene extent */
  threshold?: number;
  /** with a known up, the largest tilt the refit may take, degrees. Default 10 */
  maxTiltDeg: number;
  /** RANSAC hypotheses. Default 400 */
  iterations: number;
  /** camera centres (N×3): the normal is oriented towards them, and without a floor their ring gives up. Default none */
  towards?: ArrayLike<number>;
  seed: number;
  /** a ground carries the scene only when at most this share of the off-plane points lies below it. Default 0.25 */
  maxBelowShare: number;
  /** ... and at least this share of its inliers lies outside the footprint of the points above it. Default 0.2 */
  minOutsideShare: number;
  /** ... and at least this share of the cameras (`towards`) is above it (the side of a box is not a floor). Default 0.9 */
  minCamerasAbove: number;
}

export const defaultGroundOptions: GroundOptions = { up: null, maxTiltDeg: 10, iterations: 400, seed: 1, maxBelowShare: 0.25, minOutsideShare: 0.2, minCamerasAbove: 0.9 };

/** Gaussian centres as N×3, and the Gaussians they came from (opacity ≥ minOpacity). */
export function gaussianCentres(params: GaussianParams, minOpacity = 0.1): { xyz: Float64Array; index: Int32Array } {
  const keep: number[] = [];
  for (let i = 0; i < params.count; i++) if (sigmoid(params.opacityLogits[i]!) >= minOpacity) keep.push(i);
  const xyz = new Float64Array(keep.length * 3);
  keep.forEach((i, k) => xyz.set(params.means.subarray(3 * i, 3 * i + 3), 3 * k));
  return { xyz, index: Int32Array.from(keep) };
}

export function groundPlane(xyz: ArrayLike<number>, partial: Partial<GroundOptions> = {}): GroundPlane {
  const o = { ...defaultGroundOptions, ...partial };
  const n = Math.floor(xyz.length / 3);
  if (n < 3) throw new UserError(`cannot find a ground plane in ${n} point(s)`, { fix: 'extract from a trained scene (r2s train) or pass --box / --masks' });
  const sceneExtent = robustExtent(xyz);
  const threshold = o.threshold ?? 0.01 * sceneExtent;
  let plane: { normal: Vec3; offset: number };
  if (o.up) {
    const up = normalize(o.up);
    plane = { normal: up, offset: -slabCentre(xyz, up, threshold) };
  } else {
    plane = ransacPlane(xyz, threshold, o.iterations, new Rng(o.seed));
  }
  // two refits: least squares on the inliers, the second on those within half the threshold (the
  // feet of objects inside the slab would otherwise tilt and lift it); tilt limited when up is known
  for (let it = 0; it < 2; it++) {
    const fit = fitPlane(xyz, inliersOf(xyz, plane, it === 0 ? threshold : threshold / 2));
    if (!fit) break;
    if (dot(fit.normal, plane.normal) < 0) { fit.normal = fit.normal.map((v) => -v) as Vec3; fit.offset = -fit.offset; }
    if (o.up && Math.acos(Math.min(1, dot(fit.normal, normalize(o.up)))) > (o.maxTiltDeg * Math.PI) / 180) break;
    plane = fit;
  }
  if (!o.up) plane = orient(xyz, plane, threshold, o.towards);
  const inliers = inliersOf(xyz, plane, threshold);
  let ss = 0;
  for (const i of inliers) ss += (dot(plane.normal, [xyz[3 * i]!, xyz[3 * i + 1]!, xyz[3 * i + 2]!]) + plane.offset) ** 2;
  const method = o.up ? 'up' : 'ransac';
  const support = carriesScene(xyz, plane, threshold, sceneExtent, o.towards);
  if (support.below <= o.maxBelowShare && support.outside >= o.minOutsideShare && support.camerasAbove >= o.minCamerasAbove) {
    return { ...plane, threshold, inliers, rms: Math.sqrt(ss / Math.max(1, inliers.length)), sceneExtent, method, carries: true, support };
  }
  // no floor: a virtual support plane under the foreground, normal = the scene's up
  const up = o.up ? normalize(o.up) : ringNormal(xyz, o.towards) ?? plane.normal;
  const offset = -foregroundBottom(xyz, up, sceneExtent);
  return { normal: up, offset, threshold, inliers: new Int32Array(0), rms: 0, sceneExtent, method, carries: false, support };
}

/**
 * Whether plane p carries the points: `below` = share of the points farther than 3 thresholds
 * from it that lie below it; `outside` = share of its inliers in plane cells (1 % of the scene
 * extent) where nothing stands on it — no point in the band just above it (3 thresholds to 5 % of
 * the extent: the feet of what stands there; higher points, tree crowns or haze over a road, do
 * not hide the road). A plane through an object has the object's next slice right above all of it.
 * `camerasAbove`: share of the camera centres above it or less than 5 % of the extent below it
 * (1 without cameras; a walk up a sloping street is not one plane, lund has 34 % of its cameras
 * under its best one, a few metres at most).
 */
export function carriesScene(xyz: ArrayLike<number>, p: { normal: Vec3; offset: number }, t: number, extent: number, cameras?: ArrayLike<number>): { below: number; outside: number; camerasAbove: number } {
  const n = xyz.length / 3;
  const { e1, e2 } = basisOf(p.normal);
  const cell = Math.max(0.01 * extent, 2 * t), feet = Math.max(6 * t, 0.05 * extent);
  // numeric cell keys (cells within ±2^20 of the origin per axis)
  const key = (i: number) => {
    const x = xyz[3 * i]!, y = xyz[3 * i + 1]!, z = xyz[3 * i + 2]!;
    return (Math.floor((e1[0] * x + e1[1] * y + e1[2] * z) / cell) + 1048576) * 2097152 + (Math.floor((e2[0] * x + e2[1] * y + e2[2] * z) / cell) + 1048576);
  };
  let above = 0, below = 0;
  const foot = new Set<number>();
  const inl: number[] = [];
  for (let i = 0; i < n; i++) {
    const h = heightOf(p, xyz, i);
    if (h > 3 * t) {
      above++;
      if (h <= feet) foot.add(key(i));
    } else if (h < -3 * t) below++;
    else if (Math.abs(h) <= t) inl.push(i);
  }
  let outside = 0;
  for (const i of inl) if (!foot.has(key(i))) outside++;
  let up = 0;
  const m = cameras ? cameras.length / 3 : 0;
  // not below it by more than 5 % of the extent: a street on a slope is not one plane, its cameras stay near it
  for (let k = 0; k < m; k++) if (heightOf(p, cameras!, k) > -0.05 * extent) up++;
  return { below: above + below > 0 ? below / (above + below) : 0, outside: inl.length ? outside / inl.length : 0, camerasAbove: m ? up / m : 1 };
}

/** Two unit vectors spanning the plane with normal n. */
function basisOf(n: Vec3): { e1: Vec3; e2: Vec3 } {
  const a: Vec3 = Math.abs(n[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  const e1 = normalize(cross(n, a));
  return { e1, e2: cross(n, e1) };
}

/**
 * Up from the camera centres when they lie on a ring or a dome cap (turntable, orbit): the normal
 * of their best plane, if their spread across it is small against their spread along it, oriented
 * from the points' centroid towards the cameras. Null for a line of cameras (a drive, a walk) or
 * a spread in every direction.
 */
export function ringNormal(xyz: ArrayLike<number>, towards?: ArrayLike<number>): Vec3 | null {
  if (!towards || towards.length < 9) return null;
  const m = towards.length / 3;
  const idx = Int32Array.from({ length: m }, (_, i) => i);
  const fit = fitPlane(towards, idx);
  if (!fit) return null;
  const ev = spreads(towards, fit.normal);
  if (!(ev.across < 0.35 * ev.minAlong && ev.minAlong > 0.1 * ev.maxAlong)) return null;
  // cameras above the object: from the points' centroid towards the cameras' centroid
  const c = [0, 0, 0], k = [0, 0, 0];
  const n = xyz.length / 3;
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) c[a]! += xyz[3 * i + a]! / n;
  for (let i = 0; i < m; i++) for (let a = 0; a < 3; a++) k[a]! += towards[3 * i + a]! / m;
  const s = dot(fit.normal, [k[0]! - c[0]!, k[1]! - c[1]!, k[2]! - c[2]!]);
  return s >= 0 ? fit.normal : (fit.normal.map((v) => -v) as Vec3);
}

/** RMS spread of the points across the plane (along n) and the least / most spread along it. */
function spreads(xyz: ArrayLike<number>, n: Vec3): { across: number; minAlong: number; maxAlong: number } {
  const m = xyz.length / 3;
  const c = [0, 0, 0];
  for (let i = 0; i < m; i++) for (let a = 0; a < 3; a++) c[a]! += xyz[3 * i + a]! / m;
  const { e1, e2 } = basisOf(n);
  // 2×2 covariance in the plane, and the variance along n
  let sxx = 0, sxy = 0, syy = 0, snn = 0;
  for (let i = 0; i < m; i++) {
    const d = [xyz[3 * i]! - c[0]!, xyz[3 * i + 1]! - c[1]!, xyz[3 * i + 2]! - c[2]!];
    const x = dot(e1, d), y = dot(e2, d), z = dot(n, d);
    sxx += x * x; sxy += x * y; syy += y * y; snn += z * z;
  }
  const tr = (sxx + syy) / 2, det = Math.sqrt(((sxx - syy) / 2) ** 2 + sxy * sxy);
  return { across: Math.sqrt(snn / m), minAlong: Math.sqrt(Math.max(0, tr - det) / m), maxAlong: Math.sqrt((tr + det) / m) };
}

/**
 * Height along `up` of the foreground's lowest point: the points' radius-graph components (link
 * 2 % of the extent) holding at least 5 % of the largest one's points, their 0.05 % height quantile
 * (the asset frame's trim; stray splats below the object do not lower it).
 */
function foregroundBottom(xyz: ArrayLike<number>, up: Vec3, extent: number): number {
  const n = xyz.length / 3;
  const idx = Array.from({ length: n }, (_, i) => i);
  const { labels, count } = radiusComponents({ xyz, idx }, 0.02 * extent);
  const size = new Int32Array(count);
  for (const l of labels) size[l]!++;
  const big = Math.max(0, ...size);
  const hs: number[] = [];
  for (let i = 0; i < n; i++) if (size[labels[i]!]! >= 0.05 * big) hs.push(up[0] * xyz[3 * i]! + up[1] * xyz[3 * i + 1]! + up[2] * xyz[3 * i + 2]!);
  return quantile(hs, 5e-4);
}

/** Signed height of point i above the plane. */
export function heightOf(g: { normal: ArrayLike<number>; offset: number }, xyz: ArrayLike<number>, i: number): number {
  return g.normal[0]! * xyz[3 * i]! + g.normal[1]! * xyz[3 * i + 1]! + g.normal[2]! * xyz[3 * i + 2]! + g.offset;
}

function inliersOf(xyz: ArrayLike<number>, p: { normal: Vec3; offset: number }, t: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < xyz.length / 3; i++) if (Math.abs(heightOf(p, xyz, i)) <= t) out.push(i);
  return Int32Array.from(out);
}

/** Centre height (along up) of the 2t-thick slab holding the most points. */
function slabCentre(xyz: ArrayLike<number>, up: Vec3, t: number): number {
  const n = xyz.length / 3;
  const h = new Float64Array(n);
  for (let i = 0; i < n; i++) h[i] = up[0] * xyz[3 * i]! + up[1] * xyz[3 * i + 1]! + up[2] * xyz[3 * i + 2]!;
  h.sort();
  let best = 0, bestC = h[0]!, j = 0;
  for (let i = 0; i < n; i++) {
    while (h[i]! - h[j]! > 2 * t) j++;
    // ties go to the lower slab (a floor under a table of the same point count)
    if (i - j + 1 > best) { best = i - j + 1; bestC = 0.5 * (h[i]! + h[j]!); }
  }
  return bestC;
}

function ransacPlane(xyz: ArrayLike<number>, t: number, iterations: number, rng: Rng): { normal: Vec3; offset: number } {
  const n = xyz.length / 3;
  const P = (i: number): Vec3 => [xyz[3 * i]!, xyz[3 * i + 1]!, xyz[3 * i + 2]!];
  // score on a fixed subsample: cost independent of the scene size
  const stride = Math.max(1, Math.floor(n / 20000));
  let best = { normal: [0, 0, 1] as Vec3, offset: 0 }, bestCount = -1;
  for (let it = 0; it < iterations; it++) {
    const a = P(rng.int(n)), b = P(rng.int(n)), c = P(rng.int(n));
    const nn = cross([b[0] - a[0], b[1] - a[1], b[2] - a[2]], [c[0] - a[0], c[1] - a[1], c[2] - a[2]]);
    const len = Math.hypot(...nn);
    if (!(len > 1e-12)) continue;
    const normal: Vec3 = [nn[0] / len, nn[1] / len, nn[2] / len];
    const offset = -dot(normal, a);
    let count = 0;
    for (let i = 0; i < n; i += stride) if (Math.abs(normal[0] * xyz[3 * i]! + normal[1] * xyz[3 * i + 1]! + normal[2] * xyz[3 * i + 2]! + offset) <= t) count++;
    if (count > bestCount) { bestCount = count; best = { normal, offset }; }
  }
  return best;
}

/** Least-squares plane through the points (smallest-eigenvalue direction of their covariance). */
function fitPlane(xyz: ArrayLike<number>, idx: Int32Array): { normal: Vec3; offset: number } | null {
  if (idx.length < 3) return null;
  const c = [0, 0, 0];
  for (const i of idx) for (let a = 0; a < 3; a++) c[a]! += xyz[3 * i + a]! / idx.length;
  const C = new Array<number>(9).fill(0);
  for (const i of idx) {
    const d = [xyz[3 * i]! - c[0]!, xyz[3 * i + 1]! - c[1]!, xyz[3 * i + 2]! - c[2]!];
    for (let r = 0; r < 3; r++) for (let s = 0; s < 3; s++) C[3 * r + s]! += d[r]! * d[s]!;
  }
  const normal = smallestEigenvector(C);
  return { normal, offset: -dot(normal, c) };
}

/** Smallest eigenvector of a symmetric 3×3 (inverse power iteration on a shifted matrix). */
function smallestEigenvector(C: number[]): Vec3 {
  // power iteration on (tr·I − C) converges to C's smallest eigenvector
  const tr = C[0]! + C[4]! + C[8]! + 1e-30;
  const M = C.map((v, k) => (k % 4 === 0 ? tr - v : -v));
  let v: Vec3 = [0.3, 0.5, 0.8];
  for (let it = 0; it < 200; it++) {
    const w: Vec3 = [M[0]! * v[0] + M[1]! * v[1] + M[2]! * v[2], M[3]! * v[0] + M[4]! * v[1] + M[5]! * v[2], M[6]! * v[0] + M[7]! * v[1] + M[8]! * v[2]];
    const l = Math.hypot(...w);
    if (!(l > 0)) break;
    v = [w[0] / l, w[1] / l, w[2] / l];
  }
  return v;
}

function orient(xyz: ArrayLike<number>, p: { normal: Vec3; offset: number }, t: number, towards?: ArrayLike<number>): { normal: Vec3; offset: number } {
  let side = 0;
  if (towards && towards.length >= 3) {
    for (let i = 0; i < towards.length / 3; i++) side += heightOf(p, towards, i);
  } else {
    for (let i = 0; i < xyz.length / 3; i++) {
      const h = heightOf(p, xyz, i);
      if (Math.abs(h) > t) side += Math.sign(h);
    }
  }
  return side >= 0 ? p : { normal: p.normal.map((v) => -v) as Vec3, offset: -p.offset };
}
