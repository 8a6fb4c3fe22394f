/**
 * Non-finite Gaussians: a diverged optimisation (too high a learning rate, a degenerate camera)
 * turns parameters into NaN/±Inf, and one such splat poisons every file and viewer downstream.
 * Training checks before every checkpoint and before writing splats.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { PARAM_GROUP_TABLE } from './param-groups.js';

export interface NonFinite {
  /** Gaussians with at least one non-finite value */
  count: number;
  /** first such Gaussian and the group it was found in */
  first: number;
  group: string;
}

export function findNonFinite(p: GaussianParams): NonFinite | null {
  const bad = new Uint8Array(p.count);
  let count = 0, first = -1, group = '';
  for (const g of PARAM_GROUP_TABLE) {
    const a = p[g.name], r = g.row;
    for (let i = 0; i < p.count * r; i++) {
      if (Number.isFinite(a[i]!)) continue;
      const row = Math.floor(i / r);
      if (!bad[row]) { bad[row] = 1; count++; }
      if (first < 0 || row < first) { first = row; group = g.name; }
      i = (row + 1) * r - 1; // next row
    }
  }
  return count > 0 ? { count, first, group } : null;
}
