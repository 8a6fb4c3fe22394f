/**
 * The optimisation loop: random view order (seeded), render, photometric model, 0.8·L1 + 0.2·D-SSIM,
 * rasterizer backward, per-group Adam (3DGS learning rates, exponential position schedule), SH
 * degree raised on schedule, adaptive density control or MCMC, optional camera refinement.
 * All state lives in plain typed arrays, so a checkpoint restores it exactly.
 */
import type { GaussianParams, RasterCamera, RasterGradients, RasterOptions } from './raster/api.js';
import { defaultRasterOptions } from './raster/api.js';
import type { RasterBackend } from './backend.js';
import { tf } from './tf.js';
import { Adam } from './adam.js';
import { LAMBDA_DSSIM } from './losses.js';
import { photoLossAndGrad, type LossResult } from './image-loss.js';
import { defaultLearningRates, expLr, scaledSchedule, densifyDue, opacityResetDue, shDegreeAt, type LearningRates, type StepSchedule } from './schedule.js';
import { GradStats, densifyAndPrune, resetOpacity, mcmcRelocateAndGrow, mcmcNoise, defaultDensify, type Restructure } from './densify.js';
import { PhotometricModel, applyPhotometric, radius2, RESPONSE_SEGMENTS } from './photometric.js';
import { initFromPoints, randomPoints, sigmoid, SH_COEFFS } from './gaussians.js';
import type { TrainData, TrainView } from './dataset.js';
import { Rng } from '../util/rng.js';
import { expSO3, matMul3, matVec3 } from '../geometry/rotation.js';
import { packArrays, unpackArrays, type Arr } from './checkpoint.js';

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
  /** pose learning rates: rotation (radians/step scale) and translation (× extent) */
  poseLrRotation: number;
  poseLrTranslation: number;
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
  poseLrRotation: 3e-3,
  poseLrTranslation: 3e-3,
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

/** Per-view camera poses being refined (world-to-camera), with their Adam moments. */
export class PoseRefiner {
  R: Float64Array;
  t: Float64Array;
  readonly adam: Adam;
  constructor(views: TrainView[], public lrRot: number, public lrTrans: number) {
    this.R = new Float64Array(views.length * 9);
    this.t = new Float64Array(views.length * 3);
    views.forEach((v, i) => { this.R.set(v.R, i * 9); this.t.set(v.t, i * 3); });
    this.adam = new Adam(views.length * 6, 6, 1, 0.9, 0.999, 1e-15);
  }

  pose(i: number): { R: number[]; t: number[] } {
    return { R: Array.from(this.R.subarray(i * 9, i * 9 + 9)), t: Array.from(this.t.subarray(i * 3, i * 3 + 3)) };
  }

  /** Left-multiplied update T ← exp(−step)·T from the rasterizer's pose gradient. */
  step(i: number, grad: ArrayLike<number>): void {
    const delta = new Float64Array(6);
    const g = Float64Array.from(grad);
    const m = this.adam.m.subarray(i * 6, i * 6 + 6), v = this.adam.v.subarray(i * 6, i * 6 + 6);
    const sub = new Adam(6, 6, 1, this.adam.beta1, this.adam.beta2, 1e-12);
    sub.m = m; sub.v = v; sub.t = this.adam.t;
    sub.colScale = Float32Array.from([this.lrRot, this.lrRot, this.lrRot, this.lrTrans, this.lrTrans, this.lrTrans]);
    sub.step(delta, g); // delta = −lr·m̂/√v̂
    this.adam.t = sub.t;
    const dR = expSO3([delta[0]!, delta[1]!, delta[2]!]);
    const { R, t } = this.pose(i);
    const R2 = matMul3(dR, R);
    const t2 = matVec3(dR, t);
    this.R.set(R2, i * 9);
    this.t.set([t2[0] + delta[3]!, t2[1] + delta[4]!, t2[2] + delta[5]!], i * 3);
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
  readonly poses: PoseRefiner | null;
  readonly trainViews: number[];
  lastLoss: LossResult | null = null;

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
    this.poses = opts.refineCameras ? new PoseRefiner(data.views, opts.poseLrRotation, opts.poseLrTranslation * data.extent) : null;
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
    return { width: v.width, height: v.height, fx: v.fx, fy: v.fy, cx: v.cx, cy: v.cy, R: pose.R, t: pose.t };
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

  /** One optimisation step. */
  async trainStep(): Promise<StepInfo> {
    const s = this.schedule;
    const o = this.opts;
    const vi = this.nextView();
    const view = this.data.views[vi]!;
    const shDegree = shDegreeAt(this.step, s, o.maxShDegree);
    this.adam.means.lr = expLr(this.step, o.lrs.positionInit * this.data.extent, o.lrs.positionFinal * this.data.extent, o.iterations);
    const cam = this.camera(vi);
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
    if (this.poses && vi !== this.trainViews[0]) {
      // the first training view fixes the gauge; rates decay ×0.03 over the run (each view is
      // visited only iterations/views times, so they start high)
      const f = expLr(this.step, 1, 0.03, o.iterations);
      this.poses.lrRot = o.poseLrRotation * f;
      this.poses.lrTrans = o.poseLrTranslation * this.data.extent * f;
      this.poses.step(vi, g.pose);
    }

    this.step++;
    const info: StepInfo = { step: this.step, loss, psnr: mse > 0 ? -10 * Math.log10(mse) : Infinity, count: this.params.count, view: view.name };
    if (o.densify) info.densified = this.refine(g, view);
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
    for (const k of GROUPS) this.adam[k].step(p[k], g[k]);
  }

  /** Densification bookkeeping after a step; returns what changed when something did. */
  private refine(g: RasterGradients, view: TrainView): StepInfo['densified'] {
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
    if (step <= s.densifyUntil) this.stats.add(g.means2dGradNorm, view.width, view.height);
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
  }

  dispose(): void {}

  // ------------------------------------------------------------------------------------------
  // checkpoints

  serialize(): Uint8Array {
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
      arrays['pose.m'] = this.poses.adam.m;
      arrays['pose.v'] = this.poses.adam.v;
    }
    const meta = {
      version: 1,
      step: this.step,
      count: this.params.count,
      rng: this.rng.state,
      order: this.order,
      orderPos: this.orderPos,
      adamT: Object.fromEntries(GROUPS.map((k) => [k, this.adam[k].t])),
      phT: this.photometric ? Object.fromEntries((['ev', 'wb', 'vig', 'resp'] as const).map((k) => [k, this.photometric!.adam[k].t])) : null,
      poseT: this.poses ? this.poses.adam.t : null,
      options: this.opts,
      views: this.data.views.map((v) => v.name),
    };
    return packArrays(meta, arrays);
  }

  /** Restore everything serialize() saved; the trainer must be built on the same data and options. */
  restore(bytes: Uint8Array): void {
    const { meta, arrays } = unpackArrays<{
      step: number; count: number; rng: number; order: number[]; orderPos: number;
      adamT: Record<Group, number>; phT: Record<string, number> | null; poseT: number | null; views: string[];
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
      if (meta.poseT === null) throw new Error('checkpoint has no camera refinement state; resume with the same --refine-cameras setting');
      this.poses.R.set(arrays['pose.R'] as Float64Array);
      this.poses.t.set(arrays['pose.t'] as Float64Array);
      this.poses.adam.load({ m: f32('pose.m'), v: f32('pose.v'), t: meta.poseT });
    }
    this.step = meta.step;
    this.rng.state = meta.rng;
    this.order = meta.order;
    this.orderPos = meta.orderPos;
  }
}
