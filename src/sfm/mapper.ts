/**
 * Stage 4: incremental mapping, COLMAP-style. Start from the best-conditioned verified pair, then
 * repeatedly register the image that sees most existing points (PnP), extend and create tracks
 * (triangulation with angle, cheirality and reprojection checks), bundle-adjust locally after each
 * registration and globally now and then, and filter outlying observations. Intrinsics are refined
 * when they were not given: the focal during mapping, the principal point and distortion in the
 * final adjustments only where the views constrain them (selfcal.ts). A capture without parallax
 * (pure rotation, copies of one photo) is refused; a low-parallax one may use a lower minimum
 * triangulation angle (low-parallax.ts).
 *
 * This module is the incremental loop; the steps live beside it: map-state.ts (poses, points,
 * tracks), map-register.ts (initial pair, next image, PnP, triangulation), map-tracks.ts (track
 * completion and merging), map-adjust.ts (bundle adjustment, filtering), map-calibrate.ts (final
 * self-calibration), map-result.ts (the model).
 */
import { Progress } from '../util/progress.js';
import { lacksParallax, noParallaxReason } from './low-parallax.js';
import { adjust, filterPoints, neighbours } from './map-adjust.js';
import { calibrate } from './map-calibrate.js';
import { initialize, nextCandidates, register, triangulateImage } from './map-register.js';
import { mapperResult } from './map-result.js';
import { completeAndMergeTracks } from './map-tracks.js';
import { MapState } from './map-state.js';
import type { MapperInput, MapperOptions, MapperResult } from './mapper-options.js';

export { defaultMapperOptions, type CameraRefine, type MapperInput, type MapperOptions, type MapperResult } from './mapper-options.js';
/** re-exported for point-triangulator.ts (it now lives in geometry/triangulate.ts) */
export { maxAngleDeg } from '../geometry/triangulate.js';

/**
 * Whether the model has grown enough since the last global adjustment to adjust it all again:
 * by a quarter while small, then by 10 images, and from 100 images on by 10 % (COLMAP's
 * ba_global_images_ratio = 1.1). Geometric growth keeps the number of global adjustments ~log n
 * (a 500-image capture: 33 instead of 57, and their total size ~11 n instead of ~n²/20); the
 * local adjustment after every image keeps the model sound in between. Up to 100 images the
 * schedule is the one the mapper always had.
 */
function globalAdjustmentDue(registered: number, lastGlobal: number): boolean {
  return registered >= lastGlobal * 1.25 || (registered - lastGlobal >= 10 && registered >= lastGlobal * 1.1);
}

// Stopping tolerances (relative cost decrease of one LM step) of the adjustments. With the Cauchy
// loss the LM steps converge linearly: after the first few, each takes 0.01–0.1 % off the cost and
// moves the poses by far less than their error. Tolerances looser than the ones the mapper had
// (local 1e-3, global 1e-4, first final 1e-5, last two 1e-6) cut the LM iterations on issue 16's
// cached databases by 25–45 % (fountain-P11: local 80 → 48, global 61 → 22, final 50 → 33;
// moldGoldCape: local 446 → 324, global 150 → 98) with mean rotation errors unchanged within
// ±0.002° (fountain-P11, Herz-Jesu-P8, kitti_odom06, templeRing, moldGoldCape). When the
// intrinsics are refined, the first final adjustment (and self-calibration, map-calibrate.ts)
// keeps the tight tolerance: a weakly constrained focal (a forward-facing capture, bench/sfm.ts
// forward-synthetic) settles along a shallow valley there, and 3e-5 left it 2.9–3.2 % off instead
// of 2.3 %; the last two final adjustments made no difference.
const LOCAL_TOL = 3e-3;
const GLOBAL_TOL = 1e-3;
const finalTolerances = (selfCalibrating: boolean) => ({ first: selfCalibrating ? 1e-5 : 3e-5, last: 1e-5 });

function pointsSeenBy(s: MapState, img: number): number[] {
  const ids: number[] = [];
  for (const pid of s.pointOf[img]!) if (pid >= 0) ids.push(pid);
  return ids;
}

export class IncrementalMapper {
  private readonly s: MapState;

  constructor(input: MapperInput, private readonly opts: MapperOptions) {
    this.s = new MapState(input, opts);
  }

  run(): MapperResult {
    const s = this.s;
    const progress = new Progress('sfm: mapping', s.n, { silent: this.opts.silent });
    if (lacksParallax(s.parallax, this.opts.parallax, s.input.trustedFocal ?? !s.selfCalibrating())) return mapperResult(s, null, noParallaxReason(s.parallax));
    const init = initialize(s);
    if (!init) {
      return mapperResult(s, null, 'no initial pair: too few verified matches with enough parallax');
    }
    // images the model can reach (its connected group): once all are in, the final adjustment is the global one
    const reachable = s.componentSizes[s.component[init[0]]!]!;
    let registered = 2;
    let lastGlobal = 2;
    progress.update(registered, `initial pair ${s.input.feats[init[0]]!.name}–${s.input.feats[init[1]]!.name}, ${s.points.size} points`);
    const tried = new Set<number>();
    for (;;) {
      const cands = nextCandidates(s, tried);
      if (cands.length === 0) break;
      let ok = false;
      for (const { img } of cands.slice(0, 5)) {
        if (register(s, img)) {
          ok = true;
          registered++;
          triangulateImage(s, img);
          const local = [img, ...neighbours(s, img, this.opts.localBAImages)];
          // intermediate adjustments only need to keep the model sound: stop them early
          adjust(s, local, null, 15, LOCAL_TOL);
          // after the local adjustment, as COLMAP does: its points have moved to where they gather the most views
          if (this.opts.completeTracks) completeAndMergeTracks(s, pointsSeenBy(s, img));
          filterPoints(s, local);
          if (globalAdjustmentDue(registered, lastGlobal) && registered < reachable) {
            if (this.opts.completeTracks) completeAndMergeTracks(s, null);
            adjust(s, null, s.selfCalibrating() ? 'focal' : null, 30, GLOBAL_TOL);
            filterPoints(s, null);
            lastGlobal = registered;
          }
          tried.clear(); // new points may rescue earlier failures
          progress.update(registered, `${s.input.feats[img]!.name}: ${s.points.size} points`);
          break;
        }
        tried.add(img);
      }
      if (!ok && cands.length <= 5) break;
    }
    // final: retriangulate what the final poses allow, then adjust everything (with intrinsics)
    for (let img = 0; img < s.n; img++) if (s.isRegistered(img)) triangulateImage(s, img);
    if (this.opts.completeTracks) completeAndMergeTracks(s, null);
    const finalTol = finalTolerances(s.selfCalibrating());
    adjust(s, null, s.selfCalibrating() ? 'focal' : null, 50, finalTol.first);
    filterPoints(s, null);
    // from here on a tighter gate (MapperOptions.finalErrorFactor): the final poses reproject good
    // keypoints to a fraction of maxError, which had to allow for a model still growing; the
    // self-calibration then sees the clean observations only
    const tight = this.opts.finalErrorFactor * this.opts.maxError;
    filterPoints(s, null, tight);
    if (s.selfCalibrating()) calibrate(s);
    adjust(s, null, s.selfCalibrating() ? 'all' : null, 100, finalTol.last);
    filterPoints(s, null, tight);
    adjust(s, null, s.selfCalibrating() ? 'all' : null, 100, finalTol.last);
    filterPoints(s, null, tight);
    progress.finish(`${registered}/${s.n} registered, ${s.points.size} points`);
    return mapperResult(s, init, 'not connected to the reconstruction');
  }
}
