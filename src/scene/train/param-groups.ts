/**
 * The ONE table of optimised parameter groups: name, floats per Gaussian, initial learning rate,
 * per-column lr multipliers and what densification / an opacity reset does to the group's rows.
 * The trainer (Adam set-up, steps), the GPU-resident state (buffers, Adam kernels) and the
 * checkpoints (array names) all iterate this table, so adding a group is one edit here.
 */
import { SH_COEFFS } from '../../core/gaussians.js';
import { Adam } from './adam.js';
import type { LearningRates } from './schedule.js';

export type ParamGroup = 'means' | 'logScales' | 'quats' | 'opacityLogits' | 'sh';

export interface ParamGroupSpec {
  name: ParamGroup;
  /** floats per Gaussian (GaussianParams layout) */
  row: number;
  /** initial learning rate; `extent` is the scene extent (positions are scaled by it, as 3DGS) */
  lr(L: LearningRates, extent: number): number;
  /** per-column lr multiplier within a row, or null (SH: higher bands at shDc / shRestDivisor) */
  colScale(L: LearningRates): Float32Array | null;
  /** position lr follows the exponential schedule; frozen during the camera warm-up */
  positional: boolean;
  /** an opacity reset rewrites this group's rows and zeroes their moments (3DGS) */
  resetWithOpacity: boolean;
}

/**
 * Densification remaps every group the same way: parameters are gathered row by row
 * (gatherGaussians / splitSamples), Adam moments follow `momentSrc` (−1: fresh zeros).
 */
export const PARAM_GROUP_TABLE: readonly ParamGroupSpec[] = [
  { name: 'means', row: 3, lr: (L, e) => L.positionInit * e, colScale: () => null, positional: true, resetWithOpacity: false },
  { name: 'logScales', row: 3, lr: (L) => L.scale, colScale: () => null, positional: false, resetWithOpacity: false },
  { name: 'quats', row: 4, lr: (L) => L.rotation, colScale: () => null, positional: false, resetWithOpacity: false },
  { name: 'opacityLogits', row: 1, lr: (L) => L.opacity, colScale: () => null, positional: false, resetWithOpacity: true },
  {
    name: 'sh', row: SH_COEFFS * 3, lr: (L) => L.shDc,
    colScale: (L) => new Float32Array(SH_COEFFS * 3).map((_, c) => (c < 3 ? 1 : 1 / L.shRestDivisor)),
    positional: false, resetWithOpacity: false,
  },
];

export const PARAM_GROUPS: readonly ParamGroup[] = PARAM_GROUP_TABLE.map((g) => g.name);
/** floats per Gaussian in each group */
export const PARAM_ROW: Readonly<Record<ParamGroup, number>> = Object.fromEntries(PARAM_GROUP_TABLE.map((g) => [g.name, g.row])) as Record<ParamGroup, number>;

export type AdamGroups = Record<ParamGroup, Adam>;

/** One Adam per group for `count` Gaussians, with the table's learning rates. */
export function createAdamGroups(count: number, L: LearningRates, extent: number): AdamGroups {
  const out = {} as AdamGroups;
  for (const g of PARAM_GROUP_TABLE) {
    out[g.name] = new Adam(count * g.row, g.row, g.lr(L, extent));
    const cs = g.colScale(L);
    if (cs) out[g.name].colScale = cs;
  }
  return out;
}
