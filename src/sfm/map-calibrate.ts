/**
 * Final self-calibration of the incremental model: measure how well the views constrain each
 * camera's principal point and distortion (information of a zero-step adjustment with all of them
 * free), refine only those that are well constrained, keep a refined principal point only when it
 * explains the pixels noticeably better than the centre, and undo the refinement when it ends
 * implausible (far-off principal point, strong distortion, a jump of the focal). See selfcal.ts.
 */
import { adjust, filterPoints } from './map-adjust.js';
import type { MapState } from './map-state.js';
import { decideRefinement, implausibility, summariseStd } from './selfcal.js';

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
  // the constraint actually achieved, for the summary: std of what was refined
  adjust(s, null, 'all', 0, 1e-6, true);
  for (const [c, list] of notes) {
    const std = s.lastStd.get(c);
    s.intrinsicsReport.push({
      camera: cams[c]!.id, refined: { ...s.calib[c]! },
      std: std ? summariseStd(cams[c]!, std) : { focalPx: NaN, principalPointPx: NaN, distortionPx: NaN },
      notes: list,
    });
  }
}

function fmtPct(v: number): string {
  return Number.isFinite(v) ? (v * 100).toPrecision(2) : String(v);
}
