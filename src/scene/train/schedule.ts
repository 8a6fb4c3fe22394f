/**
 * Learning rates and step schedules. The 3DGS defaults are given for 30k steps; `--iterations N`
 * scales every step-based schedule by N/30000 so a short run still densifies, resets opacity and
 * raises the SH degree in the same proportions.
 */

export const REFERENCE_ITERATIONS = 30_000;

export interface LearningRates {
  /** position lr at the first and last step, before × scene extent */
  positionInit: number;
  positionFinal: number;
  shDc: number;
  /** higher SH bands use shDc / shRestDivisor */
  shRestDivisor: number;
  opacity: number;
  scale: number;
  rotation: number;
}

export const defaultLearningRates: LearningRates = {
  positionInit: 1.6e-4,
  positionFinal: 1.6e-6,
  shDc: 0.0025,
  shRestDivisor: 20,
  opacity: 0.05,
  scale: 0.005,
  rotation: 0.001,
};

/** Log-linear interpolation from `init` to `final` over `maxSteps` (3DGS's expon_lr_func, no delay). */
export function expLr(step: number, init: number, final: number, maxSteps: number): number {
  const t = Math.min(1, Math.max(0, step / Math.max(1, maxSteps)));
  return Math.exp(Math.log(init) * (1 - t) + Math.log(final) * t);
}

export interface StepSchedule {
  iterations: number;
  densifyFrom: number;
  densifyUntil: number;
  densifyEvery: number;
  /** 0 = never */
  opacityResetEvery: number;
  shUpEvery: number;
}

export function scaledSchedule(iterations: number): StepSchedule {
  const s = Math.min(1, iterations / REFERENCE_ITERATIONS);
  // Short runs: refine at most every 50 steps and not before the scene has had 2 rounds' worth
  // of fitting. The gradient threshold is an average over the steps since the last refinement;
  // over 10 steps it is crossed by most Gaussians, and the count then doubled every round
  // (measured on llff_fern, 2000 steps: 11k → 280k Gaussians by step 200, PSNR falling).
  const densifyEvery = Math.max(50, Math.round(100 * s));
  const reset = Math.round(3000 * s);
  const densifyFrom = Math.max(2 * densifyEvery, Math.round(500 * s));
  return {
    iterations,
    densifyFrom,
    densifyUntil: Math.max(densifyFrom, Math.round(15_000 * s)),
    densifyEvery,
    // A reset needs time to recover; in very short runs it only costs quality.
    opacityResetEvery: reset >= 10 * densifyEvery ? reset : 0,
    shUpEvery: Math.max(1, Math.round(1000 * s)),
  };
}

/** SH degree in use at `step`, raised by one every shUpEvery steps up to maxDegree. */
export function shDegreeAt(step: number, s: StepSchedule, maxDegree: number): number {
  return Math.min(maxDegree, Math.floor(step / s.shUpEvery));
}
