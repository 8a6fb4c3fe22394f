/**
 * The optimisation loop: random view order (seeded), one step (render, photometric model,
 * 0.8·L1 + 0.2·D-SSIM, rasterizer backward, per-group Adam with the 3DGS learning rates and an
 * exponential position schedule), SH degree raised on schedule, the densification strategy's hooks
 * (train/strategy-*.ts), Gauss-Newton camera passes when due (train/camera-passes.ts).
 *
 * Two implementations compute the same step (train/step.ts): the CPU-array path
 * (train/cpu-step.ts: any backend, any strategy) and, when the backend offers a resident
 * rasterizer and the strategy allows it, the GPU-resident path (train/resident-step.ts: no
 * per-step traffic). Plain typed arrays stay the canonical state: the resident path syncs them
 * back before densification, camera passes and checkpoints, so a checkpoint
 * (train/checkpoint-state.ts) restores either path exactly.
 */
import type { GaussianParams } from '../core/gaussians.js';
import type { RasterCamera, RasterOptions } from '../core/raster.js';
import { defaultRasterOptions } from '../core/raster.js';
import type { RasterBackend } from './backend.js';
import { tf } from './tf.js';
import type { LossResult } from './train/image-loss.js';
import { expLr, scaledSchedule, shDegreeAt, type StepSchedule } from './train/schedule.js';
import { GradStats } from './train/densify.js';
import { PhotometricModel, applyPhotometric, radius2 } from './photometric.js';
import { cloneGaussians, initFromPoints, randomPoints } from './gaussians.js';
import type { TrainData } from './dataset.js';
import { Rng } from '../util/rng.js';
import { warn } from '../util/log.js';
import { createAdamGroups, type AdamGroups } from './train/param-groups.js';
import { defaultTrainOptions, type StepInfo, type TrainOptions } from './train/options.js';
import type { DensifyStrategy } from './train/strategy.js';
import { DefaultStrategy, defaultStrategyOptions } from './train/strategy-default.js';
import { McmcStrategy, mcmcStrategyOptions } from './train/strategy-mcmc.js';
import { CameraRefiner, cameraPass, cameraPassDue, cameraSchedule, type CameraSchedule } from './train/camera-passes.js';
import { serializeState, restoreState } from './train/checkpoint-state.js';
import type { RunIdentity } from './train/run-identity.js';
import type { TrainStepImpl } from './train/step.js';
import { CpuStep } from './train/cpu-step.js';
import { ResidentStep } from './train/resident-step.js';
import { LOCKSTEP_TOLERANCE, compareLockstep, type LockstepReport, type LockstepSide, type LockstepTolerance } from './train/lockstep.js';
import { PARAM_GROUPS, type ParamGroup } from './train/param-groups.js';

export { defaultTrainOptions, type TrainOptions, type StepInfo, CameraRefiner };

/** The strategy the options name, with the trainer's scaled schedule. */
export function createStrategy(o: TrainOptions, schedule: StepSchedule, extent: number): DensifyStrategy {
  return o.strategy === 'mcmc'
    ? new McmcStrategy(mcmcStrategyOptions(schedule, o.maxGaussians))
    : new DefaultStrategy(defaultStrategyOptions(schedule, extent, o.maxGaussians));
}

export class Trainer {
  params: GaussianParams;
  readonly adam: AdamGroups;
  stats: GradStats;
  rng: Rng;
  step = 0;
  order: number[] = [];
  orderPos = 0;
  readonly schedule: StepSchedule;
  readonly strategy: DensifyStrategy;
  readonly photometric: PhotometricModel | null;
  readonly poses: CameraRefiner | null;
  readonly trainViews: number[];
  lastLoss: LossResult | null = null;
  /** the run this trainer continues (run-identity.ts); checkpoints carry it and restore() checks it */
  identity: RunIdentity | null = null;
  private readonly cpuStep = new CpuStep();
  /** created on the first step that can use it */
  private residentStep: ResidentStep | null = null;
  /** the resident path failed its self-check on this adapter (train/resident-step.ts) */
  private residentFailed = false;

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
    this.adam = createAdamGroups(this.params.count, opts.lrs, data.extent);
    this.stats = new GradStats(this.params.count);
    this.strategy = createStrategy(opts, this.schedule, data.extent);
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

  /** Steps between camera passes and the first pass, resolved from the options. */
  cameraSchedule(): CameraSchedule {
    return cameraSchedule(this.opts);
  }

  private nextView(): number {
    if (this.orderPos >= this.order.length) {
      this.order = this.rng.shuffle(this.trainViews);
      this.orderPos = 0;
    }
    return this.order[this.orderPos++]!;
  }

  /** The step implementation for this trainer: GPU-resident when the backend and strategy allow it. */
  private stepImpl(): TrainStepImpl {
    if (this.residentStep?.mismatch) {
      warn(`train: the GPU-resident step failed its self-check (${this.residentStep.mismatch}); training continues on the CPU-array path (same result, slower)`);
      this.residentStep.dispose();
      this.residentStep = null;
      this.residentFailed = true;
    }
    const raster = this.opts.resident && this.strategy.residentCapable && !this.residentFailed ? this.backend.resident : null;
    if (!raster) return this.cpuStep;
    return (this.residentStep ??= new ResidentStep(raster));
  }

  /**
   * Bring the CPU arrays (parameters, Adam moments, statistics) up to date with the GPU-resident
   * state. Call before reading `params` or serialize(); train() does at its end.
   */
  async sync(): Promise<void> {
    await this.residentStep?.sync(this);
  }

  /**
   * One optimisation step. On the resident path, every `residentCheckEvery` steps the step is a
   * lockstep check (lockstepStep); a disagreement hands training to the CPU-array path, continuing
   * from the CPU-array side's state, with one line naming the stage.
   */
  async trainStep(): Promise<StepInfo> {
    const every = this.opts.residentCheckEvery;
    if (every > 0 && (this.step + 1) % every === 0 && this.stepImpl() instanceof ResidentStep) {
      const { info, report, cpuState } = await this.lockstep(LOCKSTEP_TOLERANCE, true);
      if (report.disagree && cpuState) {
        warn(`train: at step ${report.step} the GPU-resident step disagreed with the CPU-array path in ${report.disagree}; training continues on the CPU-array path (same result, slower)`);
        this.residentStep?.dispose();
        this.residentStep = null;
        this.residentFailed = true;
        this.restore(cpuState);
      }
      return info;
    }
    return this.stepOnce();
  }

  /**
   * One step on the resident path and, from the same state, on the CPU-array path (a shadow
   * trainer restored from this one's checkpoint bytes); the report compares them stage by stage
   * (train/lockstep.ts). Training goes on from the resident step. Needs the resident path.
   */
  async lockstepStep(tol: LockstepTolerance = LOCKSTEP_TOLERANCE): Promise<{ info: StepInfo; report: LockstepReport }> {
    const { info, report } = await this.lockstep(tol, false);
    return { info, report };
  }

  private async lockstep(tol: LockstepTolerance, keepCpuState: boolean): Promise<{ info: StepInfo; report: LockstepReport; cpuState: Uint8Array | null }> {
    const impl = this.stepImpl();
    if (!(impl instanceof ResidentStep)) throw new Error('Trainer.lockstepStep: the GPU-resident path is not in use');
    await this.sync();
    const bytes = this.serialize();
    const shadow = new Trainer(this.data, this.backend, { ...this.opts, resident: false, residentCheckEvery: 0 }, cloneGaussians(this.params));
    shadow.identity = this.identity;
    shadow.restore(bytes);
    try {
      impl.checkNext();
      const info = await this.stepOnce();
      if (impl.mismatch) {
        const report: LockstepReport = { step: this.step, view: info.view, stages: [], disagree: impl.mismatch };
        await shadow.stepOnce();
        return { info, report, cpuState: keepCpuState ? shadow.serialize() : null };
      }
      const last = impl.checkedStep();
      await this.sync();
      const res = this.lockstepSide(last.loss, last.lossGradient);
      await shadow.stepOnce();
      const cpu = shadow.lockstepSide(shadow.lastLoss?.loss ?? NaN, shadow.lastLoss?.grad ?? new Float32Array(0));
      const report = compareLockstep(this.step, info.view, res, cpu, tol);
      return { info, report, cpuState: keepCpuState && report.disagree ? shadow.serialize() : null };
    } finally {
      shadow.dispose();
    }
  }

  private lockstepSide(loss: number, lossGradient: Float32Array): LockstepSide {
    const moments = {} as Record<ParamGroup, { m: Float32Array; v: Float32Array }>;
    for (const k of PARAM_GROUPS) moments[k] = { m: this.adam[k].m, v: this.adam[k].v };
    const ph = this.photometric;
    const photometric = ph ? Float32Array.from([...ph.ev, ...ph.wb, ...ph.vig, ...ph.resp]) : null;
    return { loss, lossGradient, params: this.params, moments, photometric };
  }

  private async stepOnce(): Promise<StepInfo> {
    const o = this.opts;
    const vi = this.nextView();
    const view = this.data.views[vi]!;
    const shDegree = shDegreeAt(this.step, this.schedule, o.maxShDegree);
    this.adam.means.lr = expLr(this.step, o.lrs.positionInit * this.data.extent, o.lrs.positionFinal * this.data.extent, o.iterations);
    const frozen = this.step < this.cameraSchedule().warmupUntil;
    const densifying = o.densify && !frozen;
    const impl = this.stepImpl();
    const r = await impl.run(this, { vi, view, cam: this.camera(vi), raster: this.rasterOptions(shDegree), frozen, densifying });
    this.step++;
    if (this.poses && cameraPassDue(this.step, this.cameraSchedule())) await this.refineCameras();
    const info: StepInfo = { step: this.step, loss: r.loss, psnr: r.psnr, count: this.params.count, view: view.name };
    if (!densifying) return info;
    const ctx = { step: this.step, grads: r.grads, width: view.width, height: view.height, positionLr: this.adam.means.lr };
    if (impl === this.cpuStep) info.densified = this.strategy.stepPostOptimizer(this, ctx);
    else if (this.strategy.hostWorkDue(this.step)) {
      await this.sync();
      info.densified = this.strategy.stepPostOptimizer(this, ctx);
      impl.replace(this, false);
      info.count = this.params.count;
    }
    return info;
  }

  /** The trainer's prediction of a view's image through a camera: render, then the photometric model. */
  async predict(vi: number, cam: RasterCamera): Promise<Float32Array> {
    const shDegree = shDegreeAt(this.step, this.schedule, this.opts.maxShDegree);
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

  /** One Gauss-Newton camera pass (train/camera-passes.ts); returns the summed robust cost before. */
  async refineCameras(): Promise<number> {
    const poses = this.poses;
    if (!poses) return 0;
    await this.sync();
    return cameraPass({ data: this.data, trainViews: this.trainViews, poses, camera: (i) => this.camera(i), predict: (i, c) => this.predict(i, c) }, this.opts.camera, this.opts.refineFocal);
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
    this.residentStep?.dispose();
    this.residentStep = null;
  }

  /** Checkpoint bytes; on the resident path call `await sync()` first (train() does at its end). */
  serialize(): Uint8Array {
    if (this.residentStep?.ahead) throw new Error('Trainer.serialize(): GPU state not synced (await trainer.sync() first)');
    return serializeState(this.checkpointed());
  }

  /** Restore everything serialize() saved; the trainer must be built on the same data and options. */
  restore(bytes: Uint8Array): void {
    const s = this.checkpointed();
    restoreState(s, bytes);
    Object.assign(this, { params: s.params, stats: s.stats, step: s.step, order: s.order, orderPos: s.orderPos });
    this.residentStep?.replace(this, true);
  }

  private checkpointed() {
    return {
      params: this.params, adam: this.adam, stats: this.stats, rng: this.rng, step: this.step, order: this.order, orderPos: this.orderPos,
      photometric: this.photometric, poses: this.poses, viewNames: this.data.views.map((v) => v.name), options: this.opts, identity: this.identity,
    };
  }
}
