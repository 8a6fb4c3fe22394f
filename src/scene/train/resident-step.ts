/**
 * The GPU-resident step: forward → loss → backward → Adam → statistics on the GPU
 * (gpu-resident.ts), no parameter or image traffic. The host's CPU arrays are brought up to date
 * only by sync() (densification, camera passes, checkpoints, export) and uploaded again by
 * replace() after the CPU reshaped them.
 */
import type { GpuRasterizer } from '../../gpu/raster/rasterizer.js';
import type { GpuResidentTrainState } from './gpu-resident.js';
import { expLr } from './schedule.js';
import { PARAM_GROUP_TABLE, type ParamGroup } from './param-groups.js';
import { psnrOf, type StepHost, type StepInput, type StepOutput, type TrainStepImpl } from './step.js';
import { photoLossAndGrad } from './image-loss.js';
import { GpuPassError } from '../../gpu/pass-errors.js';

/**
 * Steps at the start whose GPU loss is checked against the same loss recomputed on the CPU from
 * the step's own read-back prediction, with every pass inside WebGPU error scopes (a rejected
 * command buffer does nothing, silently: an error names its pass here). On an NVIDIA H200 (Dawn,
 * Vulkan) the resident loss stayed at its first value while the CPU-array path learned; a
 * mismatch here sends training to the CPU-array path instead of to garbage. Later steps are
 * checked stage by stage every `residentCheckEvery` steps (Trainer.lockstepStep, lockstep.ts).
 */
const SELF_CHECK_STEPS = 3;
const SELF_CHECK_TOLERANCE = 1e-3;

export class ResidentStep implements TrainStepImpl {
  private state: GpuResidentTrainState | null = null;
  /** the GPU state has steps the CPU arrays do not */
  ahead = false;
  private lossCache = { loss: NaN, psnr: NaN };
  private checksLeft = SELF_CHECK_STEPS;
  /** set when the self-check failed: the trainer then drops this path (its GPU state is discarded) */
  mismatch: string | null = null;
  /** run the next step inside error scopes and keep its loss and ∂loss/∂prediction (lockstep checks) */
  scopesNext = false;
  private readoutNext = false;
  private readout: { loss: number; lossGradient: Float32Array } | null = null;

  /** Ask the next step to run inside error scopes and keep its loss readout (lockstep checks). */
  checkNext(): void {
    this.scopesNext = true;
    this.readoutNext = true;
    this.readout = null;
  }

  constructor(private readonly raster: GpuRasterizer) {}

  async run(h: StepHost, { vi, view, cam, raster, frozen, densifying }: StepInput): Promise<StepOutput> {
    const o = h.opts;
    if (!this.state) {
      const { GpuResidentTrainState } = await import('./gpu-resident.js');
      this.state = await GpuResidentTrainState.create(this.raster, h.params, h.adam, h.stats, h.photometric ?? undefined);
    }
    const res = this.state;
    const lrs = Object.fromEntries(PARAM_GROUP_TABLE.map((g) => [g.name, frozen && g.positional ? 0 : h.adam[g.name].lr])) as Record<ParamGroup, number>;
    const checking = this.checksLeft > 0 || this.scopesNext;
    this.scopesNext = false;
    try {
      await res.step(vi, view.target, cam, raster, lrs, o.lambdaDssim, {
        accumulateStats: densifying && h.strategy.accumulatesStats(h.step),
        photometric: h.photometric ? { image: vi, camera: view.camIdx, lrScale: expLr(h.step, 1, 0.01, o.iterations), cx: view.cx, cy: view.cy } : undefined,
        errorScopes: checking || process.env.R2S_GPU_STRICT === '1',
      });
    } catch (e) {
      if (!(e instanceof GpuPassError)) throw e;
      this.mismatch = `step ${h.step + 1}: ${e.message}`;
      this.ahead = false; // nothing of this state may reach the CPU arrays
      return { loss: NaN, psnr: this.lossCache.psnr, grads: null };
    }
    this.ahead = true;
    if (this.readoutNext) {
      this.readoutNext = false;
      const [l, g] = await Promise.all([res.loss(), res.lossInputGradient()]);
      this.readout = { loss: l.loss, lossGradient: g };
    }
    if (this.checksLeft > 0) {
      this.checksLeft--;
      const l = await res.loss();
      const P = cam.width * cam.height;
      const cpu = photoLossAndGrad(await res.lastPrediction(), view.target.subarray(0, P * 3), cam.width, cam.height, o.lambdaDssim);
      const rel = Math.abs(l.loss - cpu.loss) / Math.max(Math.abs(cpu.loss), 1e-12);
      if (!(rel <= SELF_CHECK_TOLERANCE)) {
        this.mismatch = `step ${h.step + 1}: loss ${l.loss.toPrecision(6)} on the GPU, ${cpu.loss.toPrecision(6)} recomputed on the CPU from the same prediction`;
        this.ahead = false; // nothing of this state may reach the CPU arrays
        return { loss: cpu.loss, psnr: this.lossCache.psnr, grads: null };
      }
    }
    const done = h.step + 1;
    if (done % Math.max(1, o.lossEvery) === 0 || done >= o.iterations || !Number.isFinite(this.lossCache.loss)) {
      const l = await res.loss();
      this.lossCache = { loss: l.loss, psnr: psnrOf(l.mse) };
    }
    return { ...this.lossCache, grads: null };
  }

  /** The loss and ∂loss/∂prediction of the step after checkNext(), read back right after it. */
  checkedStep(): { loss: number; lossGradient: Float32Array } {
    if (!this.readout) throw new Error('ResidentStep.checkedStep(): no checked step (call checkNext() before the step)');
    return this.readout;
  }

  async sync(h: StepHost): Promise<void> {
    if (!this.state || !this.ahead) return;
    await this.state.downloadInto(h.params, h.adam, h.stats, h.photometric ?? undefined);
    // a new object: holders of the old reference see a consistent snapshot
    h.params = { ...h.params };
    this.ahead = false;
  }

  replace(h: StepHost, withPhotometric: boolean): void {
    this.state?.replace(h.params, h.adam, h.stats, withPhotometric ? h.photometric ?? undefined : undefined);
  }

  dispose(): void {
    this.state?.destroy();
    this.state = null;
  }
}
