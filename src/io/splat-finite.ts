/**
 * Splat files with NaN/±Inf values (a diverged training run, a broken exporter): one such splat
 * poisons bounds, sorting and every viewer, so the readers (ply.ts, spz.ts) drop them, saying how
 * many and where the first was; a file with no finite splat at all is an error.
 */
import type { GaussianParams } from '../core/gaussians.js';
import { SH_COEFFS } from '../core/gaussians.js';
import { UserError } from '../util/errors.js';
import { warn } from '../util/log.js';

const GROUPS = [['means', 3], ['logScales', 3], ['quats', 4], ['opacityLogits', 1], ['sh', SH_COEFFS * 3]] as const;

/** Per splat: 1 when any of its values is NaN or ±Inf. */
function nonFiniteRows(p: GaussianParams): { bad: Uint8Array; count: number; first: number } {
  const bad = new Uint8Array(p.count);
  for (const [k, r] of GROUPS) {
    const a = p[k];
    for (let i = 0; i < p.count * r; i++) if (!Number.isFinite(a[i]!)) bad[Math.floor(i / r)] = 1;
  }
  let count = 0, first = -1;
  for (let i = 0; i < p.count; i++) if (bad[i]) { count++; if (first < 0) first = i; }
  return { bad, count, first };
}

/** The splats without the non-finite ones (a warning names the count and first index); throws when none is left. */
export function dropNonFiniteSplats(p: GaussianParams, file: string): GaussianParams {
  const { bad, count, first } = nonFiniteRows(p);
  if (count === 0) return p;
  if (count === p.count) {
    throw new UserError(`${file}: all ${count} splats have NaN/Inf values`, { file, fix: 'the scene is unusable; retrain it (e.g. with a lower learning rate) or export it again' });
  }
  warn(`${file}: ${count} of ${p.count} splats have NaN/Inf values (first: #${first}); dropped them`);
  const n = p.count - count;
  const out = { count: n } as GaussianParams;
  for (const [k, r] of GROUPS) {
    const src = p[k], dst = new Float32Array(n * r);
    for (let i = 0, j = 0; i < p.count; i++) if (!bad[i]) dst.set(src.subarray(i * r, i * r + r), r * j++);
    out[k] = dst;
  }
  return out;
}
