/**
 * Self-calibration policy: which intrinsics the final bundle adjustments may refine, decided from
 * how well the views pin each one down. The focal is always refined (a wrong focal bends every
 * pose); the principal point and the distortion only when their standard deviation, read from the
 * bundle adjuster's information matrix with poses and points marginalised, is small. A forward-facing
 * capture (small baseline, little rotation, most pairs homographic) barely constrains them: left
 * free, they drift together with the focal into a model that fits the pixels and is wrong (a 706 px
 * capture reached f 1547 px, k1 0.86, a principal point 90 px off while COLMAP found 592 px).
 * COLMAP never refines the principal point by default; fountain-P11 shows the cost of that (true
 * principal point 23 px off: 0.48° rotation error), hence the data-driven choice here.
 */
import type { Camera } from '../core/camera.js';
import { intrinsicIndices } from '../geometry/camera-model.js';

export interface SelfCalOptions {
  /** principal point refined only when the std of cx and cy is below this share of the image diagonal (0.4 %: 3.5 px on 706×529) */
  maxPrincipalPointStd: number;
  /** distortion refined only when the std of its displacement at the image corner is below this (px) */
  maxDistortionStdPx: number;
  /** a refined principal point farther than this share of the width / height from the centre is undone */
  maxPrincipalPointOffset: number;
  /** refined distortion moving the image corner by more than this share of the half-diagonal is undone */
  maxCornerDistortion: number;
  /** a refinement of the principal point / distortion that changes the focal by more than this share is undone */
  maxFocalChange: number;
  /** a constrained principal point is kept only when refining it lowers the final reprojection cost by
   * this share (0.5 %: fountain-P11, whose principal point is 23 px off centre, gains 1.3 %;
   * moldGoldCape, whose reference cameras are centred, 0.12 % for a point 11 px off) */
  minPrincipalPointGain: number;
  /** focal profile at the end: the model re-adjusted (poses, points) with the focal fixed at f·e^{±step} */
  focalProfileStep: number;
  /** LM iterations of each profile adjustment */
  focalProfileIterations: number;
  /**
   * a relative cost rise under this on the flatter side of the profile: the focal is not constrained
   * (the summary says so; a measured prior then stands). At e^{±0.15}, flatter side: llff_flower
   * ~20 %, samples/lund 2.8 % (its focal 0.77× the EXIF prior, which reprojects as well), a
   * synthetic near-pure translation 0.0 %.
   */
  focalProfileTolerance: number;
  /** the reported focal std is the change at which the profile's parabola rises by this share of the cost
   * (0.3 %: llff_flower ±1.8 %, samples/lund ±4.4 %) */
  focalStdCostRise: number;
}

export const defaultSelfCalOptions: SelfCalOptions = {
  maxPrincipalPointStd: 0.004, maxDistortionStdPx: 1, maxPrincipalPointOffset: 0.05, maxCornerDistortion: 0.1, maxFocalChange: 0.05, minPrincipalPointGain: 0.005,
  focalProfileStep: 0.15, focalProfileIterations: 15, focalProfileTolerance: 0.05, focalStdCostRise: 0.003,
};

/** What the final adjustments refined for one camera, and how well the views constrain it. */
export interface IntrinsicsReport {
  camera: number;
  refined: { focal: boolean; principalPoint: boolean; distortion: boolean };
  /** standard deviations at the solution (NaN: not estimable); distortion as px at the image corner */
  std: { focalPx: number; principalPointPx: number; distortionPx: number };
  /** one line per decision that kept a parameter fixed or undid a refinement */
  notes: string[];
}

/** Normalised radius of the image corner farthest from the principal point. */
function cornerRadius(cam: Camera): number {
  const ix = intrinsicIndices(cam.model), p = cam.params;
  const dx = Math.max(p[ix.cx]!, cam.width - p[ix.cx]!) / p[ix.fx]!, dy = Math.max(p[ix.cy]!, cam.height - p[ix.cy]!) / p[ix.fy]!;
  return Math.hypot(dx, dy);
}

/** Radial displacement (px) at the image corner per unit of each distortion parameter (radial terms only). */
function cornerGain(cam: Camera): number[] {
  const ix = intrinsicIndices(cam.model), r = cornerRadius(cam), f = cam.params[ix.fx]!;
  // k1 moves the corner by f r³, k2 by f r⁵; tangential / higher terms are treated like k2
  return ix.extra.map((_, k) => f * r ** (k === 0 ? 3 : 5));
}

/** Standard deviations of a camera's intrinsics in report units, from the BA's per-parameter std. */
export function summariseStd(cam: Camera, std: ArrayLike<number>): IntrinsicsReport['std'] {
  const ix = intrinsicIndices(cam.model), gain = cornerGain(cam);
  let dist = NaN;
  ix.extra.forEach((e, k) => { if (Number.isFinite(std[e]!)) dist = Math.max(Number.isNaN(dist) ? 0 : dist, std[e]! * gain[k]!); });
  return { focalPx: std[ix.fx]!, principalPointPx: Math.max(std[ix.cx]!, std[ix.cy]!), distortionPx: dist };
}

/** Which of principal point / distortion the views constrain well enough to refine. */
export function decideRefinement(cam: Camera, s: IntrinsicsReport['std'], want: { principalPoint: boolean; distortion: boolean }, o: SelfCalOptions): { principalPoint: boolean; distortion: boolean; notes: string[] } {
  const notes: string[] = [];
  const diag = Math.hypot(cam.width, cam.height), ppMax = o.maxPrincipalPointStd * diag;
  let principalPoint = false, distortion = false;
  if (want.principalPoint) {
    principalPoint = s.principalPointPx <= ppMax;
    if (!principalPoint) notes.push(`principal point kept at the centre: the views constrain it to ±${fmt(s.principalPointPx)} px (refined below ±${fmt(ppMax)} px)`);
  }
  if (want.distortion && intrinsicIndices(cam.model).extra.length > 0) {
    distortion = s.distortionPx <= o.maxDistortionStdPx;
    if (!distortion) notes.push(`distortion kept at 0: the views constrain it to ±${fmt(s.distortionPx)} px at the corner (refined below ±${fmt(o.maxDistortionStdPx)} px)`);
  }
  return { principalPoint, distortion, notes };
}

/** Why refined intrinsics are implausible (null when they are not), against the values before. */
export function implausibility(before: Camera, after: Camera, o: SelfCalOptions): string | null {
  const ix = intrinsicIndices(after.model), p = after.params;
  const offX = Math.abs(p[ix.cx]! - after.width / 2) / after.width, offY = Math.abs(p[ix.cy]! - after.height / 2) / after.height;
  if (Math.max(offX, offY) > o.maxPrincipalPointOffset) return `principal point ${fmt(Math.max(offX, offY) * 100)} % of the image size from the centre`;
  const gain = cornerGain(after), r = cornerRadius(after), f = p[ix.fx]!;
  let corner = 0;
  ix.extra.forEach((e, k) => { corner += p[e]! * gain[k]!; });
  if (Math.abs(corner) > o.maxCornerDistortion * r * f) return `distortion moving the image corner by ${fmt((Math.abs(corner) / (r * f)) * 100)} %`;
  const f0 = before.params[intrinsicIndices(before.model).fx]!;
  if (Math.abs(f / f0 - 1) > o.maxFocalChange) return `focal moved from ${fmt(f0)} to ${fmt(f)} px`;
  return null;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(2)) : String(v);
}
