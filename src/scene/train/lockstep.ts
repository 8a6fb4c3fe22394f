/**
 * The lockstep check of the GPU-resident step against the CPU-array step (issue 22: on an NVIDIA
 * H200 the resident loss stayed at its first value while the CPU-array path learned). Both paths
 * take one step from the same state — the resident trainer's, synced and serialized; the
 * CPU-array side is a shadow trainer restored from those bytes (Trainer.lockstepStep) — and the
 * results are compared stage by stage in pipeline order, so the first stage past its tolerance
 * names where the resident step parted:
 *   loss value → ∂loss/∂prediction (forward, photometric forward, loss gradient) → Gaussian count
 *   (densification) → parameters per group (backward + Adam) → Adam moments → photometric model.
 * Errors are max |resident − cpu| / max |cpu| per array (NaN counts as infinitely wrong). A
 * parameter is compared only where both paths' Adam first moments agree to 10 %: where a gradient
 * is rounding noise (the rotation of a still-isotropic Gaussian, a Gaussian just added by
 * densification) Adam's first steps are ±lr in the noise's sign on either path, so both are right;
 * the moments themselves are always compared in full, so a check at the very first steps from
 * an isotropic initialisation (where the whole rotation gradient is noise) is not meaningful.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { PARAM_GROUPS, type ParamGroup } from './param-groups.js';

export interface LockstepTolerance {
  /** the step's loss value (f32 GPU sums vs f64) */
  loss: number;
  /** ∂loss/∂prediction over the image */
  lossGradient: number;
  /** each parameter group after the step */
  params: number;
  /** Adam's first and second moments of each group */
  moments: number;
  /** the photometric model's parameters after the step */
  photometric: number;
}

/** Measured on lavapipe and SwiftShader (test/train-lockstep.test.ts): the largest errors are ~1e-5. */
export const LOCKSTEP_TOLERANCE: LockstepTolerance = { loss: 1e-4, lossGradient: 1e-3, params: 1e-3, moments: 1e-3, photometric: 1e-3 };

/** One path's state right after the step. */
export interface LockstepSide {
  loss: number;
  lossGradient: Float32Array;
  params: GaussianParams;
  moments: Record<ParamGroup, { m: Float32Array; v: Float32Array }>;
  /** ev, wb, vignetting and response of the photometric model, concatenated (null without one) */
  photometric: Float32Array | null;
}

export interface LockstepStage {
  stage: string;
  error: number;
  tolerance: number;
}

export interface LockstepReport {
  /** steps completed after the checked step */
  step: number;
  view: string;
  stages: LockstepStage[];
  /** the first stage past its tolerance, with its error; null when every stage agrees */
  disagree: string | null;
}

/** max |a − b| / max |b| over the first n values; NaN or a length mismatch is Infinity. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>, n = b.length): number {
  if (a.length < n || b.length < n) return Infinity;
  let m = 0, s = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
    s = Math.max(s, Math.abs(b[i]!));
  }
  return m === 0 ? 0 : m / (s + 1e-30);
}

/**
 * relativeError of the parameters over the elements whose first moments agree to 10 % (see the
 * header); any non-finite resident parameter is Infinity.
 */
export function conditionedError(a: ArrayLike<number>, b: ArrayLike<number>, mA: ArrayLike<number>, mB: ArrayLike<number>): number {
  if (a.length < b.length) return Infinity;
  let m = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    if (!Number.isFinite(a[i]!)) return Infinity;
    s = Math.max(s, Math.abs(b[i]!));
    const dm = Math.abs(mA[i]! - mB[i]!);
    if (!(dm <= 0.1 * Math.abs(mB[i]!))) continue;
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
  }
  return m === 0 ? 0 : m / (s + 1e-30);
}

export function compareLockstep(step: number, view: string, res: LockstepSide, cpu: LockstepSide, tol: LockstepTolerance): LockstepReport {
  const stages: LockstepStage[] = [];
  const add = (stage: string, error: number, tolerance: number) => stages.push({ stage, error, tolerance });
  add('loss', Math.abs(res.loss - cpu.loss) / Math.max(Math.abs(cpu.loss), 1e-30) || (res.loss === cpu.loss ? 0 : Infinity), tol.loss);
  add('loss gradient', relativeError(res.lossGradient, cpu.lossGradient), tol.lossGradient);
  const n = cpu.params.count;
  add('densification (Gaussian count)', res.params.count === n ? 0 : Infinity, 0);
  if (res.params.count === n) {
    for (const k of PARAM_GROUPS) add(`parameters: ${k}`, conditionedError(res.params[k], cpu.params[k], res.moments[k].m, cpu.moments[k].m), tol.params);
    for (const k of PARAM_GROUPS) {
      add(`Adam moments: ${k}`, Math.max(relativeError(res.moments[k].m, cpu.moments[k].m), relativeError(res.moments[k].v, cpu.moments[k].v)), tol.moments);
    }
  }
  if (cpu.photometric || res.photometric) {
    add('photometric model', res.photometric && cpu.photometric ? relativeError(res.photometric, cpu.photometric) : Infinity, tol.photometric);
  }
  const bad = stages.find((s) => !(s.error <= s.tolerance));
  return { step, view, stages, disagree: bad ? `${bad.stage} (error ${bad.error.toExponential(2)}, tolerance ${bad.tolerance})` : null };
}
