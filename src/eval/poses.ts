/**
 * Pose accuracy of a sparse model against ground truth, computed as /work/shared/tools/poseeval.mjs
 * does (so the numbers agree): images matched by name (exact, basename, then case-insensitive stem);
 * a similarity maps estimated camera centres onto GT centres (refitted once without the worst 10 %
 * when the worst residual exceeds 5× the median); when GT centres are nearly collinear
 * ((λ2 + λ3) / λ1 < 0.01, drive footage) or alignRotationsOnly is set, the rotation comes from the
 * camera orientations and only scale and translation from the centres. Rotation error of an image is
 * angle(R_gt S R_estᵀ); centre error |s S C_est + T − C_gt| in GT units.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SparseModel } from '../core/sparse-model.js';
import { UserError } from '../util/errors.js';
import { symmetricEigen } from '../geometry/linalg.js';
import { quatToMat, rotationDistanceDeg, matMul3, transpose3, matVec3 } from '../geometry/rotation.js';

export interface PoseEvaluation {
  registered: number;
  total: number;
  rotErrDeg: { mean: number; median: number; max: number };
  centerErr: { mean: number; median: number; max: number };
  /** centre errors divided by the diagonal of the GT centres' bounding box */
  centerErrRel: { mean: number; max: number };
  /** est → GT scale of the alignment */
  scale: number;
  perImage: Array<{ name: string; rotErrDeg: number; centerErr: number }>;
  /** how the rotation of the alignment was found */
  alignedBy?: 'centres' | 'rotations';
  /** relative focal error |f·W_gt/W_est − f_gt| / f_gt, when GT has K and width */
  focalRelErr?: { mean: number; max: number };
  /** GT images not matched by any estimated image */
  missing?: string[];
}

export interface GtCamera { R: number[]; t: number[]; K?: number[]; width?: number; height?: number }

type V3 = [number, number, number];
const sub = (a: readonly number[], b: readonly number[]): V3 => [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
const dot = (a: readonly number[], b: readonly number[]) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
const norm = (a: readonly number[]) => Math.sqrt(dot(a, a));

/** Proper rotation R maximising trace(R M) (Horn's quaternion method, as poseeval). */
export function rotationMaximizingTrace(M: readonly number[]): number[] {
  const [xx, xy, xz, yx, yy, yz, zx, zy, zz] = M as number[] as V3 & number[];
  const N = [
    xx! + yy! + zz!, yz! - zy!, zx! - xz!, xy! - yx!,
    yz! - zy!, xx! - yy! - zz!, xy! + yx!, zx! + xz!,
    zx! - xz!, xy! + yx!, -xx! + yy! - zz!, yz! + zy!,
    xy! - yx!, zx! + xz!, yz! + zy!, -xx! - yy! + zz!,
  ];
  const { vectors } = symmetricEigen(N, 4);
  return quatToMat(vectors[3]!);
}

/** Nearest rotation (Frobenius) to a 3×3 matrix. */
export function nearestRotation(M: readonly number[]): number[] {
  return rotationMaximizingTrace(transpose3(M));
}

interface Sim { s: number; R: number[]; T: V3 }
const applySim = (f: Sim, x: readonly number[]): V3 => { const r = matVec3(f.R, x); return [f.s * r[0] + f.T[0], f.s * r[1] + f.T[1], f.s * r[2] + f.T[2]]; };

/** Y ≈ s R X + T (least squares; R fitted unless given); null without spread. */
function fitSimilarity(X: V3[], Y: V3[], fixedR: number[] | null): Sim | null {
  const n = X.length;
  const mx: V3 = [0, 0, 0], my: V3 = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) { mx[k] += X[i]![k]! / n; my[k] += Y[i]![k]! / n; }
  const S = new Array<number>(9).fill(0);
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const x = sub(X[i]!, mx), y = sub(Y[i]!, my);
    sxx += dot(x, x);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) S[a * 3 + b]! += x[a]! * y[b]!;
  }
  if (!(sxx > 0)) return null;
  const R = fixedR ?? rotationMaximizingTrace(S);
  let num = 0;
  for (let i = 0; i < n; i++) num += dot(sub(Y[i]!, my), matVec3(R, sub(X[i]!, mx)));
  const s = num / sxx;
  if (!(s > 0)) return null;
  const Rm = matVec3(R, mx);
  return { s, R, T: [my[0] - s * Rm[0], my[1] - s * Rm[1], my[2] - s * Rm[2]] };
}

function stats(values: number[]): { mean: number; median: number; max: number } {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return { mean: NaN, median: NaN, max: NaN };
  const m = v.length >> 1;
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, median: v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2, max: v[v.length - 1]! };
}

const baseName = (n: string) => n.split(/[\\/]/).pop() ?? n;
const stemKey = (n: string) => baseName(n).replace(/\.[^.]*$/, '').toLowerCase();

/** Pairs (estimated image, GT name): exact name, then basename, then case-insensitive stem. */
function matchImages(est: SparseModel, gtNames: string[]): Array<{ imageId: number; gt: string }> {
  const index = (keyOf: (n: string) => string) => {
    const m = new Map<string, string | null>();
    for (const g of gtNames) { const k = keyOf(g); m.set(k, m.has(k) ? null : g); }
    return m;
  };
  const byName = index((n) => n), byBase = index(baseName), byStem = index(stemKey);
  const taken = new Set<string>(), pairs: Array<{ imageId: number; gt: string }> = [];
  const tryMatch = (id: number, g: string | null | undefined) => {
    if (!g) return false;
    if (!taken.has(g)) { taken.add(g); pairs.push({ imageId: id, gt: g }); }
    return true;
  };
  const later: Array<{ id: number; name: string }> = [];
  const images = [...est.images.values()].sort((a, b) => a.id - b.id);
  for (const im of images) if (!tryMatch(im.id, byName.get(im.name) || byBase.get(baseName(im.name)))) later.push(im);
  for (const im of later) tryMatch(im.id, byStem.get(stemKey(im.name)));
  pairs.sort((a, b) => (a.gt < b.gt ? -1 : a.gt > b.gt ? 1 : 0));
  return pairs;
}

export function evaluatePoses(est: SparseModel, gt: Map<string, GtCamera>, opts: { alignRotationsOnly?: boolean } = {}): PoseEvaluation {
  const gtNames = [...gt.keys()];
  const gtR = new Map<string, number[]>(), gtC = new Map<string, V3>();
  for (const [name, g] of gt) {
    const R = nearestRotation(g.R);
    gtR.set(name, R);
    const c = matVec3(transpose3(g.R), g.t);
    gtC.set(name, [-c[0], -c[1], -c[2]]);
  }
  const pairs = matchImages(est, gtNames);
  const Re = pairs.map((p) => quatToMat(est.images.get(p.imageId)!.qvec));
  const Ce = pairs.map((p, i): V3 => { const c = matVec3(transpose3(Re[i]!), est.images.get(p.imageId)!.tvec); return [-c[0], -c[1], -c[2]]; });
  const Cg = pairs.map((p) => gtC.get(p.gt)!);
  const Rg = pairs.map((p) => gtR.get(p.gt)!);

  const allC = [...gtC.values()];
  const lo = [0, 1, 2].map((k) => Math.min(...allC.map((c) => c[k]!)));
  const hi = [0, 1, 2].map((k) => Math.max(...allC.map((c) => c[k]!)));
  const diag = allC.length ? norm(sub(hi, lo)) : NaN;

  // Rotation from orientations: argmax_S Σ tr(R_gt S R_estᵀ) = argmax tr(S Σ R_estᵀ R_gt).
  let So: number[] | null = null;
  if (pairs.length) {
    const M = new Array<number>(9).fill(0);
    pairs.forEach((_, i) => { const P = matMul3(transpose3(Re[i]!), Rg[i]!); for (let k = 0; k < 9; k++) M[k]! += P[k]!; });
    So = rotationMaximizingTrace(M);
  }
  let collinearity = NaN;
  if (Cg.length >= 3) {
    const m = [0, 1, 2].map((k) => Cg.reduce((s, c) => s + c[k]!, 0) / Cg.length);
    const cov = new Array<number>(9).fill(0);
    for (const c of Cg) { const d = sub(c, m); for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) cov[a * 3 + b]! += d[a]! * d[b]!; }
    const ev = symmetricEigen(cov, 3).values.sort((a, b) => b - a);
    collinearity = ev[0]! > 0 ? Math.max(0, ev[1]! + ev[2]!) / ev[0]! : 0;
  }
  const alignedBy: 'centres' | 'rotations' = opts.alignRotationsOnly || collinearity < 0.01 ? 'rotations' : 'centres';
  const fixedR = alignedBy === 'rotations' ? So : null;

  // Robust alignment: refit once without the worst 10 % when the worst residual is > 5× the median.
  let fit: Sim | null = null;
  const n = pairs.length;
  if (n >= 3) {
    fit = fitSimilarity(Ce, Cg, fixedR);
    if (fit) {
      const r = Ce.map((c, i) => norm(sub(applySim(fit!, c), Cg[i]!)));
      const { median, max } = stats(r);
      const k = Math.max(1, Math.round(0.1 * n));
      if (max > 5 * median && max > 1e-9 * (diag || 1) && n - k >= 3) {
        const order = [...r.keys()].sort((a, b) => r[b]! - r[a]!);
        const used = order.slice(k).sort((a, b) => a - b);
        const refit = fitSimilarity(used.map((i) => Ce[i]!), used.map((i) => Cg[i]!), fixedR);
        if (refit) fit = refit;
      }
    }
  }
  const rot = pairs.map((_, i) => (fit ? rotationDistanceDeg(matMul3(Rg[i]!, fit.R), Re[i]!) : NaN));
  const centre = pairs.map((_, i) => (fit ? norm(sub(applySim(fit, Ce[i]!), Cg[i]!)) : NaN));
  const focal = pairs.map((p) => {
    const g = gt.get(p.gt)!, im = est.images.get(p.imageId)!, cam = est.cameras.get(im.cameraId);
    if (!cam || !g.K) return NaN;
    const f = cam.params[0]! * (g.width && g.width > 0 && cam.width > 0 ? g.width / cam.width : 1);
    return Math.abs(f - g.K[0]!) / g.K[0]!;
  });
  const cs = stats(centre), fs2 = stats(focal);
  const matched = new Set(pairs.map((p) => p.gt));
  return {
    registered: n,
    total: gt.size,
    rotErrDeg: stats(rot),
    centerErr: cs,
    centerErrRel: { mean: cs.mean / diag, max: cs.max / diag },
    scale: fit ? fit.s : NaN,
    perImage: pairs.map((p, i) => ({ name: p.gt, rotErrDeg: rot[i]!, centerErr: centre[i]! })),
    alignedBy,
    focalRelErr: { mean: fs2.mean, max: fs2.max },
    missing: gtNames.filter((g) => !matched.has(g)),
  };
}

const isMat3 = (M: unknown): M is number[][] => Array.isArray(M) && M.length === 3 && M.every((r) => Array.isArray(r) && r.length === 3 && r.every((x) => Number.isFinite(x)));
const isVec3 = (v: unknown): v is number[] => Array.isArray(v) && v.length === 3 && v.every((x) => Number.isFinite(x));

/** Reads a dataset's gt/cameras_w2c.json: {"images": {NAME: {K, R, t, width, height}}}, x_cam = R X + t. */
export function loadGroundTruthW2C(file: string): Map<string, { R: number[]; t: number[]; K: number[]; width: number; height: number }> {
  let j: unknown;
  try { j = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code ? `cannot read ground truth ${file} (${code})` : `ground truth ${file} is not JSON`, { file, fix: 'pass a cameras_w2c.json from a dataset gt/ folder', cause: e });
  }
  const images = (j as { images?: unknown })?.images;
  if (!images || typeof images !== 'object' || !Object.keys(images).length) throw new UserError(`ground truth ${file} has no "images" entries`, { file, fix: 'expected {"images": {NAME: {K, R, t, width, height}}}' });
  const out = new Map<string, { R: number[]; t: number[]; K: number[]; width: number; height: number }>();
  for (const [name, c] of Object.entries(images as Record<string, { R?: unknown; t?: unknown; K?: unknown; width?: unknown; height?: unknown }>)) {
    if (!c || !isMat3(c.R) || !isVec3(c.t)) throw new UserError(`ground truth ${file}: image ${name} lacks a 3x3 "R" or a 3-vector "t"`, { file, fix: `give ${path.basename(file)} world-to-camera R and t for every image` });
    out.set(name, {
      R: c.R.flat(), t: c.t.slice(),
      K: isMat3(c.K) ? c.K.flat() : [NaN, 0, NaN, 0, NaN, NaN, 0, 0, 1],
      width: Number(c.width) || 0, height: Number(c.height) || 0,
    });
  }
  return out;
}
