/**
 * 3DGS adaptive density control (Kerbl et al. 2023; gsplat DefaultStrategy): accumulate each
 * Gaussian's screen-space gradient norm over the views that see it; every `refineEvery` steps in
 * [refineStart, refineStop] clone small Gaussians and split large ones whose mean gradient exceeds
 * the threshold, prune transparent and (after the first opacity reset) oversized ones; clamp
 * opacities every `resetEvery` steps.
 */
import type { RasterGradients } from '../../core/raster.js';
import { densifyAndPrune, resetOpacity } from './densify.js';
import type { StepSchedule } from './schedule.js';
import { restructure, type Densified, type DensifyState, type DensifyStrategy, type StepContext } from './strategy.js';

export interface DefaultStrategyOptions {
  /** mean NDC gradient norm above which a Gaussian grows (3DGS 0.0002) */
  gradThreshold: number;
  /** a growing Gaussian larger than this × extent is split, smaller ones are cloned (0.01) */
  percentDense: number;
  /** prune below this opacity (0.005) */
  minOpacity: number;
  /** after the first opacity reset, prune Gaussians larger than this × extent (0.1) */
  pruneBigFactor: number;
  /** an opacity reset clamps opacities to this (0.01) */
  resetOpacityTo: number;
  /** first step (1-based, completed) at which to densify (scaled 3DGS 500) */
  refineStart: number;
  /** last step at which to densify, and to accumulate statistics (scaled 3DGS 15 000) */
  refineStop: number;
  /** densify every this many steps (scaled 3DGS 100, at least 50) */
  refineEvery: number;
  /** reset opacities every this many steps; 0 = never (scaled 3DGS 3000) */
  resetEvery: number;
  /** never grow past this many Gaussians; 0 = unlimited */
  maxCount: number;
  /** scene extent (the camera spread); the size thresholds are fractions of it */
  extent: number;
}

const defaultStrategyThresholds = { gradThreshold: 0.0002, percentDense: 0.01, minOpacity: 0.005, pruneBigFactor: 0.1, resetOpacityTo: 0.01 };

/** Options from the trainer's scaled schedule (schedule.ts) and the thresholds above. */
export function defaultStrategyOptions(s: StepSchedule, extent: number, maxCount: number): DefaultStrategyOptions {
  return { ...defaultStrategyThresholds, refineStart: s.densifyFrom, refineStop: s.densifyUntil, refineEvery: s.densifyEvery, resetEvery: s.opacityResetEvery, maxCount, extent };
}

export class DefaultStrategy implements DensifyStrategy {
  readonly name = 'default';
  readonly residentCapable = true;
  constructor(readonly o: DefaultStrategyOptions) {}

  densifyDue(step: number): boolean {
    const o = this.o;
    return step >= o.refineStart && step <= o.refineStop && step % o.refineEvery === 0;
  }

  resetDue(step: number): boolean {
    const o = this.o;
    return o.resetEvery > 0 && step % o.resetEvery === 0 && step <= o.refineStop;
  }

  stepPreOptimizer(_state: DensifyState, _grads: RasterGradients): void {}

  accumulatesStats(step: number): boolean {
    return step + 1 <= this.o.refineStop;
  }

  hostWorkDue(step: number): boolean {
    return this.densifyDue(step) || this.resetDue(step);
  }

  stepPostOptimizer(state: DensifyState, c: StepContext): Densified | undefined {
    const o = this.o;
    if (c.grads && c.step <= o.refineStop) state.stats.add(c.grads.means2dGradNorm, c.width, c.height);
    let out: Densified | undefined;
    if (this.densifyDue(c.step)) {
      const res = densifyAndPrune(state.params, state.stats, {
        gradThreshold: o.gradThreshold,
        percentDense: o.percentDense,
        minOpacity: o.minOpacity,
        extent: o.extent,
        pruneBig: o.resetEvery > 0 && c.step > o.resetEvery,
        pruneBigFactor: o.pruneBigFactor,
        maxCount: o.maxCount,
      }, state.rng);
      restructure(state, res);
      out = { cloned: res.cloned, split: res.split, pruned: res.pruned };
    }
    if (this.resetDue(c.step)) state.adam.opacityLogits.resetRows(resetOpacity(state.params, o.resetOpacityTo));
    return out;
  }
}
