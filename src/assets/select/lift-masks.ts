/**
 * `--masks`: lift 2D object masks of some views to the Gaussians in closed form (FlashSplat 2024
 * style, one pass, no retraining). Per Gaussian, its alpha-blending weight αT is summed inside
 * and outside the masks over all masked views; a Gaussian belongs to the object when
 *   inside / (inside + outside) > threshold.
 * Gaussians the masked views never see (weight below `minWeight`) take the weighted vote of the
 * seen Gaussians within a radius (the back of an object seen from one side stays with it), or
 * are dropped when nothing seen is near.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { defaultRasterOptions, type RasterCamera, type RasterOptions } from '../../core/raster.js';
import type { GpuMaskWeights } from '../../gpu/assets/mask-weights.js';
import { forEachPair, medianSpacing } from './components.js';
import { robustExtent } from './frame.js';
import { maskWeightsReference } from './mask-weights-reference.js';

export interface MaskView {
  name: string;
  camera: RasterCamera;
  /** H×W (the camera's size), 1 = object, values in [0, 1] */
  mask: ArrayLike<number>;
}

export interface LiftOptions {
  /** object when inside/(inside+outside) exceeds this. Default 0.5 */
  threshold: number;
  /** total weight (pixels) below which a Gaussian counts as unseen. Default 0.05 */
  minWeight: number;
  /** unseen Gaussians: 'vote' (neighbours decide) or 'drop'. Default 'vote' */
  unseen: 'vote' | 'drop';
  /** vote radius; default 3 × the median spacing of the Gaussians, at most 0.02 × the scene extent */
  voteRadius?: number;
  /** rasterizer options the scene was trained with (antialiased matters). Default defaultRasterOptions */
  raster: RasterOptions;
  /** GPU weights; default: the CPU reference (fine for small scenes and tests) */
  gpu?: GpuMaskWeights;
}

export const defaultLiftOptions: LiftOptions = { threshold: 0.5, minWeight: 0.05, unseen: 'vote', raster: defaultRasterOptions };

export interface LiftResult {
  /** Gaussians labelled object, ascending */
  indices: Int32Array;
  /** per Gaussian inside/(inside+outside); NaN where unseen (then the vote's object share) */
  confidence: Float32Array;
  inside: Float64Array;
  outside: Float64Array;
  /** how many Gaussians the masked views saw */
  seen: number;
  /** how many unseen Gaussians the neighbour vote labelled object */
  voted: number;
}

export async function liftMasks(params: GaussianParams, views: MaskView[], partial: Partial<LiftOptions> = {}): Promise<LiftResult> {
  const o = { ...defaultLiftOptions, ...partial };
  const N = params.count;
  const inside = new Float64Array(N), outside = new Float64Array(N);
  if (o.gpu) {
    o.gpu.setScene(params);
    for (const v of views) await o.gpu.addView(v.camera, v.mask, o.raster);
    const w = await o.gpu.read();
    inside.set(w.inside);
    outside.set(w.outside);
  } else {
    for (const v of views) {
      const w = maskWeightsReference(params, v.camera, v.mask, o.raster);
      for (let i = 0; i < N; i++) { inside[i]! += w.inside[i]!; outside[i]! += w.outside[i]!; }
    }
  }
  const confidence = new Float32Array(N).fill(NaN);
  const isObj = new Uint8Array(N);
  const seenIdx: number[] = [], unseenIdx: number[] = [];
  for (let i = 0; i < N; i++) {
    const tot = inside[i]! + outside[i]!;
    if (tot >= o.minWeight) {
      confidence[i] = inside[i]! / tot;
      isObj[i] = confidence[i]! > o.threshold ? 1 : 0;
      seenIdx.push(i);
    } else unseenIdx.push(i);
  }
  let voted = 0;
  if (o.unseen === 'vote' && unseenIdx.length && seenIdx.length) voted = vote(params, seenIdx, unseenIdx, isObj, confidence, inside, outside, o);
  const indices: number[] = [];
  for (let i = 0; i < N; i++) if (isObj[i]) indices.push(i);
  return { indices: Int32Array.from(indices), confidence, inside, outside, seen: seenIdx.length, voted };
}

/**
 * Unseen Gaussians take the majority of the labelled ones within the vote radius, seen ones
 * weighted by their total weight; repeated so labels flood through unseen regions (the far side
 * of an object), each pass voting with what earlier passes decided (weight 1 per Gaussian).
 */
function vote(params: GaussianParams, seen: number[], unseen: number[], isObj: Uint8Array, conf: Float32Array, inside: Float64Array, outside: Float64Array, o: LiftOptions): number {
  const xyz = params.means;
  const all = Array.from({ length: params.count }, (_, i) => i);
  const ext = robustExtent(xyz);
  const r = o.voteRadius ?? Math.min(0.02 * ext, 3 * medianSpacing({ xyz, idx: all }, 0.02 * ext));
  // voter weight per Gaussian: total seen weight (capped at 1 so one bright splat cannot outvote a ring), 0 = undecided
  const wt = new Float64Array(params.count);
  for (const j of seen) wt[j] = Math.min(1, inside[j]! + outside[j]!);
  // pairs among all Gaussians near an unseen one, computed once
  const idx = unseen.concat(seen);
  const nU = unseen.length;
  const pairs: number[] = [];
  forEachPair({ xyz, idx }, r, (k, m) => {
    if (k < nU) pairs.push(k, m);
  });
  let n = 0;
  for (let pass = 0; pass < 64; pass++) {
    const yes = new Float64Array(nU), tot = new Float64Array(nU);
    for (let q = 0; q < pairs.length; q += 2) {
      const k = pairs[q]!, m = pairs[q + 1]!;
      const a = idx[k]!, b = idx[m]!;
      // both directions: an unseen–unseen pair lets either inform the other
      if (wt[b]! > 0) { tot[k]! += wt[b]!; if (isObj[b]) yes[k]! += wt[b]!; }
      if (m < nU && wt[a]! > 0) { tot[m]! += wt[a]!; if (isObj[a]) yes[m]! += wt[a]!; }
    }
    let changed = 0;
    for (let k = 0; k < nU; k++) {
      const i = unseen[k]!;
      if (wt[i]! > 0 || tot[k]! <= 0) continue;
      conf[i] = yes[k]! / tot[k]!;
      wt[i] = 1;
      if (conf[i]! > o.threshold) { isObj[i] = 1; n++; }
      changed++;
    }
    if (changed === 0) break;
  }
  return n;
}
