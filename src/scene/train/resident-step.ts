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

/**
 * Steps at the start whose GPU loss is checked against the same loss recomputed on the CPU from
 * the step's own read-back prediction. On an NVIDIA H200 (Dawn, Vulkan) the resident loss stayed
 * at its first value while the CPU-array path learned (bench/device/resident-check.ts looks for
 * the stage); a mismatch here sends training to the CPU-array path instead of to garbage.
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

  constructor(private readonly raster: GpuRasterizer) {}

  async run(h: StepHost, { vi, view, cam, raster, frozen, densifying }: StepInput): Promise<StepOutput> {
    const o = h.opts;
    if (!this.state) {
      const { GpuResidentTrainState } = await import('./gpu-resident.js');
      this.state = await GpuResidentTrainState.create(this.raster, h.params, h.adam, h.stats, h.photometric ?? undefined);
    }
    const res = this.state;
    const lrs = Object.fromEntries(PARAM_GROUP_TABLE.map((g) => [g.name, frozen && g.positional ? 0 : h.adam[g.name].lr])) as Record<ParamGroup, number>;
    await res.step(vi, view.target, cam, raster, lrs, o.lambdaDssim, {
      accumulateStats: densifying && h.strategy.accumulatesStats(h.step),
      photometric: h.photometric ? { image: vi, camera: view.camIdx, lrScale: expLr(h.step, 1, 0.01, o.iterations), cx: view.cx, cy: view.cy } : undefined,
    });
    this.ahead = true;
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
