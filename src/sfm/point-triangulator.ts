/**
 * 3D points for a model whose cameras and poses are already known (what COLMAP's
 * point_triangulator does): features → pairs chosen from the poses → descriptor matching →
 * epipolar filtering with the KNOWN relative pose (Sampson distance to E = [t]ₓR, no RANSAC) →
 * tracks (union–find over matched keypoints) → per-track multi-view triangulation with a small
 * RANSAC over observation pairs (angle, cheirality and reprojection checks) → points-only
 * refinement (poses and intrinsics fixed, so each point is an independent 3-parameter problem).
 * Used when an imported model (e.g. a ground-truth COLMAP text model) carries no points, so the
 * trainer starts from the scene's surfaces rather than from random Gaussians.
 */
import path from 'node:path';
import type { Camera } from '../core/camera.js';
import type { Image, Point3D, SparseModel } from '../core/sparse-model.js';
import { projectPoint, unprojectPixel, meanFocal } from '../geometry/camera-model.js';
import { quatToMat, matVec3, cameraCenter } from '../geometry/rotation.js';
import { choleskySolve } from '../geometry/linalg.js';
import { triangulateDLT } from '../geometry/triangulate.js';
import { mulberry32 } from '../util/rng.js';
import { info } from '../util/log.js';
import { SfmDatabase } from './database.js';
import { extractFeatures, defaultFeatureOptions } from './features.js';
import { matchPairs, defaultMatchOptions } from './matching.js';
import { maxAngleDeg } from './mapper.js';
import { JAC_POINT, JAC_STRIDE, projectWithJacobian } from './projection-jacobian.js';
import type { FeatureSet, ImagePair } from './types.js';

/** Options of triangulateKnownPoses. Pixel thresholds are in the model cameras' pixels. */
export interface KnownPoseOptions {
  /** which pairs to match: 'auto' = exhaustive up to `exhaustiveUpTo` images, else 'neighbours' */
  pairs: 'auto' | 'exhaustive' | 'neighbours';
  /** default 40: exhaustive matching grows with n², fine below this */
  exhaustiveUpTo: number;
  /** default 12: partners per image for 'neighbours' (nearest centres among those looking the same way) */
  neighbours: number;
  /** default 70: pairs whose viewing directions differ more rarely share a feature */
  maxViewAngleDeg: number;
  /** default 'akaze' */
  featureType: 'akaze' | 'orb';
  /** default 1600: longest side the detector sees; thresholds scale up with the downscale factor */
  maxImageSize: number;
  /** default 5000 keypoints per image */
  maxFeatures: number;
  /** default 0.8: descriptor ratio test (the epipolar test removes most of what it lets through) */
  ratio: number;
  /** default 2 px: Sampson distance to the known epipolar geometry */
  epipolarMaxError: number;
  /** default 4 px: a reprojection above this is not an observation of the point */
  maxReprojError: number;
  /** default 1.5°: widest angle between a point's rays; below it depth is too uncertain */
  minTriAngleDeg: number;
  /** default 2: observations a point needs (3 is stricter against chance epipolar matches) */
  minTrackLength: number;
  /** default true: refine each point on its observations with the poses fixed */
  refinePoints: boolean;
  /** default in-memory: an SfM database file, to reuse features / matches across runs */
  database?: string;
  /** default min(2, cores): feature and matching worker threads */
  workers?: number;
  /** default 1: seed of the per-track RANSAC */
  seed: number;
  /** default false */
  silent?: boolean;
}

export const defaultKnownPoseOptions: KnownPoseOptions = {
  pairs: 'auto', exhaustiveUpTo: 40, neighbours: 12, maxViewAngleDeg: 70, featureType: 'akaze', maxImageSize: 1600, maxFeatures: 5000,
  ratio: 0.8, epipolarMaxError: 2, maxReprojError: 4, minTriAngleDeg: 1.5, minTrackLength: 2, refinePoints: true, seed: 1,
};

/** Per-image view of the known model: pose, centre, camera, and keypoints in camera pixels / normalised coordinates. */
interface View {
  image: Image;
  cam: Camera;
  R: number[];
  t: number[];
  C: number[];
  f: FeatureSet;
  /** keypoints in the model camera's pixels (x, y) */
  px: Float64Array;
  /** undistorted normalised coordinates (x, y) */
  nx: Float64Array;
}

/** One observation of a track: view index, keypoint index. */
type Obs = [number, number];

/**
 * The model with points3D triangulated from its known poses, and each image's 2D observations
 * replaced by the keypoints those points use. Cameras and poses are returned unchanged.
 */
export async function triangulateKnownPoses(model: SparseModel, imagesDir: string, options: Partial<KnownPoseOptions> = {}): Promise<SparseModel> {
  const o: KnownPoseOptions = { ...defaultKnownPoseOptions, ...options };
  const images = [...model.images.values()].sort((a, b) => a.id - b.id);
  const db = new SfmDatabase(o.database ?? ':memory:');
  try {
    const feats = await extractFeatures(db, images.map((im) => ({ name: im.name, path: path.join(imagesDir, im.name) })), {
      ...defaultFeatureOptions, type: o.featureType, maxImageSize: o.maxImageSize, maxFeatures: o.maxFeatures, workers: o.workers, silent: o.silent,
    });
    const views = images.map((im, i) => makeView(im, model.cameras.get(im.cameraId)!, feats[i]!));
    // the detector saw a downscaled image: its keypoints are that much less precise
    const down = Math.max(1, Math.max(...feats.map((f) => Math.max(f.width, f.height))) / o.maxImageSize);
    const pairs = selectPosePairs(views, o);
    const matches = await matchPairs(db, feats, pairs, { ...defaultMatchOptions, ratio: o.ratio, workers: o.workers, silent: o.silent });
    const tracks = buildTracks(views, pairs, matches, o.epipolarMaxError * down);
    const points = triangulateTracks(views, tracks, { ...o, maxReprojError: o.maxReprojError * down });
    const out = toModel(model, views, points);
    if (!o.silent) info(`triangulated ${out.points3D.size} points from ${pairs.length} pairs and ${tracks.length} tracks (known poses)`);
    return out;
  } finally {
    db.close();
  }
}

function makeView(image: Image, cam: Camera, f: FeatureSet): View {
  const R = quatToMat(image.qvec), t = [...image.tvec];
  // keypoints are in the image file's pixels; the model's camera may describe another size
  const sx = cam.width / f.width, sy = cam.height / f.height;
  const px = new Float64Array(2 * f.n), nx = new Float64Array(2 * f.n);
  for (let k = 0; k < f.n; k++) {
    px[2 * k] = f.kp[4 * k]! * sx; px[2 * k + 1] = f.kp[4 * k + 1]! * sy;
    const [u, v] = unprojectPixel(cam, px[2 * k]!, px[2 * k + 1]!);
    nx[2 * k] = u; nx[2 * k + 1] = v;
  }
  return { image, cam, R, t, C: [...cameraCenter(R, t)], f, px, nx };
}

/**
 * Pairs worth matching, from the poses: every pair for small sets, else each image's nearest
 * centres among the images whose viewing direction is within maxViewAngleDeg of its own.
 */
export function selectPosePairs(views: Array<{ R: number[]; C: number[] }>, o: Pick<KnownPoseOptions, 'pairs' | 'exhaustiveUpTo' | 'neighbours' | 'maxViewAngleDeg'>): ImagePair[] {
  const n = views.length;
  const exhaustive = o.pairs === 'exhaustive' || (o.pairs === 'auto' && n <= o.exhaustiveUpTo);
  const cosMax = Math.cos((o.maxViewAngleDeg * Math.PI) / 180);
  const set = new Set<number>();
  for (let i = 0; i < n; i++) {
    const cand: Array<[number, number]> = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const a = views[i]!.R, b = views[j]!.R;
      const cos = a[6]! * b[6]! + a[7]! * b[7]! + a[8]! * b[8]!; // viewing directions: third rows
      if (!exhaustive && cos < cosMax) continue;
      const ci = views[i]!.C, cj = views[j]!.C;
      cand.push([Math.hypot(ci[0]! - cj[0]!, ci[1]! - cj[1]!, ci[2]! - cj[2]!), j]);
    }
    cand.sort((x, y) => x[0] - y[0]);
    for (const [, j] of exhaustive ? cand : cand.slice(0, o.neighbours)) set.add(Math.min(i, j) * n + Math.max(i, j));
  }
  return [...set].sort((a, b) => a - b).map((v) => ({ i: Math.floor(v / n), j: v % n }));
}

/** Essential matrix of the known relative pose x2 = R x1 + t (row-major), null for a zero baseline. */
export function essentialFromPoses(R1: number[], t1: number[], R2: number[], t2: number[]): number[] | null {
  const R = mul3T(R2, R1); // R2 R1ᵀ
  const Rt1 = matVec3(R, t1);
  const t = [t2[0]! - Rt1[0], t2[1]! - Rt1[1], t2[2]! - Rt1[2]];
  const n = Math.hypot(t[0]!, t[1]!, t[2]!);
  if (!(n > 1e-12 * (1 + Math.hypot(t1[0]!, t1[1]!, t1[2]!)))) return null;
  const tx = [0, -t[2]! / n, t[1]! / n, t[2]! / n, 0, -t[0]! / n, -t[1]! / n, t[0]! / n, 0];
  const E = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) E[3 * r + c]! += tx[3 * r + k]! * R[3 * k + c]!;
  return E;
}

/** Squared Sampson distance (normalised units) of x2ᵀ E x1 = 0. */
export function sampsonSq(E: number[], x1: number, y1: number, x2: number, y2: number): number {
  const a0 = E[0]! * x1 + E[1]! * y1 + E[2]!, a1 = E[3]! * x1 + E[4]! * y1 + E[5]!, a2 = E[6]! * x1 + E[7]! * y1 + E[8]!;
  const b0 = E[0]! * x2 + E[3]! * y2 + E[6]!, b1 = E[1]! * x2 + E[4]! * y2 + E[7]!;
  const e = x2 * a0 + y2 * a1 + a2;
  const den = a0 * a0 + a1 * a1 + b0 * b0 + b1 * b1;
  return den > 0 ? (e * e) / den : Infinity;
}

/** Matches that agree with the known epipolar geometry, joined into tracks by union–find. */
function buildTracks(views: View[], pairs: ImagePair[], matches: Uint32Array[], maxErrPx: number): Obs[][] {
  const base = new Int32Array(views.length + 1);
  views.forEach((v, i) => { base[i + 1] = base[i]! + v.f.n; });
  const parent = new Int32Array(base[views.length]!).map((_, k) => k);
  const find = (k: number): number => { while (parent[k] !== k) { parent[k] = parent[parent[k]!]!; k = parent[k]!; } return k; };
  pairs.forEach(({ i, j }, p) => {
    const a = views[i]!, b = views[j]!, m = matches[p]!;
    const E = essentialFromPoses(a.R, a.t, b.R, b.t);
    if (!E) return; // same centre: no depth from this pair, and no epipolar test either
    // Sampson distance is in normalised units; one pixel is 1/focal of them
    const thr2 = (maxErrPx * maxErrPx) / (meanFocal(a.cam) * meanFocal(b.cam));
    for (let k = 0; k < m.length; k += 2) {
      const ka = m[k]!, kb = m[k + 1]!;
      if (sampsonSq(E, a.nx[2 * ka]!, a.nx[2 * ka + 1]!, b.nx[2 * kb]!, b.nx[2 * kb + 1]!) > thr2) continue;
      const ra = find(base[i]! + ka), rb = find(base[j]! + kb);
      if (ra !== rb) parent[ra] = rb;
    }
  });
  // only keypoints matched at least once make tracks; count members first to skip singletons
  const size = new Int32Array(parent.length);
  for (let k = 0; k < parent.length; k++) size[find(k)]!++;
  const groups = new Map<number, Obs[]>();
  for (let v = 0; v < views.length; v++) {
    for (let k = 0; k < views[v]!.f.n; k++) {
      const r = find(base[v]! + k);
      if (size[r]! < 2) continue;
      const g = groups.get(r);
      if (g) g.push([v, k]);
      else groups.set(r, [[v, k]]);
    }
  }
  return [...groups.values()];
}

interface TriPoint { X: number[]; obs: Obs[]; error: number }

/**
 * Points of each track. A track may join two surface points (a wrong match chained through), so
 * each is solved by RANSAC over pairs of its observations; what the best point leaves over is tried
 * again, up to three points per track.
 */
function triangulateTracks(views: View[], tracks: Obs[][], o: KnownPoseOptions): TriPoint[] {
  const rng = mulberry32(o.seed);
  const out: TriPoint[] = [];
  for (const track of tracks) {
    let rest = track;
    for (let round = 0; round < 3 && rest.length >= o.minTrackLength; round++) {
      const p = bestPoint(views, rest, o, rng);
      if (!p) break;
      out.push(p);
      const used = new Set(p.obs.map(([v, k]) => `${v}:${k}`));
      rest = rest.filter(([v, k]) => !used.has(`${v}:${k}`));
    }
  }
  return out;
}

function bestPoint(views: View[], obs: Obs[], o: KnownPoseOptions, rng: () => number): TriPoint | null {
  const m = obs.length;
  const trials: Array<[number, number]> = [];
  if (m <= 12) { for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) trials.push([a, b]); }
  else for (let s = 0; s < 60; s++) { const a = Math.floor(rng() * m), b = Math.floor(rng() * m); if (a !== b) trials.push([a, b]); }
  let best: Obs[] | null = null, bestErr = Infinity;
  for (const [a, b] of trials) {
    const oa = obs[a]!, ob = obs[b]!;
    if (oa[0] === ob[0]) continue;
    const X = dlt(views, [oa, ob]);
    if (!X || maxAngleDeg([views[oa[0]]!.C, views[ob[0]]!.C], X) < o.minTriAngleDeg) continue;
    const inl = inliers(views, obs, X, o.maxReprojError);
    if (!inl.obs.some((x) => x === oa) || !inl.obs.some((x) => x === ob)) continue;
    if (!best || inl.obs.length > best.length || (inl.obs.length === best.length && inl.err < bestErr)) { best = inl.obs; bestErr = inl.err; }
  }
  if (!best || best.length < o.minTrackLength) return null;
  // refit on every inlier, refine, and check again
  let X = dlt(views, best);
  if (!X) return null;
  if (o.refinePoints) X = refinePoint(views, best, X);
  const fin = inliers(views, best, X, o.maxReprojError);
  if (fin.obs.length < o.minTrackLength) return null;
  if (maxAngleDeg(fin.obs.map(([v]) => views[v]!.C), X) < o.minTriAngleDeg) return null;
  return { X, obs: fin.obs, error: fin.err / fin.obs.length };
}

function dlt(views: View[], obs: Obs[]): number[] | null {
  const Ps = obs.map(([v]) => { const { R, t } = views[v]!; return [R[0]!, R[1]!, R[2]!, t[0]!, R[3]!, R[4]!, R[5]!, t[1]!, R[6]!, R[7]!, R[8]!, t[2]!]; });
  const xs = obs.map(([v, k]) => [views[v]!.nx[2 * k]!, views[v]!.nx[2 * k + 1]!] as [number, number]);
  return triangulateDLT(Ps, xs);
}

/** Observations within maxErr px that see X in front, one per image (the closest), and their summed error. */
function inliers(views: View[], obs: Obs[], X: number[], maxErr: number): { obs: Obs[]; err: number } {
  const byView = new Map<number, [Obs, number]>();
  for (const ob of obs) {
    const v = views[ob[0]]!;
    const Xc = matVec3(v.R, X);
    const p = projectPoint(v.cam, [Xc[0] + v.t[0]!, Xc[1] + v.t[1]!, Xc[2] + v.t[2]!]);
    if (!p) continue;
    const e = Math.hypot(p[0] - v.px[2 * ob[1]]!, p[1] - v.px[2 * ob[1] + 1]!);
    if (!(e <= maxErr)) continue;
    const cur = byView.get(ob[0]);
    if (!cur || e < cur[1]) byView.set(ob[0], [ob, e]);
  }
  let err = 0;
  const out: Obs[] = [];
  for (const [ob, e] of byView.values()) { out.push(ob); err += e; }
  return { obs: out, err };
}

/** Gauss–Newton with Levenberg damping on one point's reprojection errors (poses fixed). */
function refinePoint(views: View[], obs: Obs[], X0: number[]): number[] {
  const jac = new Float64Array(2 + 2 * JAC_STRIDE);
  const cost = (X: number[]): number => {
    let c = 0;
    for (const [v, k] of obs) {
      const w = views[v]!;
      if (!projectWithJacobian(w.cam.model, w.cam.params, w.R, w.t, X, 0, jac)) return Infinity;
      c += (jac[0]! - w.px[2 * k]!) ** 2 + (jac[1]! - w.px[2 * k + 1]!) ** 2;
    }
    return c;
  };
  let X = X0, c0 = cost(X), lambda = 1e-4;
  for (let it = 0; it < 10; it++) {
    const H = new Float64Array(9), g = new Float64Array(3);
    for (const [v, k] of obs) {
      const w = views[v]!;
      if (!projectWithJacobian(w.cam.model, w.cam.params, w.R, w.t, X, 0, jac)) return X;
      const r = [jac[0]! - w.px[2 * k]!, jac[1]! - w.px[2 * k + 1]!];
      for (let row = 0; row < 2; row++) {
        const J = [0, 1, 2].map((c) => jac[2 + row * JAC_STRIDE + JAC_POINT + c]!);
        for (let a = 0; a < 3; a++) { g[a]! += J[a]! * r[row]!; for (let b = 0; b < 3; b++) H[3 * a + b]! += J[a]! * J[b]!; }
      }
    }
    for (let a = 0; a < 3; a++) H[4 * a]! *= 1 + lambda;
    const d = Float64Array.from([-g[0]!, -g[1]!, -g[2]!]);
    if (!choleskySolve(H, 3, d)) return X;
    const Xn = [X[0]! + d[0]!, X[1]! + d[1]!, X[2]! + d[2]!];
    const c1 = cost(Xn);
    if (c1 < c0) { const done = c0 - c1 < 1e-10 * c0; X = Xn; c0 = c1; lambda *= 0.3; if (done) break; }
    else lambda *= 10;
  }
  return X;
}

function toModel(model: SparseModel, views: View[], points: TriPoint[]): SparseModel {
  const obsOf = views.map(() => ({ xys: [] as number[], ids: [] as number[] }));
  const points3D = new Map<number, Point3D>();
  points.forEach((p, i) => {
    const id = i + 1;
    const rgb = [0, 0, 0];
    const track = p.obs.map(([v, k]) => {
      const w = views[v]!, list = obsOf[v]!;
      for (let c = 0; c < 3; c++) rgb[c]! += w.f.rgb[3 * k + c]!;
      list.xys.push(w.px[2 * k]!, w.px[2 * k + 1]!);
      list.ids.push(id);
      return { imageId: w.image.id, point2DIdx: list.ids.length - 1 };
    });
    const n = p.obs.length;
    points3D.set(id, { id, xyz: [p.X[0]!, p.X[1]!, p.X[2]!], rgb: rgb.map((c) => Math.round(c / n)) as [number, number, number], error: p.error, track });
  });
  const images = new Map<number, Image>();
  for (const [id, im] of model.images) images.set(id, { ...im, xys: new Float64Array(0), point3DIds: [] });
  views.forEach((w, v) => images.set(w.image.id, { ...w.image, xys: Float64Array.from(obsOf[v]!.xys), point3DIds: obsOf[v]!.ids }));
  return { cameras: new Map(model.cameras), images, points3D };
}

function mul3T(a: number[], b: number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[3 * r + c]! += a[3 * r + k]! * b[3 * c + k]!;
  return out;
}
