/**
 * Cleaning a cut: drop the floaters a selection drags along.
 *  - faint: opacity below `minOpacity` (contributes nothing visible, clutters the mesh);
 *  - oversized: a largest scale above `maxScaleFraction` × the cut's robust extent (blurry
 *    background splats a box or a mask catches);
 *  - isolated: radius-graph components of the cut whose opacity mass is below `minPartFraction`
 *    of the largest component's (specks detached from the object).
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { sigmoid } from '../../scene/gaussians.js';
import { medianSpacing, radiusComponents } from './components.js';
import { robustExtent } from './frame.js';

export interface CleanOptions {
  /** drop Gaussians fainter than this. Default 0.02 */
  minOpacity: number;
  /** drop Gaussians whose largest std-dev exceeds this fraction of the cut's extent. Default 0.25 */
  maxScaleFraction: number;
  /** keep components with at least this fraction of the largest one's opacity mass. Default 0.05 */
  minPartFraction: number;
  /** link radius of the components; default 3 × the cut's median spacing, within [0.005, 0.05] × its extent */
  linkRadius?: number;
}

export const defaultCleanOptions: CleanOptions = { minOpacity: 0.02, maxScaleFraction: 0.25, minPartFraction: 0.05 };

export interface CleanResult {
  /** kept Gaussians, ascending */
  indices: Int32Array;
  removed: { faint: number; oversized: number; isolated: number };
  linkRadius: number;
}

export function cleanCut(params: GaussianParams, indices: ArrayLike<number>, partial: Partial<CleanOptions> = {}): CleanResult {
  const o = { ...defaultCleanOptions, ...partial };
  const xyz = params.means;
  const removed = { faint: 0, oversized: 0, isolated: 0 };
  const ext = indices.length ? robustExtent(xyz, indices) : 0;
  const stage1: number[] = [];
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (sigmoid(params.opacityLogits[i]!) < o.minOpacity) { removed.faint++; continue; }
    const s = Math.exp(Math.max(params.logScales[3 * i]!, params.logScales[3 * i + 1]!, params.logScales[3 * i + 2]!));
    if (ext > 0 && s > o.maxScaleFraction * ext) { removed.oversized++; continue; }
    stage1.push(i);
  }
  if (stage1.length < 2 || !(ext > 0)) return { indices: Int32Array.from(stage1).sort(), removed, linkRadius: 0 };
  const r = o.linkRadius ?? Math.min(0.05 * ext, Math.max(0.005 * ext, 3 * medianSpacing({ xyz, idx: stage1 }, 0.05 * ext)));
  const { labels, count } = radiusComponents({ xyz, idx: stage1 }, r);
  const mass = new Float64Array(count);
  stage1.forEach((i, k) => (mass[labels[k]!]! += sigmoid(params.opacityLogits[i]!)));
  const maxMass = Math.max(...mass);
  const kept: number[] = [];
  stage1.forEach((i, k) => {
    if (mass[labels[k]!]! >= o.minPartFraction * maxMass) kept.push(i);
    else removed.isolated++;
  });
  return { indices: Int32Array.from(kept).sort(), removed, linkRadius: r };
}
