/**
 * Cleaning a cut: drop the floaters a selection drags along.
 *  - faint: opacity below `minOpacity` (contributes nothing visible, clutters the mesh);
 *  - oversized: a largest scale above `maxScaleFraction` × the cut's robust extent (blurry
 *    background splats a box or a mask catches);
 *  - isolated: radius-graph components of the cut whose opacity mass is below `minPartFraction`
 *    of the largest component's (specks detached from the object).
 * The link radius starts at a few times the median spacing and grows until one component holds
 * most of the mass: a sparsely trained object (few, small splats with gaps between them) would
 * otherwise fall apart into dozens of fragments at the percolation threshold, each "isolated"
 * next to the largest one (templeRing after a short training lost 16k of 26k Gaussians that way).
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
  /** link radius of the components; default: adaptive, from 3 × the cut's median spacing (at least
   * 0.005 × its extent) growing ×1.5 until the largest component holds `minLargestShare` of the
   * opacity mass, at most 0.05 × the extent */
  linkRadius?: number;
  /** share of the cut's opacity mass the largest component must hold before the link radius stops growing. Default 0.6 */
  minLargestShare: number;
}

export const defaultCleanOptions: CleanOptions = { minOpacity: 0.02, maxScaleFraction: 0.25, minPartFraction: 0.05, minLargestShare: 0.6 };

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
  const rMax = 0.05 * ext;
  let r = o.linkRadius ?? Math.min(rMax, Math.max(0.005 * ext, 3 * medianSpacing({ xyz, idx: stage1 }, rMax)));
  let parts = massByComponent(params, stage1, r);
  while (o.linkRadius === undefined && parts.largest < o.minLargestShare * parts.total && r < rMax) {
    r = Math.min(rMax, r * 1.5);
    parts = massByComponent(params, stage1, r);
  }
  const { labels, mass, largest: maxMass } = parts;
  const kept: number[] = [];
  stage1.forEach((i, k) => {
    if (mass[labels[k]!]! >= o.minPartFraction * maxMass) kept.push(i);
    else removed.isolated++;
  });
  return { indices: Int32Array.from(kept).sort(), removed, linkRadius: r };
}

/** Radius-graph components of `idx` and the opacity mass of each (total and largest too). */
function massByComponent(params: GaussianParams, idx: number[], r: number): { labels: Int32Array; mass: Float64Array; largest: number; total: number } {
  const { labels, count } = radiusComponents({ xyz: params.means, idx }, r);
  const mass = new Float64Array(count);
  idx.forEach((i, k) => (mass[labels[k]!]! += sigmoid(params.opacityLogits[i]!)));
  let largest = 0, total = 0;
  for (const m of mass) { total += m; largest = Math.max(largest, m); }
  return { labels, mass, largest, total };
}
