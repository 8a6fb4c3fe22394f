/**
 * Adjustment and filtering of the incremental model: bundle adjustment of some or all images (and
 * the points they see), the images that share most points with a new one (for a local adjustment),
 * and the filter that drops outlying observations and points left without enough views or angle.
 */
import { matToQuat, quatToMat } from '../geometry/rotation.js';
import { maxAngleDeg } from '../geometry/triangulate.js';
import { bundleAdjust, type BACamera, type BAImage, type BAObservation, type BAReport } from './bundle.js';
import type { MapState } from './map-state.js';

/**
 * Bundle-adjust images `free` (others that observe the points stay fixed) and the points they
 * see; `free === null` adjusts everything. `intrinsics`: 'focal' | 'all' | null.
 */
export function adjust(s: MapState, free: number[] | null, intrinsics: 'focal' | 'all' | null, maxIterations: number, functionTolerance = 1e-6, intrinsicStd = false): BAReport | null {
  const freeSet = free ? new Set(free) : null;
  const pointIds: number[] = [];
  if (freeSet) {
    const set = new Set<number>();
    for (const img of freeSet) for (const pid of s.pointOf[img]!) if (pid >= 0) set.add(pid);
    pointIds.push(...set);
  } else pointIds.push(...s.points.keys());
  if (pointIds.length === 0) return null;
  const imgIndex = new Map<number, number>();
  const images: BAImage[] = [];
  const camIndex = new Map<number, number>();
  const cameras: BACamera[] = [];
  const observations: BAObservation[] = [];
  const points = new Float64Array(pointIds.length * 3);
  const imageOf = (img: number): number => {
    let k = imgIndex.get(img);
    if (k === undefined) {
      const c = s.input.imageCamera[img]!;
      let ci = camIndex.get(c);
      if (ci === undefined) {
        ci = cameras.length;
        camIndex.set(c, ci);
        const cam = s.input.cameras[c]!, ref = intrinsics === 'all' ? s.calib[c]! : s.input.refine[c]!;
        cameras.push({
          model: cam.model, params: Float64Array.from(cam.params),
          refineFocal: intrinsics !== null && ref.focal,
          refinePrincipalPoint: intrinsics === 'all' && ref.principalPoint,
          refineDistortion: intrinsics === 'all' && ref.distortion,
        });
      }
      k = images.length;
      imgIndex.set(img, k);
      const fixed = freeSet ? !freeSet.has(img) || img === s.gauge[0] : img === s.gauge[0];
      images.push({ camera: ci, q: Float64Array.from(matToQuat(s.R[img]!)), t: Float64Array.from(s.t[img]!), fixed, fixTranslationScale: img === s.gauge[1] && !fixed });
    }
    return k;
  };
  const { exponent, maxRatio } = s.opts.keypointScaleWeight;
  const sizes: number[] = []; // keypoint size of each observation, when weighting by it
  for (let pi = 0; pi < pointIds.length; pi++) {
    const p = s.points.get(pointIds[pi]!)!;
    points.set(p.X, pi * 3);
    for (const [img, f] of p.obs) {
      const [x, y] = s.kp(img, f);
      observations.push({ image: imageOf(img), point: pi, x, y });
      if (exponent > 0) sizes.push(s.input.feats[img]!.kp[4 * f + 2]!);
    }
  }
  const w = exponent > 0 ? scaleWeights(sizes, exponent, maxRatio) : null;
  if (w) observations.forEach((ob, o) => { ob.weight = w[o]!; });
  // a local problem whose fixed images do not pin the gauge (early on): fix the first free one too
  if (!images.some((im) => im.fixed)) images[0]!.fixed = true;
  const report = bundleAdjust({ cameras, images, points, observations }, { maxIterations, loss: 'cauchy', lossScale: 1, functionTolerance, intrinsicStd });
  if (intrinsicStd) {
    for (const [c, ci] of camIndex) s.lastStd.set(c, report.intrinsicStd![ci]!);
  }
  for (const [img, k] of imgIndex) {
    if (images[k]!.fixed) continue;
    s.R[img] = quatToMat(Array.from(images[k]!.q));
    s.t[img] = Array.from(images[k]!.t);
  }
  for (const [c, ci] of camIndex) s.input.cameras[c]!.params = Array.from(cameras[ci]!.params);
  for (let pi = 0; pi < pointIds.length; pi++) {
    const p = s.points.get(pointIds[pi]!)!;
    p.X = [points[pi * 3]!, points[pi * 3 + 1]!, points[pi * 3 + 2]!];
  }
  return report;
}

/**
 * BA weights 1/σ² with σ ∝ keypoint size^exponent (a coarse-scale keypoint is localised less
 * precisely), relative to the median observation's size: that one weighs 1, so the 1 px robust loss
 * scale keeps its meaning for a typical keypoint (the filters' gates are in pixels regardless).
 * σ ratios are clamped to [1/maxRatio, maxRatio] so that no scale dominates or vanishes. Null when
 * the features carry no sizes (0: e.g. keypoints from elsewhere); a missing size counts as the median.
 */
function scaleWeights(sizes: number[], exponent: number, maxRatio: number): Float64Array | null {
  const sorted = Float64Array.from(sizes).sort();
  const ref = sorted[sorted.length >> 1]!;
  if (!(ref > 0 && ref < Infinity)) return null;
  return Float64Array.from(sizes, (sz) => {
    const ratio = sz > 0 && sz < Infinity ? Math.min(Math.max((sz / ref) ** exponent, 1 / maxRatio), maxRatio) : 1;
    return 1 / (ratio * ratio);
  });
}

/** Drop observations over the threshold (default: maxError) and points left with < 2 views or too small an angle. */
export function filterPoints(s: MapState, imgs: number[] | null, maxError = s.opts.maxError): number {
  let removed = 0;
  const ids = new Set<number>();
  if (imgs) { for (const img of imgs) for (const pid of s.pointOf[img]!) if (pid >= 0) ids.add(pid); }
  else for (const id of s.points.keys()) ids.add(id);
  for (const id of ids) {
    const p = s.points.get(id)!;
    const keep = p.obs.filter(([img, f]) => {
      const ok = s.reprojError(img, f, p.X) <= maxError;
      if (!ok) { s.pointOf[img]![f] = -1; removed++; }
      return ok;
    });
    p.obs = keep;
    if (keep.length < 2 || maxAngleDeg(keep.map(([img]) => s.center(img)), p.X) < s.minTri) {
      s.deletePoint(id);
    }
  }
  return removed;
}

/** Images sharing most points with img (for local BA). */
export function neighbours(s: MapState, img: number, k: number): number[] {
  const count = new Map<number, number>();
  for (const pid of s.pointOf[img]!) {
    if (pid < 0) continue;
    for (const [j] of s.points.get(pid)!.obs) if (j !== img) count.set(j, (count.get(j) ?? 0) + 1);
  }
  return [...count.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([j]) => j);
}
