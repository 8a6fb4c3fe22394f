/**
 * Stage 4: incremental mapping, COLMAP-style. Start from the best-conditioned verified pair, then
 * repeatedly register the image that sees most existing points (PnP), extend and create tracks
 * (triangulation with angle, cheirality and reprojection checks), bundle-adjust locally after each
 * registration and globally now and then, and filter outlying observations. Intrinsics are refined
 * when they were not given: the focal during mapping, the principal point and distortion in the
 * final adjustments only where the views constrain them (selfcal.ts). A capture without parallax
 * (pure rotation, copies of one photo) is refused; a low-parallax one may use a lower minimum
 * triangulation angle (low-parallax.ts).
 */
import type { Camera } from '../core/camera.js';
import type { SparseModel } from '../core/sparse-model.js';
import { projectPoint, unprojectPixel } from '../geometry/camera-model.js';
import { estimateEssential } from '../geometry/ransac.js';
import { estimatePnP } from '../geometry/pnp.js';
import { triangulateDLT } from '../geometry/triangulate.js';
import { matToQuat, quatToMat } from '../geometry/rotation.js';
import { bundleAdjust, type BACamera, type BAImage, type BAObservation, type BAReport } from './bundle.js';
import { captureParallax, defaultParallaxOptions, hasParallax, lacksParallax, minTriangulationAngle, noParallaxReason, type CaptureParallax, type ParallaxOptions } from './low-parallax.js';
import { decideRefinement, defaultSelfCalOptions, implausibility, summariseStd, type IntrinsicsReport, type SelfCalOptions } from './selfcal.js';
import { Progress } from '../util/progress.js';
import type { FeatureSet, ImagePair, TwoViewGeometry } from './types.js';
import { gatherPoints } from './verify.js';

export interface CameraRefine {
  focal: boolean;
  principalPoint: boolean;
  distortion: boolean;
}

export interface MapperInput {
  feats: FeatureSet[];
  cameras: Camera[];
  /** camera index of each image */
  imageCamera: number[];
  /** what self-calibration may refine, per camera */
  refine: CameraRefine[];
  /** focals known or measured (EXIF), not guessed: a flat scene without parallax can still be posed (default: none is refined) */
  trustedFocal?: boolean;
  pairs: ImagePair[];
  geoms: TwoViewGeometry[];
}

export interface MapperOptions {
  /** reprojection threshold (px) for PnP, triangulation and filtering */
  maxError: number;
  minTriAngleDeg: number;
  minPnPInliers: number;
  /**
   * PnP RANSAC threshold as a multiple of maxError. Wider than the triangulation threshold (COLMAP
   * uses 12 px): a new image is posed against points that may still carry the error of a short
   * baseline and of not yet refined intrinsics; the local BA and the filter tighten it afterwards.
   */
  pnpErrorFactor: number;
  /** images in a local bundle adjustment besides the new one */
  localBAImages: number;
  /** when the principal point and distortion may be refined (self-calibration) */
  selfCal: SelfCalOptions;
  /** depth evidence and the lowered minimum angle of low-parallax captures */
  parallax: ParallaxOptions;
  seed: number;
  silent?: boolean;
}

// minTriAngleDeg 1° (OpenSfM's default; COLMAP uses 1.5°): a walk or drive looking forward gives
// consecutive pairs median angles of only 0.5–2°, and at 1.5° too few points survive at the front of
// the model for the next image's PnP. samples/lund (800 px): 15/29 registered at 1.5° and 1× PnP
// threshold, 24/29 at 1°, 21/29 with a 2× PnP threshold alone, 29/29 with both; fountain-P11 unchanged
export const defaultMapperOptions: MapperOptions = { maxError: 4, minTriAngleDeg: 1, minPnPInliers: 20, pnpErrorFactor: 2, localBAImages: 8, selfCal: defaultSelfCalOptions, parallax: defaultParallaxOptions, seed: 1 };

interface Pt {
  X: [number, number, number];
  obs: Array<[number, number]>; // (image, feature)
}

export interface MapperResult {
  model: SparseModel;
  registered: number[];
  failed: Array<{ name: string; reason: string }>;
  stats: { registered: number; total: number; points: number; meanTrackLength: number; meanReprojError: number; initialPair: [string, string] | null; groups: number[]; minTriAngleDeg: number; parallax: CaptureParallax };
  /** per self-calibrated camera: what was refined and how well constrained it is */
  intrinsics: IntrinsicsReport[];
}

export class IncrementalMapper {
  private readonly n: number;
  /** correspondences: per image, feature → flat (image, feature) list */
  private readonly corr: Array<Map<number, number[]>>;
  private readonly adj: Array<Map<number, number>>; // verified inlier counts between images
  private readonly R: Array<number[] | null>;
  private readonly t: Array<number[] | null>;
  private readonly pointOf: Int32Array[];
  private readonly points = new Map<number, Pt>();
  private nextPoint = 0;
  private gauge: [number, number] = [-1, -1];
  private readonly failReason = new Map<number, string>();
  /** connected component of each image in the verified-pair graph, and the component sizes */
  private readonly component: Int32Array;
  private readonly componentSizes: number[] = [];
  /** what the final adjustments refine per camera ('all'): input.refine narrowed by calibrate() */
  private readonly calib: CameraRefine[];
  private readonly intrinsicsReport: IntrinsicsReport[] = [];
  private readonly parallax: CaptureParallax;
  /** minimum triangulation angle in use (degrees): the option, lowered for low-parallax captures */
  private readonly minTri: number;
  /** per camera: std of each intrinsic from the last adjustment that asked for it */
  private readonly lastStd = new Map<number, Float64Array>();

  constructor(private readonly input: MapperInput, private readonly opts: MapperOptions) {
    this.n = input.feats.length;
    this.corr = input.feats.map(() => new Map());
    this.adj = input.feats.map(() => new Map());
    this.R = input.feats.map(() => null);
    this.t = input.feats.map(() => null);
    this.pointOf = input.feats.map((f) => new Int32Array(f.n).fill(-1));
    this.component = new Int32Array(this.n);
    this.calib = input.refine.map((r) => ({ ...r }));
    this.parallax = captureParallax(input.geoms, opts.parallax);
    this.minTri = minTriangulationAngle(this.parallax, opts.minTriAngleDeg, opts.parallax);
    for (let p = 0; p < input.pairs.length; p++) {
      const g = input.geoms[p]!;
      if (g.config === 'degenerate' || g.inliers.length === 0) continue;
      const { i, j } = input.pairs[p]!;
      this.adj[i]!.set(j, g.inliers.length / 2);
      this.adj[j]!.set(i, g.inliers.length / 2);
      for (let k = 0; k < g.inliers.length; k += 2) {
        const a = g.inliers[k]!, b = g.inliers[k + 1]!;
        push(this.corr[i]!, a, j, b);
        push(this.corr[j]!, b, i, a);
      }
    }
    this.labelComponents();
  }

  /** Label the connected groups of the verified-pair graph (a model can only grow within one). */
  private labelComponents(): void {
    this.component.fill(-1);
    for (let s0 = 0; s0 < this.n; s0++) {
      if (this.component[s0]! >= 0) continue;
      const id = this.componentSizes.length;
      let size = 0;
      const stack = [s0];
      this.component[s0] = id;
      while (stack.length) {
        const v = stack.pop()!;
        size++;
        for (const u of this.adj[v]!.keys()) if (this.component[u]! < 0) { this.component[u] = id; stack.push(u); }
      }
      this.componentSizes.push(size);
    }
  }

  private cam(img: number): Camera {
    return this.input.cameras[this.input.imageCamera[img]!]!;
  }

  private kp(img: number, f: number): [number, number] {
    const kp = this.input.feats[img]!.kp;
    return [kp[f * 4]!, kp[f * 4 + 1]!];
  }

  private isRegistered(img: number): boolean {
    return this.R[img] !== null;
  }

  /** Reprojection error (px) of X in image img at feature f; Infinity when behind the camera. */
  private reprojError(img: number, f: number, X: readonly number[]): number {
    const R = this.R[img]!, t = this.t[img]!;
    const Xc = [
      R[0]! * X[0]! + R[1]! * X[1]! + R[2]! * X[2]! + t[0]!,
      R[3]! * X[0]! + R[4]! * X[1]! + R[5]! * X[2]! + t[1]!,
      R[6]! * X[0]! + R[7]! * X[1]! + R[8]! * X[2]! + t[2]!,
    ];
    const p = projectPoint(this.cam(img), Xc);
    if (!p) return Infinity;
    const [u, v] = this.kp(img, f);
    return Math.hypot(p[0] - u, p[1] - v);
  }

  private center(img: number): number[] {
    const R = this.R[img]!, t = this.t[img]!;
    return [-(R[0]! * t[0]! + R[3]! * t[1]! + R[6]! * t[2]!), -(R[1]! * t[0]! + R[4]! * t[1]! + R[7]! * t[2]!), -(R[2]! * t[0]! + R[5]! * t[1]! + R[8]! * t[2]!)];
  }

  /** Triangulate from views [(img, f)...]; checks cheirality, reprojection and the widest angle. */
  private triangulate(views: Array<[number, number]>): [number, number, number] | null {
    const Ps: number[][] = [];
    const xs: Array<[number, number]> = [];
    for (const [img, f] of views) {
      const R = this.R[img]!, t = this.t[img]!;
      Ps.push([R[0]!, R[1]!, R[2]!, t[0]!, R[3]!, R[4]!, R[5]!, t[1]!, R[6]!, R[7]!, R[8]!, t[2]!]);
      const [u, v] = this.kp(img, f);
      xs.push(unprojectPixel(this.cam(img), u, v));
    }
    const X = triangulateDLT(Ps, xs);
    if (!X || !X.every(Number.isFinite)) return null;
    for (const [img, f] of views) if (!(this.reprojError(img, f, X) <= this.opts.maxError)) return null;
    if (maxAngleDeg(views.map(([img]) => this.center(img)), X) < this.minTri) return null;
    return X;
  }

  private addPoint(X: [number, number, number], obs: Array<[number, number]>): number {
    const id = this.nextPoint++;
    this.points.set(id, { X, obs });
    for (const [img, f] of obs) this.pointOf[img]![f] = id;
    return id;
  }

  private deletePoint(id: number): void {
    const p = this.points.get(id);
    if (!p) return;
    for (const [img, f] of p.obs) if (this.pointOf[img]![f] === id) this.pointOf[img]![f] = -1;
    this.points.delete(id);
  }

  // ---------------------------------------------------------------- initialisation

  private initialize(): [number, number] | null {
    // the model grows in the largest connected group; the others are reported
    let largest = 0;
    for (let c = 1; c < this.componentSizes.length; c++) if (this.componentSizes[c]! > this.componentSizes[largest]!) largest = c;
    const cands: Array<{ p: number; score: number }> = [];
    for (let p = 0; p < this.input.pairs.length; p++) {
      const g = this.input.geoms[p]!;
      if (this.component[this.input.pairs[p]!.i] !== largest) continue;
      if (g.config === 'degenerate' || g.inliers.length < 2 * 50) continue;
      // a 'panoramic' pair (homography, angle < 1°) of a forward-facing capture may still show depth
      if (g.config === 'panoramic' && (g.parallaxRatio === undefined || !hasParallax(g, this.opts.parallax))) continue;
      const tri = g.triAngleDeg ?? 4;
      // prefer many inliers and a wide baseline; homographic pairs only as a last resort
      const score = (g.inliers.length / 2) * Math.min(1, tri / 6) * (g.config === 'planar' || g.config === 'panoramic' ? 0.3 : 1);
      cands.push({ p, score });
    }
    cands.sort((a, b) => b.score - a.score);
    for (const { p } of cands.slice(0, 8)) {
      const { i, j } = this.input.pairs[p]!;
      if (this.tryInitialPair(i, j, this.input.geoms[p]!)) return [i, j];
    }
    return null;
  }

  private tryInitialPair(i: number, j: number, g: TwoViewGeometry): boolean {
    const f1 = this.input.feats[i]!, f2 = this.input.feats[j]!;
    const x1 = gatherPoints(f1, g.inliers, 2, 0), x2 = gatherPoints(f2, g.inliers, 2, 1);
    const E = estimateEssential(x1, x2, this.cam(i), this.cam(j), { maxError: this.opts.maxError, confidence: 0.9999, maxIterations: 5000, seed: this.opts.seed });
    if (!E || E.numInliers < 50) return false;
    this.R[i] = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    this.t[i] = [0, 0, 0];
    this.R[j] = E.R.slice();
    this.t[j] = E.t.slice();
    let made = 0;
    for (let k = 0; k < g.inliers.length / 2; k++) {
      if (!E.inliers[k]) continue;
      const a = g.inliers[2 * k]!, b = g.inliers[2 * k + 1]!;
      if (this.pointOf[i]![a]! >= 0 || this.pointOf[j]![b]! >= 0) continue;
      const X = this.triangulate([[i, a], [j, b]]);
      if (X) { this.addPoint(X, [[i, a], [j, b]]); made++; }
    }
    if (made < 50) {
      for (const id of [...this.points.keys()]) this.deletePoint(id);
      this.R[i] = this.R[j] = this.t[i] = this.t[j] = null;
      return false;
    }
    this.gauge = [i, j];
    this.bundle([i, j], null, 30, 1e-4);
    this.filterPoints(null);
    return true;
  }

  // ---------------------------------------------------------------- registration

  /** Unregistered images ordered by how many existing points they see. */
  private nextCandidates(tried: Set<number>): Array<{ img: number; visible: number }> {
    const out: Array<{ img: number; visible: number }> = [];
    for (let img = 0; img < this.n; img++) {
      if (this.isRegistered(img) || tried.has(img)) continue;
      const seen = new Set<number>();
      for (const [f, list] of this.corr[img]!) {
        void f;
        for (let k = 0; k < list.length; k += 2) {
          const pid = this.pointOf[list[k]!]![list[k + 1]!]!;
          if (pid >= 0) seen.add(pid);
        }
      }
      if (seen.size > 0) out.push({ img, visible: seen.size });
    }
    return out.sort((a, b) => b.visible - a.visible);
  }

  private register(img: number): boolean {
    // one 2D–3D pair per feature: the point seen by most of its correspondences
    const feats: number[] = [];
    const pids: number[] = [];
    for (const [f, list] of this.corr[img]!) {
      let best = -1;
      for (let k = 0; k < list.length; k += 2) {
        const pid = this.pointOf[list[k]!]![list[k + 1]!]!;
        if (pid >= 0) { best = pid; break; }
      }
      if (best >= 0) { feats.push(f); pids.push(best); }
    }
    if (feats.length < 0.75 * this.opts.minPnPInliers) {
      this.failReason.set(img, `only ${feats.length} 2D–3D correspondences`);
      return false;
    }
    const X = new Float64Array(feats.length * 3), x = new Float64Array(feats.length * 2);
    for (let k = 0; k < feats.length; k++) {
      const P = this.points.get(pids[k]!)!.X;
      X[3 * k] = P[0]; X[3 * k + 1] = P[1]; X[3 * k + 2] = P[2];
      const [u, v] = this.kp(img, feats[k]!);
      x[2 * k] = u; x[2 * k + 1] = v;
    }
    const r = estimatePnP(X, x, this.cam(img), { maxError: this.opts.pnpErrorFactor * this.opts.maxError, confidence: 0.9999, maxIterations: 10000, seed: this.opts.seed });
    // a pose that explains most of few correspondences is as trustworthy as one that explains a
    // small share of many: accept 3/4 of the minimum at an inlier ratio ≥ 1/2 (lund at 1024 px:
    // 25.jpg had 19 inliers of 22 and, rejected, cut off the end of the walk)
    const enough = r !== null && (r.numInliers >= this.opts.minPnPInliers || (r.numInliers >= 0.75 * this.opts.minPnPInliers && r.numInliers >= 0.5 * feats.length));
    if (!r || !enough) {
      this.failReason.set(img, `PnP found ${r ? r.numInliers : 0} inliers of ${feats.length} correspondences`);
      return false;
    }
    this.R[img] = r.R.slice();
    this.t[img] = r.t.slice();
    for (let k = 0; k < feats.length; k++) {
      if (!r.inliers[k]) continue;
      const p = this.points.get(pids[k]!)!;
      if (p.obs.some(([im]) => im === img)) continue; // one observation per image and point
      p.obs.push([img, feats[k]!]);
      this.pointOf[img]![feats[k]!] = pids[k]!;
    }
    this.failReason.delete(img);
    return true;
  }

  /** Extend tracks through img's correspondences and triangulate new points. */
  private triangulateImage(img: number): number {
    let made = 0;
    for (const [f, list] of this.corr[img]!) {
      if (this.pointOf[img]![f]! >= 0) continue;
      const views: Array<[number, number]> = [[img, f]];
      let continued = false;
      for (let k = 0; k < list.length; k += 2) {
        const j = list[k]!, g = list[k + 1]!;
        if (!this.isRegistered(j)) continue;
        const pid = this.pointOf[j]![g]!;
        if (pid >= 0) {
          const p = this.points.get(pid)!;
          if (!continued && !p.obs.some(([im]) => im === img) && this.reprojError(img, f, p.X) <= this.opts.maxError) {
            p.obs.push([img, f]);
            this.pointOf[img]![f] = pid;
            continued = true;
          }
        } else if (!views.some(([im]) => im === j)) views.push([j, g]);
      }
      if (continued || views.length < 2) continue;
      let X = this.triangulate(views);
      let used = views;
      if (!X && views.length > 2) {
        for (let k = 1; k < views.length && !X; k++) {
          used = [views[0]!, views[k]!];
          X = this.triangulate(used);
        }
      }
      if (X) { this.addPoint(X, used); made++; }
    }
    return made;
  }

  // ---------------------------------------------------------------- adjustment and filtering

  /**
   * Bundle-adjust images `free` (others that observe the points stay fixed) and the points they
   * see; `free === null` adjusts everything. `intrinsics`: 'focal' | 'all' | null.
   */
  private bundle(free: number[] | null, intrinsics: 'focal' | 'all' | null, maxIterations: number, functionTolerance = 1e-6, intrinsicStd = false): BAReport | null {
    const freeSet = free ? new Set(free) : null;
    const pointIds: number[] = [];
    if (freeSet) {
      const s = new Set<number>();
      for (const img of freeSet) for (const pid of this.pointOf[img]!) if (pid >= 0) s.add(pid);
      pointIds.push(...s);
    } else pointIds.push(...this.points.keys());
    if (pointIds.length === 0) return null;
    const imgIndex = new Map<number, number>();
    const images: BAImage[] = [];
    const camIndex = new Map<number, number>();
    const cameras: BACamera[] = [];
    const observations: BAObservation[] = [];
    const points = new Float64Array(pointIds.length * 3);
    const imageOf = (img: number): number => {
      let k = imgIndex.get(img);
      if (k === undefined) {
        const c = this.input.imageCamera[img]!;
        let ci = camIndex.get(c);
        if (ci === undefined) {
          ci = cameras.length;
          camIndex.set(c, ci);
          const cam = this.input.cameras[c]!, ref = intrinsics === 'all' ? this.calib[c]! : this.input.refine[c]!;
          cameras.push({
            model: cam.model, params: Float64Array.from(cam.params),
            refineFocal: intrinsics !== null && ref.focal,
            refinePrincipalPoint: intrinsics === 'all' && ref.principalPoint,
            refineDistortion: intrinsics === 'all' && ref.distortion,
          });
        }
        k = images.length;
        imgIndex.set(img, k);
        const fixed = freeSet ? !freeSet.has(img) || img === this.gauge[0] : img === this.gauge[0];
        images.push({ camera: ci, q: Float64Array.from(matToQuat(this.R[img]!)), t: Float64Array.from(this.t[img]!), fixed, fixTranslationScale: img === this.gauge[1] && !fixed });
      }
      return k;
    };
    for (let pi = 0; pi < pointIds.length; pi++) {
      const p = this.points.get(pointIds[pi]!)!;
      points.set(p.X, pi * 3);
      for (const [img, f] of p.obs) {
        const [x, y] = this.kp(img, f);
        observations.push({ image: imageOf(img), point: pi, x, y });
      }
    }
    // a local problem whose fixed images do not pin the gauge (early on): fix the first free one too
    if (!images.some((im) => im.fixed)) images[0]!.fixed = true;
    const report = bundleAdjust({ cameras, images, points, observations }, { maxIterations, loss: 'cauchy', lossScale: 1, functionTolerance, intrinsicStd });
    if (intrinsicStd) {
      for (const [c, ci] of camIndex) this.lastStd.set(c, report.intrinsicStd![ci]!);
    }
    for (const [img, k] of imgIndex) {
      if (images[k]!.fixed) continue;
      this.R[img] = quatToMat(Array.from(images[k]!.q));
      this.t[img] = Array.from(images[k]!.t);
    }
    for (const [c, ci] of camIndex) this.input.cameras[c]!.params = Array.from(cameras[ci]!.params);
    for (let pi = 0; pi < pointIds.length; pi++) {
      const p = this.points.get(pointIds[pi]!)!;
      p.X = [points[pi * 3]!, points[pi * 3 + 1]!, points[pi * 3 + 2]!];
    }
    return report;
  }

  /** Drop observations over the threshold and points left with < 2 views or too small an angle. */
  private filterPoints(imgs: number[] | null): number {
    let removed = 0;
    const ids = new Set<number>();
    if (imgs) { for (const img of imgs) for (const pid of this.pointOf[img]!) if (pid >= 0) ids.add(pid); }
    else for (const id of this.points.keys()) ids.add(id);
    for (const id of ids) {
      const p = this.points.get(id)!;
      const keep = p.obs.filter(([img, f]) => {
        const ok = this.reprojError(img, f, p.X) <= this.opts.maxError;
        if (!ok) { this.pointOf[img]![f] = -1; removed++; }
        return ok;
      });
      p.obs = keep;
      if (keep.length < 2 || maxAngleDeg(keep.map(([img]) => this.center(img)), p.X) < this.minTri) {
        this.deletePoint(id);
      }
    }
    return removed;
  }

  /** Images sharing most points with img (for local BA). */
  private neighbours(img: number, k: number): number[] {
    const count = new Map<number, number>();
    for (const pid of this.pointOf[img]!) {
      if (pid < 0) continue;
      for (const [j] of this.points.get(pid)!.obs) if (j !== img) count.set(j, (count.get(j) ?? 0) + 1);
    }
    return [...count.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([j]) => j);
  }

  private selfCalibrating(): boolean {
    return this.input.refine.some((r) => r.focal || r.principalPoint || r.distortion);
  }

  /**
   * Final self-calibration: measure how well the views constrain each camera's principal point and
   * distortion (information of a zero-step adjustment with all of them free), refine only those that
   * are well constrained, and undo the refinement when it ends implausible (far-off principal
   * point, strong distortion, a jump of the focal). See selfcal.ts.
   */
  private calibrate(): void {
    const o = this.opts.selfCal;
    this.bundle(null, 'all', 0, 1e-6, true);
    const cams = this.input.cameras;
    const notes = new Map<number, string[]>();
    for (let c = 0; c < cams.length; c++) {
      const want = this.input.refine[c]!;
      // without a measure of the constraint (no points seen by the camera), refine the focal only
      this.calib[c] = { focal: want.focal, principalPoint: false, distortion: false };
      const std = this.lastStd.get(c);
      if (!std) continue;
      const d = decideRefinement(cams[c]!, summariseStd(cams[c]!, std), want, o);
      this.calib[c] = { focal: want.focal, principalPoint: d.principalPoint, distortion: d.distortion };
      notes.set(c, d.notes);
    }
    const before = cams.map((k) => ({ ...k, params: k.params.slice() }));
    const snap = this.snapshot();
    this.bundle(null, 'all', 50);
    this.filterPoints(null);
    let undone = false;
    for (let c = 0; c < cams.length; c++) {
      const cal = this.calib[c]!;
      if (!notes.has(c) || !(cal.principalPoint || cal.distortion)) continue;
      const why = implausibility(before[c]!, cams[c]!, o);
      if (!why) continue;
      notes.get(c)!.push(`principal point and distortion refinement undone: ${why}`);
      this.calib[c] = { focal: cal.focal, principalPoint: false, distortion: false };
      undone = true;
    }
    if (undone) {
      this.restore(snap, before);
      this.bundle(null, 'all', 50);
      this.filterPoints(null);
    }
    // the constraint actually achieved, for the summary: std of what was refined
    this.bundle(null, 'all', 0, 1e-6, true);
    for (const [c, list] of notes) {
      const std = this.lastStd.get(c);
      this.intrinsicsReport.push({
        camera: cams[c]!.id, refined: { ...this.calib[c]! },
        std: std ? summariseStd(cams[c]!, std) : { focalPx: NaN, principalPointPx: NaN, distortionPx: NaN },
        notes: list,
      });
    }
  }

  private snapshot() {
    return {
      R: this.R.map((r) => r?.slice() ?? null), t: this.t.map((v) => v?.slice() ?? null),
      points: new Map([...this.points].map(([id, p]) => [id, { X: [...p.X] as [number, number, number], obs: p.obs.map((ob) => [ob[0], ob[1]] as [number, number]) }])),
      pointOf: this.pointOf.map((a) => a.slice()),
    };
  }

  private restore(s: ReturnType<IncrementalMapper['snapshot']>, cams: Camera[]): void {
    s.R.forEach((r, k) => { this.R[k] = r; });
    s.t.forEach((v, k) => { this.t[k] = v; });
    this.points.clear();
    for (const [id, p] of s.points) this.points.set(id, p);
    s.pointOf.forEach((a, k) => this.pointOf[k]!.set(a));
    cams.forEach((k, c) => { this.input.cameras[c]!.params = k.params.slice(); });
  }

  // ---------------------------------------------------------------- driver

  run(): MapperResult {
    const progress = new Progress('sfm: mapping', this.n, { silent: this.opts.silent });
    if (lacksParallax(this.parallax, this.opts.parallax, this.input.trustedFocal ?? !this.selfCalibrating())) return this.result(null, noParallaxReason(this.parallax));
    const init = this.initialize();
    if (!init) {
      return this.result(null, 'no initial pair: too few verified matches with enough parallax');
    }
    let registered = 2;
    let lastGlobal = 2;
    progress.update(registered, `initial pair ${this.input.feats[init[0]]!.name}–${this.input.feats[init[1]]!.name}, ${this.points.size} points`);
    const tried = new Set<number>();
    for (;;) {
      const cands = this.nextCandidates(tried);
      if (cands.length === 0) break;
      let ok = false;
      for (const { img } of cands.slice(0, 5)) {
        if (this.register(img)) {
          ok = true;
          registered++;
          this.triangulateImage(img);
          const local = [img, ...this.neighbours(img, this.opts.localBAImages)];
          // intermediate adjustments only need to keep the model sound: stop them early
          this.bundle(local, null, 15, 1e-3);
          this.filterPoints(local);
          if (registered >= lastGlobal * 1.25 || registered - lastGlobal >= 10) {
            this.bundle(null, this.selfCalibrating() ? 'focal' : null, 30, 1e-4);
            this.filterPoints(null);
            lastGlobal = registered;
          }
          tried.clear(); // new points may rescue earlier failures
          progress.update(registered, `${this.input.feats[img]!.name}: ${this.points.size} points`);
          break;
        }
        tried.add(img);
      }
      if (!ok && cands.length <= 5) break;
    }
    // final: retriangulate what the final poses allow, then adjust everything (with intrinsics)
    for (let img = 0; img < this.n; img++) if (this.isRegistered(img)) this.triangulateImage(img);
    this.bundle(null, this.selfCalibrating() ? 'focal' : null, 50, 1e-5);
    this.filterPoints(null);
    if (this.selfCalibrating()) this.calibrate();
    this.bundle(null, this.selfCalibrating() ? 'all' : null, 100);
    this.filterPoints(null);
    progress.finish(`${registered}/${this.n} registered, ${this.points.size} points`);
    return this.result(init, 'not connected to the reconstruction');
  }

  private result(init: [number, number] | null, defaultReason: string): MapperResult {
    const { feats, cameras, imageCamera } = this.input;
    const model: SparseModel = { cameras: new Map(), images: new Map(), points3D: new Map() };
    const usedCams = new Set<number>();
    const registered: number[] = [];
    for (let img = 0; img < this.n; img++) if (this.isRegistered(img)) { registered.push(img); usedCams.add(imageCamera[img]!); }
    for (const c of usedCams) {
      const cam = cameras[c]!;
      model.cameras.set(c + 1, { ...cam, id: c + 1, params: cam.params.slice() });
    }
    const pidMap = new Map<number, number>();
    let nextId = 1;
    for (const id of this.points.keys()) pidMap.set(id, nextId++);
    for (const img of registered) {
      const f = feats[img]!;
      const xys = new Float64Array(f.n * 2);
      const ids: number[] = new Array(f.n);
      for (let k = 0; k < f.n; k++) {
        xys[2 * k] = f.kp[4 * k]!;
        xys[2 * k + 1] = f.kp[4 * k + 1]!;
        const pid = this.pointOf[img]![k]!;
        ids[k] = pid >= 0 ? pidMap.get(pid)! : -1;
      }
      const q = matToQuat(this.R[img]!);
      const t = this.t[img]!;
      model.images.set(img + 1, { id: img + 1, cameraId: imageCamera[img]! + 1, name: f.name, qvec: q, tvec: [t[0]!, t[1]!, t[2]!], xys, point3DIds: ids });
    }
    let errSum = 0, obsSum = 0;
    for (const [id, p] of this.points) {
      let e = 0;
      for (const [img, f] of p.obs) e += this.reprojError(img, f, p.X);
      errSum += e;
      obsSum += p.obs.length;
      const [img0, f0] = p.obs[0]!;
      const rgb = feats[img0]!.rgb;
      model.points3D.set(pidMap.get(id)!, {
        id: pidMap.get(id)!, xyz: [p.X[0], p.X[1], p.X[2]], rgb: [rgb[f0 * 3]!, rgb[f0 * 3 + 1]!, rgb[f0 * 3 + 2]!],
        error: e / p.obs.length, track: p.obs.map(([im, f]) => ({ imageId: im + 1, point2DIdx: f })),
      });
    }
    const failed: Array<{ name: string; reason: string }> = [];
    for (let img = 0; img < this.n; img++) {
      if (this.isRegistered(img)) continue;
      const mainComp = registered.length ? this.component[registered[0]!]! : -1;
      const comp = this.component[img]!;
      const reason = this.adj[img]!.size === 0
        ? 'no verified matches with any other image'
        : registered.length === 0
          ? defaultReason // no model: "a separate group" would be wrong
          : comp !== mainComp
          ? `in a separate group of ${this.componentSizes[comp]} images with no verified matches to the main model (a disconnected model; only the largest is kept)`
          : this.failReason.get(img) ?? defaultReason;
      failed.push({ name: feats[img]!.name, reason });
    }
    return {
      model, registered, failed, intrinsics: this.intrinsicsReport,
      stats: {
        registered: registered.length, total: this.n, points: this.points.size,
        meanTrackLength: this.points.size ? obsSum / this.points.size : 0,
        meanReprojError: obsSum ? errSum / obsSum : 0,
        initialPair: init ? [feats[init[0]]!.name, feats[init[1]]!.name] : null,
        // sizes of the connected groups of images (more than one: the capture falls apart)
        groups: [...this.componentSizes].sort((a, b) => b - a),
        minTriAngleDeg: this.minTri, parallax: this.parallax,
      },
    };
  }
}

function push(m: Map<number, number[]>, f: number, img: number, g: number): void {
  const l = m.get(f);
  if (l) l.push(img, g);
  else m.set(f, [img, g]);
}

/** Widest angle (degrees) at X between the rays to any two of the centres. */
export function maxAngleDeg(centres: number[][], X: readonly number[]): number {
  let best = 0;
  const dirs = centres.map((c) => {
    const d = [c[0]! - X[0]!, c[1]! - X[1]!, c[2]! - X[2]!];
    const n = Math.hypot(d[0]!, d[1]!, d[2]!) || 1;
    return [d[0]! / n, d[1]! / n, d[2]! / n];
  });
  for (let a = 0; a < dirs.length; a++) {
    for (let b = a + 1; b < dirs.length; b++) {
      const c = dirs[a]![0]! * dirs[b]![0]! + dirs[a]![1]! * dirs[b]![1]! + dirs[a]![2]! * dirs[b]![2]!;
      best = Math.max(best, (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI);
    }
  }
  return best;
}
