/**
 * Final self-calibration of the incremental model: measure how well the views constrain each
 * camera's principal point and distortion (information of a zero-step adjustment with all of them
 * free), refine only those that are well constrained, keep a refined principal point only when it
 * explains the pixels noticeably better than the centre, and undo the refinement when it ends
 * implausible (far-off principal point, strong distortion, a jump of the focal). Then profile the
 * focal: re-adjust the model with the focal fixed a step either side; when the cost barely changes
 * the views do not constrain it, the reported std says so, and a measured (EXIF) prior the views
 * cannot tell apart stands instead of the refined value. See selfcal.ts.
 */
import { adjust, filterPoints } from './map-adjust.js';
import type { MapState } from './map-state.js';
import { focalProfile } from './map-focal-profile.js';
import { decideRefinement, implausibility, summariseStd, type SelfCalOptions } from './selfcal.js';
import { intrinsicIndices } from '../geometry/camera-model.js';

export function calibrate(s: MapState): void {
  const o = s.opts.selfCal;
  adjust(s, null, 'all', 0, 1e-6, true);
  const cams = s.input.cameras;
  const notes = new Map<number, string[]>();
  for (let c = 0; c < cams.length; c++) {
    const want = s.input.refine[c]!;
    // without a measure of the constraint (no points seen by the camera), refine the focal only
    s.calib[c] = { focal: want.focal, principalPoint: false, distortion: false };
    const std = s.lastStd.get(c);
    if (!std) continue;
    const d = decideRefinement(cams[c]!, summariseStd(cams[c]!, std), want, o);
    s.calib[c] = { focal: want.focal, principalPoint: d.principalPoint, distortion: d.distortion };
    notes.set(c, d.notes);
  }
  const before = cams.map((k) => ({ ...k, params: k.params.slice() }));
  let snap = s.snapshot();
  // (at adjust's default tolerance: a looser one leaves a weakly constrained focal unsettled,
  // see the final tolerances in mapper.ts)
  const refined = adjust(s, null, 'all', 50);
  // a principal point the views constrain may still explain nothing: keep the simpler model
  // (centred, as COLMAP does) unless refining it lowers the reprojection cost noticeably
  const ppFree = [...notes.keys()].filter((c) => s.calib[c]!.principalPoint);
  if (ppFree.length > 0 && refined) {
    const refinedState = s.snapshot(), refinedCams = cams.map((k) => ({ ...k, params: k.params.slice() }));
    s.restore(snap, before);
    snap = s.snapshot(); // restore hands the snapshot's objects to the live model: keep a pristine copy
    for (const c of ppFree) s.calib[c] = { ...s.calib[c]!, principalPoint: false };
    const centred = adjust(s, null, 'all', 50);
    const gain = centred ? centred.finalCost / refined.finalCost - 1 : Infinity;
    if (gain >= o.minPrincipalPointGain) {
      s.restore(refinedState, refinedCams);
      for (const c of ppFree) s.calib[c] = { ...s.calib[c]!, principalPoint: true };
      for (const c of ppFree) notes.get(c)!.push(`principal point refined: it lowers the reprojection cost by ${fmtPct(gain)} %`);
    } else {
      for (const c of ppFree) notes.get(c)!.push(`principal point kept at the centre: refining it lowers the reprojection cost by only ${fmtPct(gain)} % (needs ${fmtPct(o.minPrincipalPointGain)} %)`);
    }
  }
  filterPoints(s, null);
  let undone = false;
  for (let c = 0; c < cams.length; c++) {
    const cal = s.calib[c]!;
    if (!notes.has(c) || !(cal.principalPoint || cal.distortion)) continue;
    const why = implausibility(before[c]!, cams[c]!, o);
    if (!why) continue;
    notes.get(c)!.push(`principal point and distortion refinement undone: ${why}`);
    s.calib[c] = { focal: cal.focal, principalPoint: false, distortion: false };
    undone = true;
  }
  if (undone) {
    s.restore(snap, before);
    adjust(s, null, 'all', 50);
    filterPoints(s, null);
  }
  // how far the focal is pinned down: the reprojection cost re-adjusted at focals around it
  const profileStd = new Map<number, number>();
  for (const [c, list] of notes) {
    if (!s.calib[c]!.focal) continue;
    const fx = intrinsicIndices(cams[c]!.model).fx, f0 = cams[c]!.params[fx]!;
    const pr = focalConstraint(s, c, o);
    if (!pr) continue;
    profileStd.set(c, pr.stdPx);
    if (!pr.flat) continue;
    const prior = s.priorFocal[c]!;
    // a measured prior (EXIF, a user's value) stands when the views do not pull the focal away from it
    const keepPrior = s.input.trustedFocal === true && Math.abs(prior / f0 - 1) > 1e-3 && prior / f0 < 2 && f0 / prior < 2;
    const range = `${fmtPx(f0 * Math.exp(-o.focalProfileStep))}–${fmtPx(f0 * Math.exp(o.focalProfileStep))} px`;
    if (keepPrior) {
      const costBefore = adjust(s, null, 'all', 0);
      // the principal point and distortion were decided with the other focal: back to where they started, fixed
      const p = before[c]!.params.slice();
      const ix = intrinsicIndices(cams[c]!.model);
      if (ix.fy !== ix.fx) p[ix.fy] = (p[ix.fy]! * prior) / p[fx]!;
      p[fx] = prior;
      cams[c]!.params = p;
      s.calib[c] = { focal: false, principalPoint: false, distortion: false };
      const after = adjust(s, null, 'all', 50);
      filterPoints(s, null);
      const change = costBefore && after ? after.finalCost / costBefore.initialCost - 1 : NaN;
      list.push(`focal not constrained by the views: kept at the prior ${fmtPx(prior)} px (self-calibration gave ${fmtPx(f0)} px, but the re-adjusted reprojection cost changes by only ${fmtPct(pr.rise)} % over ${range}; at the prior, principal point and distortion as they started, it is ${fmtPct(change)} % higher)`);
    } else {
      list.push(`focal not constrained by the views: the re-adjusted reprojection cost changes by only ${fmtPct(pr.rise)} % over ${range} (prior ${fmtPx(prior)} px${s.input.trustedFocal ? '' : ', a guess'})`);
    }
  }
  // the constraint actually achieved, for the summary: std of what was refined, the focal's
  // widened to what the profile allows
  adjust(s, null, 'all', 0, 1e-6, true);
  for (const [c, list] of notes) {
    const std = s.lastStd.get(c);
    const sum = std ? summariseStd(cams[c]!, std) : { focalPx: NaN, principalPointPx: NaN, distortionPx: NaN };
    const ps = profileStd.get(c);
    if (ps !== undefined) sum.focalPx = Number.isFinite(sum.focalPx) ? Math.max(sum.focalPx, ps) : ps;
    s.intrinsicsReport.push({ camera: cams[c]!.id, refined: { ...s.calib[c]! }, std: sum, notes: list });
  }
}

/**
 * The focal's constraint from the cost profile (map-focal-profile.ts) at e^{±step}: the relative rise
 * of the cost on the flatter side, whether that is under the tolerance (flat), and the std this
 * implies: the focal change at which a parabola through the three costs (in log focal) rises by
 * focalStdCostRise.
 */
function focalConstraint(s: MapState, c: number, o: SelfCalOptions): { rise: number; flat: boolean; stdPx: number } | null {
  const step = o.focalProfileStep;
  const pr = focalProfile(s, c, [1, Math.exp(-step), Math.exp(step)], o.focalProfileIterations);
  const c0 = pr[0]!.cost;
  if (!(c0 > 0)) return null;
  const lo = pr[1]!.cost / c0 - 1, hi = pr[2]!.cost / c0 - 1;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  const rise = Math.min(lo, hi);
  const curvature = Math.max(0, (lo + hi) / 2) / (step * step); // relative cost per (log focal)²
  const rel = curvature > 0 ? Math.sqrt(o.focalStdCostRise / curvature) : Infinity;
  return { rise, flat: rise < o.focalProfileTolerance, stdPx: pr[0]!.focalPx * Math.min(rel, 10) };
}

function fmtPx(v: number): string {
  return v.toFixed(0);
}

function fmtPct(v: number): string {
  return Number.isFinite(v) ? (v * 100).toPrecision(2) : String(v);
}
