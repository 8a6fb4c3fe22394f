/**
 * 3DGS as Markov chain Monte Carlo (Kheradmand et al. 2024; gsplat MCMCStrategy) with a Gaussian
 * budget: every `refineEvery` steps dead Gaussians are relocated onto live ones sampled by
 * opacity and the count grows by `growthRate` up to `capMax`; every step positions get
 * opacity-gated noise, and the gradients get opacity and scale regularisers.
 */
import type { RasterGradients } from '../../core/raster.js';
import { mcmcNoise, mcmcRelocateAndGrow } from './densify.js';
import { sigmoid } from '../gaussians.js';
import type { StepSchedule } from './schedule.js';
import { restructure, type Densified, type DensifyState, type DensifyStrategy, type StepContext } from './strategy.js';

export interface McmcStrategyOptions {
  /** Gaussian budget (1 000 000 when the user sets none) */
  capMax: number;
  /** relocate Gaussians below this opacity (0.005) */
  minOpacity: number;
  /** new Gaussians per round, as a fraction of the count (0.05) */
  growthRate: number;
  /** position noise scale, × the position lr (5e5) */
  noiseLr: number;
  /** weight of the mean-opacity regulariser (0.01) */
  opacityReg: number;
  /** weight of the mean-scale regulariser (0.01) */
  scaleReg: number;
  /** relocate/grow at steps in [refineStart, refineStop] that are multiples of refineEvery (the default strategy's scaled schedule) */
  refineStart: number;
  refineStop: number;
  refineEvery: number;
}

export function mcmcStrategyOptions(s: StepSchedule, maxGaussians: number): McmcStrategyOptions {
  return {
    capMax: maxGaussians > 0 ? maxGaussians : 1_000_000,
    minOpacity: 0.005, growthRate: 0.05, noiseLr: 5e5, opacityReg: 0.01, scaleReg: 0.01,
    refineStart: s.densifyFrom, refineStop: s.densifyUntil, refineEvery: s.densifyEvery,
  };
}

export class McmcStrategy implements DensifyStrategy {
  readonly name = 'mcmc';
  /** the regularisers and the noise act on CPU arrays every step */
  readonly residentCapable = false;
  constructor(readonly o: McmcStrategyOptions) {}

  private relocateDue(step: number): boolean {
    const o = this.o;
    return step >= o.refineStart && step <= o.refineStop && step % o.refineEvery === 0;
  }

  /** 0.01·mean(opacity) + 0.01·mean(scale), differentiated straight into the gradients. */
  stepPreOptimizer(state: DensifyState, g: RasterGradients): void {
    const p = state.params, n = p.count, o = this.o;
    for (let i = 0; i < n; i++) {
      const s = sigmoid(p.opacityLogits[i]!);
      g.opacityLogits[i]! += (o.opacityReg / n) * s * (1 - s);
      for (let a = 0; a < 3; a++) g.logScales[i * 3 + a]! += (o.scaleReg / (3 * n)) * Math.exp(p.logScales[i * 3 + a]!);
    }
  }

  accumulatesStats(): boolean {
    return false;
  }

  hostWorkDue(): boolean {
    return true;
  }

  stepPostOptimizer(state: DensifyState, c: StepContext): Densified | undefined {
    let out: Densified | undefined;
    if (this.relocateDue(c.step)) {
      const res = mcmcRelocateAndGrow(state.params, this.o.capMax, this.o.minOpacity, state.rng, this.o.growthRate);
      restructure(state, res);
      out = { cloned: res.cloned, split: 0, pruned: 0, relocated: res.relocated };
    }
    mcmcNoise(state.params, c.positionLr, state.rng, this.o.noiseLr);
    return out;
  }
}
