/**
 * Densification as a strategy object (gsplat's strategy/ is the model): the trainer calls the same
 * hooks at fixed points of every step, whichever path (CPU arrays or GPU-resident) computed it:
 *
 *   render → loss → backward → stepPreOptimizer(state, grads) → Adam → … step++ → camera pass →
 *   stepPostOptimizer(state, info)
 *
 * A strategy owns its schedule and thresholds (documented fields with defaults) and reshapes the
 * trainer's state through `restructure`, which keeps the parameter-group table's remapping rule
 * (rows gathered, Adam moments by `momentSrc`, fresh statistics). Implementations:
 * strategy-default.ts (3DGS adaptive density control), strategy-mcmc.ts (3DGS-MCMC).
 */
import type { GaussianParams } from '../../core/gaussians.js';
import type { RasterGradients } from '../../core/raster.js';
import { GradStats, type Restructure } from './densify.js';
import type { Rng } from '../../util/rng.js';
import { PARAM_GROUPS, type AdamGroups } from './param-groups.js';

/** The trainer state a strategy reads and replaces (the Trainer itself satisfies it). */
export interface DensifyState {
  params: GaussianParams;
  readonly adam: AdamGroups;
  stats: GradStats;
  readonly rng: Rng;
}

/** What a step tells the strategy after its update. */
export interface StepContext {
  /** completed steps (1-based) */
  step: number;
  /** the rasterizer's gradients on the CPU-array path; null on the GPU-resident path (statistics were accumulated there) */
  grads: RasterGradients | null;
  /** size of the view just trained (screen-space gradients are normalised by it) */
  width: number;
  height: number;
  /** position learning rate in use this step */
  positionLr: number;
}

/** What changed when the strategy restructured the scene. */
export type Densified = Omit<Restructure, 'params' | 'momentSrc'>;

export interface DensifyStrategy {
  readonly name: 'default' | 'mcmc';
  /** the GPU-resident path can run this strategy (its per-step work needs no CPU arrays) */
  readonly residentCapable: boolean;
  /** before the optimizer: add regularisation terms to the gradients (CPU-array path) */
  stepPreOptimizer(state: DensifyState, grads: RasterGradients): void;
  /** after the step: statistics, densify/prune/relocate, opacity reset; what changed, if anything */
  stepPostOptimizer(state: DensifyState, ctx: StepContext): Densified | undefined;
  /** resident path: accumulate screen-space gradient statistics on the GPU during step `step` (0-based) */
  accumulatesStats(step: number): boolean;
  /** resident path: stepPostOptimizer after completed step `step` needs the CPU arrays */
  hostWorkDue(step: number): boolean;
}

/** Replace the scene by a restructured one: moments follow momentSrc, statistics start afresh. */
export function restructure(state: DensifyState, res: Restructure): void {
  state.params = res.params;
  for (const k of PARAM_GROUPS) state.adam[k].remap(res.momentSrc);
  state.stats = new GradStats(state.params.count);
}
