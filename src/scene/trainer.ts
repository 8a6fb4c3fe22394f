/**
 * The optimisation loop: random view order (seeded), render, photometric model, 0.8·L1 + 0.2·D-SSIM,
 * rasterizer backward, per-group Adam (3DGS learning rates, exponential position schedule), SH
 * degree raised on schedule, adaptive density control or MCMC, optional camera refinement
 * (Gauss-Newton passes every few hundred steps, camera-refine.ts).
 *
 * Two paths compute the same step: the CPU-array path (parameters uploaded, image and gradients
 * read back; the TypeScript/tfjs maths, and the only path for the reference rasterizer and MCMC)
 * and, on the GPU rasterizer, the GPU-resident path (gpu-resident.ts: WGSL loss, photometric
 * model and Adam, no per-step traffic). Plain typed arrays stay the canonical state: the resident
 * path syncs them back before densification, camera passes and checkpoints, so a checkpoint
 * restores either path exactly.
 */
import type { GaussianParams } from '../core/gaussians.js';
import type { RasterCamera, RasterGradients, RasterOptions } from '../core/raster.js';
import { defaultRasterOptions } from '../core/raster.js';
import type { RasterBackend } from './backend.js';
import { tf } from './tf.js';
import { Adam } from './adam.js';
import { LAMBDA_DSSIM } from './losses.js';
import { photoLossAndGrad, type LossResult } from './image-loss.js';
import { defaultLearningRates, expLr, scaledSchedule, densifyDue, opacityResetDue, shDegreeAt, type LearningRates, type StepSchedule } from './schedule.js';
import { GradStats, densifyAndPrune, resetOpacity, mcmcRelocateAndGrow, mcmcNoise, defaultDensify, type Restructure } from './densify.js';
import { PhotometricModel, applyPhotometric, radius2 } from './photometric.js';
import { RESPONSE_SEGMENTS } from '../core/photometric.js';
import { initFromPoints, randomPoints, sigmoid } from './gaussians.js';
import { SH_COEFFS } from '../core/gaussians.js';
import type { TrainData, TrainView } from './dataset.js';
import { Rng } from '../util/rng.js';
import { viewNormalEquations, solveCameraSteps, perturbPose, defaultCameraRefineOptions, type CameraRefineOptions } from './camera-refine.js';
import { packArrays, unpackArrays, type Arr } from './checkpoint.js';
import type { GpuRasterizer } from '../gpu/raster/rasterizer.js';
import type { GpuResidentTrainState } from './gpu-resident.js';

export interface TrainOptions {
  iterations: number;
  seed: number;
  maxShDegree: number;
  photometric: boolean;
  refineCameras: boolean;
  strategy: 'default' | 'mcmc';
  /** Gaussian budget (MCMC cap; for the default strategy a hard cap on growth). 0 = none */
  maxGaussians: number;
  densify: boolean;
  background: [number, number, number];
  lambdaDssim: number;
  lrs: LearningRates;
  /** Gaussians to start with when the data has no points */
  randomInitCount: number;
  antialiased: boolean;
  /** with refineCameras: also refine each camera's focal length (one scale per camera) */
  refineFocal: boolean;
  /** with refineCameras: steps between Gauss-Newton camera passes (0 = iterations/60, ≥ 100) */
  cameraRefineEvery: number;
  /** with refineCameras: first pass at this step (0 = 2 × the interval) */
  cameraRefineStart: number;
  /** with refineCameras: Gaussian positions stay frozen (and densification waits) for this fraction
   *  of the run, so the cameras align to the initial geometry before the scene can bend to them */
  cameraWarmup: number;
  camera: CameraRefineOptions;
  /** keep parameters, Adam state, the photometric model and the loss on the GPU between
   *  densification steps (GPU backend, default strategy); false = the CPU-array path */
  resident: boolean;
  /** resident path: read the loss back every this many steps (StepInfo holds the latest) */
  lossEvery: number;
}

export const defaultTrainOptions: TrainOptions = {
  iterations: 30_000,
  seed: 0,
  maxShDegree: 3,
  photometric: false,
  refineCameras: false,
  strategy: 'default',
  maxGaussians: 0,
  densify: true,
  background: [0, 0, 0],
  lambdaDssim: LAMBDA_DSSIM,
  lrs: defaultLearningRates,
  randomInitCount: 10_000,
  antialiased: false,
  refineFocal: true,
  cameraRefineEvery: 0,
  cameraRefineStart: 0,
  cameraWarmup: 0,
  camera: defaultCameraRefineOptions,
  resident: true,
  lossEvery: 10,
};

type Group = 'means' | 'logScales' | 'quats' | 'opacityLogits' | 'sh';
const GROUPS: Group[] = ['means', 'logScales', 'quats', 'opacityLogits', 'sh'];
const ROW: Record<Group, number> = { means: 3, logScales: 3, quats: 4, opacityLogits: 1, sh: SH_COEFFS * 3 };

export interface StepInfo {
  step: number;
  loss: number;
  psnr: number;
  count: number;
  view: string;
  densified?: Omit<Restructure, 'params' | 'momentSrc'>;
}

/**
 * The cameras being refined: per-view world-to-camera poses and a per-camera focal scale. Updated
 * by Gauss-Newton passes (camera-refine.ts); plain arrays, so checkpoints restore them exactly.
 */
export class CameraRefiner {
  R: Float64Array;
  t: Float64Array;
  /** per camera: fx, fy multiplier */
  focalScale: Float64Array;
  constructor(views: TrainView[], cameraCount: number) {
    this.R = new Float64Array(views.length * 9);
    this.t = new Float64Array(views.length * 3);
    this.focalScale = new Float64Array(cameraCount).fill(1);
    views.forEach((v, i) => { this.R.set(v.R, i * 9); this.t.set(v.t, i * 3); });
  }

  pose(i: number): { R: number[]; t: number[] } {
    return { R: Array.from(this.R.subarray(i * 9, i * 9 + 9)), t: Array.from(this.t.subarray(i * 3, i * 3 + 3)) };
  }

  /** Left-multiplied update T ← exp([ω, v]^)·T. */
  applyPoseStep(i: number, delta: ArrayLike<number>): void {
    const { R, t } = this.pose(i);
    const p = perturbPose(R, t, delta);
    this.R.set(p.R, i * 9);
    this.t.set(p.t, i * 3);
  }
}

export class Trainer {
  params: GaussianParams;
  readonly adam: Record<Group, Adam>;
  stats: GradStats;
  rng: Rng;
  step = 0;
  order: number[] = [];
  orderPos = 0;
  readonly schedule: StepSchedule;
  readonly photometric: PhotometricModel | null;
  readonly poses: CameraRefiner | null;
  readonly trainViews: number[];
  lastLoss: LossResult | null = null;
  /** GPU-resident state (gpu-resident.ts) when that path is in use */
  private resident: GpuResidentTrainState | null = null;
  /** the resident state has steps the CPU arrays do not (sync() brings them back) */
  private residentAhead = false;
  private residentLoss = { loss: NaN, psnr: NaN };

  constructor(
    readonly data: TrainData,
    readonly backend: RasterBackend,
    readonly opts: TrainOptions,
    initial?: GaussianParams,
  ) {
    this.schedule = scaledSchedule(opts.iterations);
    this.rng = new Rng(opts.seed);
    this.trainViews = data.views.filter((v) => !v.holdout).map((v) => v.index);
    if (this.trainViews.length === 0) throw new Error('no training views (all images are held out)');
    this.params = initial ?? this.initialParams();
    const L = opts.lrs;
    this.adam = {
      means: new Adam(this.params.count * 3, 3, L.positionInit * data.extent),
      logScales: new Adam(this.params.count * 3, 3, L.scale),
      quats: new Adam(this.params.count * 4, 4, L.rotation),
      opacityLogits: new Adam(this.params.count, 1, L.opacity),
      sh: new Adam(this.params.count * SH_COEFFS * 3, SH_COEFFS * 3, L.shDc),
    };
    this.adam.sh.colScale = new Float32Array(SH_COEFFS * 3).map((_, c) => (c < 3 ? 1 : 1 / L.shRestDivisor));
    this.stats = new GradStats(this.params.count);
    this.photometric = opts.photometric
      ? new PhotometricModel(data.views.map((v) => v.name), data.cameraIds, this.trainViews[0]!)
      : null;
    this.poses = opts.refineCameras ? new CameraRefiner(data.views, Math.max(...data.views.map((v) => v.camIdx)) + 1) : null;
  }

  private initialParams(): GaussianParams {
    if (this.data.points && this.data.points.xyz.length >= 3) return initFromPoints(this.data.points);
    const e = this.data.extent, c = this.data.center;
    // 3DGS random init: a cube around the scene (here: the cameras' centre, ± extent).
    const pts = randomPoints(this.opts.randomInitCount, c.map((x) => x - e), c.map((x) => x + e), this.opts.seed + 1);
    return initFromPoints(pts);
  }

  /** The camera of a view, with refined pose when refinement is on. */
  camera(viewIndex: number): RasterCamera {
    const v = this.data.views[viewIndex]!;
    const pose = this.poses ? this.poses.pose(viewIndex) : { R: v.R, t: v.t };
    const f = this.poses ? this.poses.focalScale[v.camIdx]! : 1;
    return { width: v.width, height: v.height, fx: v.fx * f, fy: v.fy * f, cx: v.cx, cy: v.cy, R: pose.R, t: pose.t };
  }

  rasterOptions(shDegree: number): RasterOptions {
    return { ...defaultRasterOptions, shDegree, background: this.opts.background, antialiased: this.opts.antialiased };
  }

  private nextView(): number {
    if (this.orderPos >= this.order.length) {
      this.order = this.rng.shuffle(this.trainViews);
      this.orderPos = 0;
    }
    return this.order[this.orderPos++]!;
  }

  /** The GPU rasterizer when the resident path applies (see TrainOptions.resident). */
  private residentRaster(): GpuRasterizer | null {
    const o = this.opts;
    if (!o.resident || o.strategy !== 'default') return null;
    return (this.backend as { raster?: GpuRasterizer }).raster ?? null;
  }

  /**
   * Bring the CPU arrays (parameters, Adam moments, statistics) up to date with the GPU-resident
   * state. Call before reading `params` or serialize(); train() does at its end.
   */
  async sync(): Promise<void> {
    if (!this.resident || !this.residentAhead) return;
    await this.resident.downloadInto(this.params, this.adam, this.stats, this.photometric ?? undefined);
    this.params = { ...this.params };
    this.residentAhead = false;
  }

  /** One optimisation step. */
  async trainStep(): Promise<StepInfo> {
    const s = this.schedule;
    const o = this.opts;
    const vi = this.nextView();
    const view = this.data.views[vi]!;
    const shDegree = shDegreeAt(this.step, s, o.maxShDegree);
    this.adam.means.lr = expLr(this.step, o.lrs.positionInit * this.data.extent, o.lrs.positionFinal * this.data.extent, o.iterations);
    const cam = this.camera(vi);
    const raster = this.residentRaster();
    if (raster) return this.residentStep(raster, vi, view, cam, shDegree);
    const pass = await this.backend.render(this.params, cam, this.rasterOptions(shDegree));

    // Image-space part: photometric model in tfjs (autodiff over its parameters), loss and its
    // gradient in plain TS (image-loss.ts: tfjs's cpu SSIM gradient was the slowest piece).
    const ph = this.photometric;
    let pred = pass.out.rgb;
    let phGrads: { ev: Float32Array; wb: Float32Array; vig: Float32Array; resp: Float32Array } | null = null;
    let dRgb: Float32Array;
    if (ph) {
      const phT = ph.tensors(vi, view.camIdx);
      const rgbT = tf.tensor3d(pass.out.rgb, [view.height, view.width, 3]);
      const r2 = radius2(view.width, view.height, view.cx, view.cy);
      const f = (...xs: tf.Tensor[]) => applyPhotometric(xs[0] as tf.Tensor3D, { ev: xs[1] as tf.Tensor1D, wb: xs[2] as tf.Tensor1D, vig: xs[3] as tf.Tensor1D, resp: xs[4] as tf.Tensor1D }, r2);
      const inputs = [rgbT, phT.ev, phT.wb, phT.vig, phT.resp];
      pred = tf.tidy(() => f(...inputs).dataSync() as Float32Array);
      const lr = photoLossAndGrad(pred, view.target, view.width, view.height, o.lambdaDssim);
      const dy = tf.tensor3d(lr.grad, [view.height, view.width, 3]);
      const grads = tf.grads(f)(inputs, dy);
      dRgb = Float32Array.from(grads[0]!.dataSync());
      const w = 2 * ph.lrs.regularization;
      const reg = (t: tf.Tensor, own: Float32Array, anchored: boolean) => {
        const gr = Float32Array.from(t.dataSync());
        if (!anchored) for (let i = 0; i < gr.length; i++) gr[i]! += w * own[i]!;
        return gr;
      };
      const anchoredImage = vi === ph.referenceImage;
      phGrads = {
        ev: reg(grads[1]!, ph.ev.subarray(vi, vi + 1), anchoredImage),
        wb: reg(grads[2]!, ph.wb.subarray(vi * 3, vi * 3 + 3), anchoredImage),
        vig: reg(grads[3]!, ph.vig.subarray(view.camIdx * 3, view.camIdx * 3 + 3), false),
        resp: reg(grads[4]!, ph.resp.subarray(view.camIdx * RESPONSE_SEGMENTS, (view.camIdx + 1) * RESPONSE_SEGMENTS), false),
      };
      tf.dispose([...grads, ...inputs, dy]);
      this.lastLoss = lr;
    } else {
      this.lastLoss = photoLossAndGrad(pred, view.target, view.width, view.height, o.lambdaDssim);
      dRgb = this.lastLoss.grad;
    }
    const loss = this.lastLoss.loss;
    let se = 0;
    for (let i = 0; i < pred.length; i++) se += (pred[i]! - view.target[i]!) ** 2;
    const mse = se / pred.length;
    const g = await pass.backward({ rgb: dRgb });

    this.applyGradients(g);
    if (ph && phGrads) ph.setLrScale(expLr(this.step, 1, 0.01, o.iterations));
    if (ph && phGrads) ph.step(vi, view.camIdx, phGrads, { perImage: true, perCamera: true });

    this.step++;
    if (this.poses && this.cameraPassDue(this.step)) await this.refineCameras();
    const info: StepInfo = { step: this.step, loss, psnr: mse > 0 ? -10 * Math.log10(mse) : Infinity, count: this.params.count, view: view.name };
    if (o.densify && this.step >= this.cameraSchedule().warmupUntil) info.densified = this.refine(g, view);
    return info;
  }

  /** Steps between camera passes and the first pass, resolved from the options. */
  cameraSchedule(): { every: number; start: number; until: number; warmupUntil: number } {
    const o = this.opts;
    // Passes need the scene to re-fit between them (each view seen a few times): measured on the
    // synthetic pose bench, passes every 100 steps contracted the error ~7 % per pass, every 20
    // steps not at all (the scene still remembered the old cameras).
    const every = o.cameraRefineEvery > 0 ? o.cameraRefineEvery : Math.max(100, Math.round(o.iterations / 60));
    const start = o.cameraRefineStart > 0 ? o.cameraRefineStart : 2 * every;
    // the last tenth of the run lets the scene settle on the final cameras
    return { every, start, until: Math.floor(0.9 * o.iterations), warmupUntil: o.refineCameras ? Math.floor(o.cameraWarmup * o.iterations) : 0 };
  }

  private cameraPassDue(step: number): boolean {
    const { every, start, until } = this.cameraSchedule();
    return step >= start && step <= until && (step - start) % every === 0;
  }

  /** The trainer's prediction of a view's image through a camera: render, then the photometric model. */
  private async predict(vi: number, cam: RasterCamera, shDegree: number): Promise<Float32Array> {
    const pass = await this.backend.render(this.params, cam, this.rasterOptions(shDegree));
    const rgb = pass.out.rgb;
    pass.dispose();
    const ph = this.photometric;
    if (!ph) return rgb;
    const v = this.data.views[vi]!;
    const phT = ph.tensors(vi, v.camIdx);
    const r2 = radius2(v.width, v.height, v.cx, v.cy);
    const out = tf.tidy(() => applyPhotometric(tf.tensor3d(rgb, [v.height, v.width, 3]), phT, r2).dataSync() as Float32Array);
    tf.dispose([phT.ev, phT.wb, phT.vig, phT.resp]);
    return out;
  }

  /**
   * One Gauss-Newton camera pass over the training views against the current scene: every view's
   * pose, and each camera's focal scale when refineFocal is on. The first training view holds the
   * gauge (its pose stays; it still informs the focal). Returns the summed robust cost before.
   */
  async refineCameras(): Promise<number> {
    const poses = this.poses;
    if (!poses) return 0;
    await this.sync();
    const shDegree = shDegreeAt(this.step, this.schedule, this.opts.maxShDegree);
    let firstCost = 0;
    for (let it = 0; it < Math.max(1, this.opts.camera.iterationsPerPass); it++) {
      const systems = [];
      for (const vi of this.trainViews) {
        const cam = this.camera(vi);
        const view = this.data.views[vi]!;
        const c = this.data.center;
        const depth = Math.max(1e-6, Math.abs(cam.R[6]! * c[0]! + cam.R[7]! * c[1]! + cam.R[8]! * c[2]! + cam.t[2]!));
        systems.push(await viewNormalEquations((k) => this.predict(vi, k, shDegree), cam, view.target, depth, this.opts.camera));
      }
      const cameraCount = poses.focalScale.length;
      const steps = solveCameraSteps(
        systems,
        this.trainViews.map((vi) => this.data.views[vi]!.camIdx),
        cameraCount,
        this.trainViews.map((_, k) => k === 0),
        this.opts.refineFocal,
        this.opts.camera,
      );
      this.trainViews.forEach((vi, k) => poses.applyPoseStep(vi, steps.pose[k]!));
      for (let c = 0; c < cameraCount; c++) poses.focalScale[c]! *= 1 + steps.focal[c]!;
      if (it === 0) firstCost = systems.reduce((a, s) => a + s.cost, 0);
    }
    return firstCost;
  }

  /**
   * The same step with everything on the GPU: forward → loss → backward → Adam → statistics, no
   * parameter or image traffic. The CPU arrays are synced only for densification, camera passes
   * and the caller's sync() (checkpoints, export).
   */
  private async residentStep(raster: GpuRasterizer, vi: number, view: TrainView, cam: RasterCamera, shDegree: number): Promise<StepInfo> {
    const o = this.opts, s = this.schedule;
    if (!this.resident) {
      const { GpuResidentTrainState } = await import('./gpu-resident.js');
      this.resident = await GpuResidentTrainState.create(raster, this.params, this.adam, this.stats, this.photometric ?? undefined);
    }
    const res = this.resident;
    const frozen = this.step < this.cameraSchedule().warmupUntil;
    const lrs = { means: frozen ? 0 : this.adam.means.lr, logScales: this.adam.logScales.lr, quats: this.adam.quats.lr, opacityLogits: this.adam.opacityLogits.lr, sh: this.adam.sh.lr };
    const densifying = o.densify && !frozen;
    await res.step(vi, view.target, cam, this.rasterOptions(shDegree), lrs, o.lambdaDssim, {
      accumulateStats: densifying && this.step + 1 <= s.densifyUntil,
      photometric: this.photometric ? { image: vi, camera: view.camIdx, lrScale: expLr(this.step, 1, 0.01, o.iterations), cx: view.cx, cy: view.cy } : undefined,
    });
    this.residentAhead = true;
    this.step++;
    if (this.step % Math.max(1, o.lossEvery) === 0 || this.step >= o.iterations || !Number.isFinite(this.residentLoss.loss)) {
      const l = await res.loss();
      this.residentLoss = { loss: l.loss, psnr: l.mse > 0 ? -10 * Math.log10(l.mse) : Infinity };
    }
    if (this.poses && this.cameraPassDue(this.step)) await this.refineCameras();
    const info: StepInfo = { step: this.step, loss: this.residentLoss.loss, psnr: this.residentLoss.psnr, count: this.params.count, view: view.name };
    if (densifying && (densifyDue(this.step, s) || opacityResetDue(this.step, s))) {
      await this.sync();
      info.densified = this.refine(null, view);
      res.replace(this.params, this.adam, this.stats);
      info.count = this.params.count;
    }
    return info;
  }

  private applyGradients(g: RasterGradients): void {
    const p = this.params;
    if (this.opts.strategy === 'mcmc') {
      // MCMC regularisers: 0.01·mean(opacity) + 0.01·mean(scale), added straight to the gradients.
      const n = p.count;
      for (let i = 0; i < n; i++) {
        const s = sigmoid(p.opacityLogits[i]!);
        g.opacityLogits[i]! += (0.01 / n) * s * (1 - s);
        for (let a = 0; a < 3; a++) g.logScales[i * 3 + a]! += (0.01 / (3 * n)) * Math.exp(p.logScales[i * 3 + a]!);
      }
    }
    const frozen = this.step < this.cameraSchedule().warmupUntil;
    for (const k of GROUPS) if (!(frozen && k === 'means')) this.adam[k].step(p[k], g[k]);
  }

  /** Densification bookkeeping after a step; returns what changed when something did. */
  private refine(g: RasterGradients | null, view: TrainView): StepInfo['densified'] {
    const s = this.schedule;
    const o = this.opts;
    const step = this.step;
    if (o.strategy === 'mcmc') {
      let res: Restructure | null = null;
      if (densifyDue(step, s)) {
        res = mcmcRelocateAndGrow(this.params, o.maxGaussians > 0 ? o.maxGaussians : 1_000_000, defaultDensify.minOpacity, this.rng);
        this.restructure(res);
      }
      mcmcNoise(this.params, this.adam.means.lr, this.rng);
      return res ? { cloned: res.cloned, split: 0, pruned: 0, relocated: res.relocated } : undefined;
    }
    // (g is null on the resident path: the statistics were accumulated on the GPU)
    if (g && step <= s.densifyUntil) this.stats.add(g.means2dGradNorm, view.width, view.height);
    let out: StepInfo['densified'];
    if (densifyDue(step, s)) {
      const res = densifyAndPrune(this.params, this.stats, {
        ...defaultDensify,
        extent: this.data.extent,
        pruneBig: s.opacityResetEvery > 0 && step > s.opacityResetEvery,
        maxCount: o.maxGaussians,
      }, this.rng);
      this.restructure(res);
      out = { cloned: res.cloned, split: res.split, pruned: res.pruned };
    }
    if (opacityResetDue(step, s)) this.adam.opacityLogits.resetRows(resetOpacity(this.params));
    return out;
  }

  private restructure(res: Restructure): void {
    this.params = res.params;
    for (const k of GROUPS) this.adam[k].remap(res.momentSrc);
    this.stats = new GradStats(this.params.count);
  }

  async train(iterations: number, onStep?: (info: StepInfo) => void | Promise<void>): Promise<void> {
    while (this.step < iterations) {
      const info = await this.trainStep();
      await onStep?.(info);
      // The reference rasterizer is synchronous: let timers and I/O (progress, test runners) run.
      if (this.step % 5 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    await this.sync();
  }

  dispose(): void {
    this.resident?.destroy();
    this.resident = null;
  }

  // ------------------------------------------------------------------------------------------
  // checkpoints

  /** Checkpoint bytes; on the resident path call `await sync()` first (train() does at its end). */
  serialize(): Uint8Array {
    if (this.residentAhead) throw new Error('Trainer.serialize(): GPU state not synced (await trainer.sync() first)');
    const arrays: Record<string, Arr> = {};
    for (const k of GROUPS) {
      arrays[`p.${k}`] = this.params[k];
      arrays[`m.${k}`] = this.adam[k].m;
      arrays[`v.${k}`] = this.adam[k].v;
    }
    arrays['stats.sum'] = this.stats.sum;
    arrays['stats.count'] = this.stats.count;
    if (this.photometric) {
      const ph = this.photometric;
      for (const k of ['ev', 'wb', 'vig', 'resp'] as const) {
        arrays[`ph.${k}`] = ph[k];
        arrays[`ph.m.${k}`] = ph.adam[k].m;
        arrays[`ph.v.${k}`] = ph.adam[k].v;
      }
    }
    if (this.poses) {
      arrays['pose.R'] = this.poses.R;
      arrays['pose.t'] = this.poses.t;
      arrays['pose.focal'] = this.poses.focalScale;
    }
    const meta = {
      version: 2,
      step: this.step,
      count: this.params.count,
      rng: this.rng.state,
      order: this.order,
      orderPos: this.orderPos,
      adamT: Object.fromEntries(GROUPS.map((k) => [k, this.adam[k].t])),
      phT: this.photometric ? Object.fromEntries((['ev', 'wb', 'vig', 'resp'] as const).map((k) => [k, this.photometric!.adam[k].t])) : null,
      cameras: this.poses !== null,
      options: this.opts,
      views: this.data.views.map((v) => v.name),
    };
    return packArrays(meta, arrays);
  }

  /** Restore everything serialize() saved; the trainer must be built on the same data and options. */
  restore(bytes: Uint8Array): void {
    const { meta, arrays } = unpackArrays<{
      step: number; count: number; rng: number; order: number[]; orderPos: number;
      adamT: Record<Group, number>; phT: Record<string, number> | null; cameras: boolean; views: string[];
    }>(bytes);
    if (meta.views.join('\n') !== this.data.views.map((v) => v.name).join('\n')) throw new Error('checkpoint was made for a different set of images');
    const f32 = (k: string) => {
      const a = arrays[k];
      if (!(a instanceof Float32Array)) throw new Error(`checkpoint lacks ${k}`);
      return a;
    };
    this.params = {
      count: meta.count,
      means: f32('p.means'), logScales: f32('p.logScales'), quats: f32('p.quats'), opacityLogits: f32('p.opacityLogits'), sh: f32('p.sh'),
    };
    for (const k of GROUPS) this.adam[k].load({ m: f32(`m.${k}`), v: f32(`v.${k}`), t: meta.adamT[k] });
    this.stats = new GradStats(meta.count);
    this.stats.sum = f32('stats.sum');
    this.stats.count = f32('stats.count');
    if (this.photometric) {
      if (!meta.phT) throw new Error('checkpoint has no photometric state; resume with the same --photometric setting');
      const ph = this.photometric;
      for (const k of ['ev', 'wb', 'vig', 'resp'] as const) {
        ph[k].set(f32(`ph.${k}`));
        ph.adam[k].load({ m: f32(`ph.m.${k}`), v: f32(`ph.v.${k}`), t: meta.phT[k]! });
      }
    }
    if (this.poses) {
      if (!meta.cameras) throw new Error('checkpoint has no camera refinement state; resume with the same --refine-cameras setting');
      this.poses.R.set(arrays['pose.R'] as Float64Array);
      this.poses.t.set(arrays['pose.t'] as Float64Array);
      this.poses.focalScale.set(arrays['pose.focal'] as Float64Array);
    }
    this.step = meta.step;
    this.rng.state = meta.rng;
    if (this.resident) this.resident.replace(this.params, this.adam, this.stats, this.photometric ?? undefined);
    this.order = meta.order;
    this.orderPos = meta.orderPos;
  }
}
