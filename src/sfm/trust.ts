/**
 * Warnings for a model that registered but may be wrong: intrinsics far from their prior or from a
 * plausible lens, a principal point far off the centre, intrinsics the views barely constrain, a
 * capture whose pairs a homography nearly all explains. One human-readable line each, for the
 * SfM summary (`warnings`): a forward-facing phone capture of a shelf used to come out with a
 * focal 2.6× COLMAP's and exit 0 without a word.
 */
import type { Camera } from '../core/camera.js';
import { intrinsicIndices } from '../geometry/camera-model.js';
import type { FocalSource } from '../ingest/priors.js';
import type { CaptureParallax } from './low-parallax.js';
import type { IntrinsicsReport } from './selfcal.js';

export interface TrustOptions {
  /** refined focal over a measured prior (EXIF / user) outside [1/x, x] is suspect */
  maxFocalRatioMeasured: number;
  /** focal over the long image side outside this range is suspect when the prior was a guess (FOV ≈ 28°–103°) */
  focalOverSizeRange: [number, number];
  /** ... unless the views pin the focal to this share of itself: then it is a long (or wide) lens, not a
   * drift (moldGoldCape: 2170 px on 1024 px photos, ±0.7 px; the diverged forward-facing capture: ±8 %) */
  pinnedFocalStdShare: number;
  /** principal point farther than this share of the width / height from the centre */
  maxPrincipalPointOffset: number;
  /** focal standard deviation above this share of the focal: weakly constrained */
  maxFocalStdShare: number;
  /** share of verified pairs explained by a homography above which the capture has little parallax */
  maxHomographicShare: number;
  /** fewer 3D points per registered image than this: the poses rest on almost nothing */
  minPointsPerImage: number;
}

export const defaultTrustOptions: TrustOptions = {
  maxFocalRatioMeasured: 1.25, focalOverSizeRange: [0.4, 2], pinnedFocalStdShare: 0.005, maxPrincipalPointOffset: 0.03, maxFocalStdShare: 0.03, maxHomographicShare: 0.75, minPointsPerImage: 20,
};

export interface TrustInput {
  /** refined cameras of the model */
  cameras: Camera[];
  /** prior focal (px) and its source, per camera id */
  priors: Map<number, { focalPx: number; source: FocalSource }>;
  intrinsics: IntrinsicsReport[];
  parallax: CaptureParallax;
  registered: number;
  points: number;
}

export function sfmWarnings(inp: TrustInput, o: TrustOptions = defaultTrustOptions): string[] {
  const out: string[] = [];
  const many = inp.cameras.length > 1;
  for (const cam of inp.cameras) {
    const rep = inp.intrinsics.find((r) => r.camera === cam.id);
    if (!rep) continue; // known intrinsics: nothing was estimated
    const who = many ? `camera ${cam.id}: ` : '';
    const ix = intrinsicIndices(cam.model), p = cam.params, f = p[ix.fx]!;
    const prior = inp.priors.get(cam.id);
    if (prior && prior.source !== 'guess') {
      const r = f / prior.focalPx;
      if (r > o.maxFocalRatioMeasured || r < 1 / o.maxFocalRatioMeasured) out.push(`${who}self-calibrated focal ${f.toFixed(0)} px is ${r.toFixed(2)}× the ${prior.source} prior (${prior.focalPx.toFixed(0)} px): the intrinsics may be wrong; pass --intrinsics if they are known`);
    } else {
      const r = f / Math.max(cam.width, cam.height);
      const fov = (2 * Math.atan(Math.max(cam.width, cam.height) / (2 * f)) * 180) / Math.PI;
      const pinned = rep.std.focalPx <= o.pinnedFocalStdShare * f;
      if ((r < o.focalOverSizeRange[0] || r > o.focalOverSizeRange[1]) && !pinned) out.push(`${who}self-calibrated focal ${f.toFixed(0)} px (${fov.toFixed(0)}° field of view) is unusual for a photo ${Math.max(cam.width, cam.height)} px wide: the intrinsics may be wrong; pass --intrinsics if they are known`);
    }
    const off = Math.max(Math.abs(p[ix.cx]! - cam.width / 2) / cam.width, Math.abs(p[ix.cy]! - cam.height / 2) / cam.height);
    if (off > o.maxPrincipalPointOffset) out.push(`${who}principal point ${(off * 100).toFixed(1)} % of the image size off the centre`);
    // a focal the cost profile found unconstrained (map-calibrate.ts) has its own line, which says whether the prior stood
    const unconstrained = rep.notes.some((n) => n.startsWith('focal not constrained'));
    if (!unconstrained && rep.std.focalPx > o.maxFocalStdShare * f) out.push(`${who}the views constrain the focal only to ±${rep.std.focalPx.toFixed(0)} px (${((rep.std.focalPx / f) * 100).toFixed(0)} %): poses and scene may be distorted; pass --intrinsics if they are known`);
    for (const n of rep.notes) if (n.includes('undone') || n.startsWith('focal not constrained')) out.push(`${who}${n}`);
  }
  if (inp.registered > 0 && inp.points < o.minPointsPerImage * inp.registered) {
    out.push(`only ${inp.points} 3D points for ${inp.registered} registered images: too little parallax to triangulate, the poses rest on almost nothing`);
  }
  const c = inp.parallax;
  if (c.verified > 0 && c.homographic > o.maxHomographicShare * c.verified) {
    out.push(`${c.homographic} of ${c.verified} verified image pairs are explained by a homography (little parallax: a forward-facing or rotating capture); intrinsics and depth are weakly constrained, move the camera sideways more between photos`);
  }
  return out;
}
