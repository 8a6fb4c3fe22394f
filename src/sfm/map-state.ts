/**
 * The incremental mapper's state and the operations every step shares: the correspondence graph
 * (tracks through verified inliers) and its connected groups, the poses registered so far, the 3D
 * points with their observations, projection and triangulation of one track, adding and deleting
 * points, and snapshots for undoing a refinement.
 */
import type { Camera } from '../core/camera.js';
import { distortNormalized, intrinsicIndices, unprojectPixel } from '../geometry/camera-model.js';
import { maxAngleDeg, triangulateDLT } from '../geometry/triangulate.js';
import { captureParallax, minTriangulationAngle, type CaptureParallax } from './low-parallax.js';
import type { CameraRefine, MapperInput, MapperOptions } from './mapper-options.js';
import type { IntrinsicsReport } from './selfcal.js';

export interface Pt {
  X: [number, number, number];
  obs: Array<[number, number]>; // (image, feature)
}

export type Snapshot = ReturnType<MapState['snapshot']>;

export class MapState {
  readonly n: number;
  /** correspondences: per image, feature → flat (image, feature) list */
  readonly corr: Array<Map<number, number[]>>;
  readonly adj: Array<Map<number, number>>; // verified inlier counts between images
  readonly R: Array<number[] | null>;
  readonly t: Array<number[] | null>;
  readonly pointOf: Int32Array[];
  readonly points = new Map<number, Pt>();
  private nextPoint = 0;
  gauge: [number, number] = [-1, -1];
  readonly failReason = new Map<number, string>();
  /** connected component of each image in the verified-pair graph, and the component sizes */
  readonly component: Int32Array;
  readonly componentSizes: number[] = [];
  /** what the final adjustments refine per camera ('all'): input.refine narrowed by calibrate() */
  readonly calib: CameraRefine[];
  readonly intrinsicsReport: IntrinsicsReport[] = [];
  readonly parallax: CaptureParallax;
  /** minimum triangulation angle in use (degrees): the option, lowered for low-parallax captures */
  readonly minTri: number;
  /** per camera: the focal (fx) the mapping started from, i.e. the prior (EXIF, user or guess) */
  readonly priorFocal: number[];
  /** per camera: std of each intrinsic from the last adjustment that asked for it */
  readonly lastStd = new Map<number, Float64Array>();
  /** per camera: where fx, fy, cx, cy sit in its parameters (the model never changes) */
  private readonly camIx: Array<ReturnType<typeof intrinsicIndices>>;
  /** reprojError's distorted coordinates */
  private readonly scratch2 = [0, 0];

  constructor(readonly input: MapperInput, readonly opts: MapperOptions) {
    this.n = input.feats.length;
    this.corr = input.feats.map(() => new Map());
    this.adj = input.feats.map(() => new Map());
    this.R = input.feats.map(() => null);
    this.t = input.feats.map(() => null);
    this.pointOf = input.feats.map((f) => new Int32Array(f.n).fill(-1));
    this.component = new Int32Array(this.n);
    this.calib = input.refine.map((r) => ({ ...r }));
    this.camIx = input.cameras.map((c) => intrinsicIndices(c.model));
    this.priorFocal = input.cameras.map((c, k) => c.params[this.camIx[k]!.fx]!);
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

  cam(img: number): Camera {
    return this.input.cameras[this.input.imageCamera[img]!]!;
  }

  kp(img: number, f: number): [number, number] {
    const kp = this.input.feats[img]!.kp;
    return [kp[f * 4]!, kp[f * 4 + 1]!];
  }

  isRegistered(img: number): boolean {
    return this.R[img] !== null;
  }

  selfCalibrating(): boolean {
    return this.input.refine.some((r) => r.focal || r.principalPoint || r.distortion);
  }

  /**
   * Reprojection error (px) of X in image img at feature f; Infinity when behind the camera.
   * (projectPoint's arithmetic, without its arrays: the filters call this for every observation.)
   */
  reprojError(img: number, f: number, X: readonly number[]): number {
    const R = this.R[img]!, t = this.t[img]!;
    const x0 = X[0]!, x1 = X[1]!, x2 = X[2]!;
    const z = R[6]! * x0 + R[7]! * x1 + R[8]! * x2 + t[2]!;
    if (!(z > 0)) return Infinity;
    const c = this.input.imageCamera[img]!, p = this.input.cameras[c]!.params, ix = this.camIx[c]!, d = this.scratch2;
    const model = this.input.cameras[c]!.model;
    distortNormalized(model, p, (R[0]! * x0 + R[1]! * x1 + R[2]! * x2 + t[0]!) / z, (R[3]! * x0 + R[4]! * x1 + R[5]! * x2 + t[1]!) / z, d);
    const kp = this.input.feats[img]!.kp;
    return Math.hypot(p[ix.fx]! * d[0]! + p[ix.cx]! - kp[f * 4]!, p[ix.fy]! * d[1]! + p[ix.cy]! - kp[f * 4 + 1]!);
  }

  center(img: number): number[] {
    const R = this.R[img]!, t = this.t[img]!;
    return [-(R[0]! * t[0]! + R[3]! * t[1]! + R[6]! * t[2]!), -(R[1]! * t[0]! + R[4]! * t[1]! + R[7]! * t[2]!), -(R[2]! * t[0]! + R[5]! * t[1]! + R[8]! * t[2]!)];
  }

  /** Triangulate from views [(img, f)...]; checks cheirality, reprojection and the widest angle. */
  triangulate(views: Array<[number, number]>): [number, number, number] | null {
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

  /** every point id so far is below this */
  get pointIdBound(): number {
    return this.nextPoint;
  }

  addPoint(X: [number, number, number], obs: Array<[number, number]>): number {
    const id = this.nextPoint++;
    this.points.set(id, { X, obs });
    for (const [img, f] of obs) this.pointOf[img]![f] = id;
    return id;
  }

  deletePoint(id: number): void {
    const p = this.points.get(id);
    if (!p) return;
    for (const [img, f] of p.obs) if (this.pointOf[img]![f] === id) this.pointOf[img]![f] = -1;
    this.points.delete(id);
  }

  /** Point `drop`'s observations join point `keep`, which moves to X; `drop` is gone (map-tracks.ts). */
  mergePoints(keep: number, drop: number, X: [number, number, number]): void {
    const p = this.points.get(keep)!, q = this.points.get(drop)!;
    for (const ob of q.obs) { p.obs.push(ob); this.pointOf[ob[0]]![ob[1]] = keep; }
    p.X = X;
    this.points.delete(drop);
  }

  snapshot() {
    return {
      R: this.R.map((r) => r?.slice() ?? null), t: this.t.map((v) => v?.slice() ?? null),
      points: new Map([...this.points].map(([id, p]) => [id, { X: [...p.X] as [number, number, number], obs: p.obs.map((ob) => [ob[0], ob[1]] as [number, number]) }])),
      pointOf: this.pointOf.map((a) => a.slice()),
    };
  }

  restore(s: Snapshot, cams: Camera[]): void {
    s.R.forEach((r, k) => { this.R[k] = r; });
    s.t.forEach((v, k) => { this.t[k] = v; });
    this.points.clear();
    for (const [id, p] of s.points) this.points.set(id, p);
    s.pointOf.forEach((a, k) => this.pointOf[k]!.set(a));
    cams.forEach((k, c) => { this.input.cameras[c]!.params = k.params.slice(); });
  }
}

function push(m: Map<number, number[]>, f: number, img: number, g: number): void {
  const l = m.get(f);
  if (l) l.push(img, g);
  else m.set(f, [img, g]);
}
