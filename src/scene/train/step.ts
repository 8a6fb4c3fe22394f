/**
 * The contract between the training loop (trainer.ts) and its two step implementations:
 * cpu-step.ts (CPU arrays: any backend, any strategy) and resident-step.ts (GPU-resident: the GPU
 * backend's rasterizer, a resident-capable strategy). Both compute the same step; the loop owns
 * the view order, the step counter, camera passes and when the strategy runs.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import type { RasterCamera, RasterGradients, RasterOptions } from '../../core/raster.js';
import type { RasterBackend } from '../backend.js';
import type { GradStats } from './densify.js';
import type { TrainData, TrainView } from '../dataset.js';
import type { PhotometricModel } from '../photometric.js';
import type { LossResult } from './image-loss.js';
import type { AdamGroups } from './param-groups.js';
import type { TrainOptions } from './options.js';
import type { DensifyStrategy } from './strategy.js';
import type { Rng } from '../../util/rng.js';

/** What a step implementation reads and updates (the Trainer satisfies it). */
export interface StepHost {
  params: GaussianParams;
  readonly adam: AdamGroups;
  stats: GradStats;
  readonly rng: Rng;
  readonly opts: TrainOptions;
  readonly data: TrainData;
  readonly backend: RasterBackend;
  readonly photometric: PhotometricModel | null;
  readonly strategy: DensifyStrategy;
  /** completed steps before this one */
  readonly step: number;
  lastLoss: LossResult | null;
}

export interface StepInput {
  /** view index (TrainData.views) */
  vi: number;
  view: TrainView;
  cam: RasterCamera;
  raster: RasterOptions;
  /** camera warm-up: positions frozen, no densification */
  frozen: boolean;
  /** the strategy will run after this step (resident path: accumulate statistics on the GPU) */
  densifying: boolean;
}

export interface StepOutput {
  loss: number;
  psnr: number;
  /** the rasterizer's gradients (CPU-array path), for the strategy's statistics */
  grads: RasterGradients | null;
}

export interface TrainStepImpl {
  run(host: StepHost, input: StepInput): Promise<StepOutput>;
  /** bring the host's CPU arrays up to date (no-op on the CPU-array path) */
  sync(host: StepHost): Promise<void>;
  /** the host's CPU arrays changed (densification; a restore also changed the photometric model): take them */
  replace(host: StepHost, withPhotometric: boolean): void;
  dispose(): void;
}

export function psnrOf(mse: number): number {
  return mse > 0 ? -10 * Math.log10(mse) : Infinity;
}
