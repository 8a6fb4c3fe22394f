/**
 * Capture-level parallax, from the verified pairs: whether there is depth to reconstruct at all
 * (a pure rotation or copies of one photo have none, and any "model" of them is made of noise), and
 * how small the triangulation angles of a forward-facing capture are, so the mapper can lower its
 * minimum angle instead of discarding every point of it.
 */
import type { TwoViewGeometry } from './types.js';

export interface ParallaxOptions {
  /**
   * a pair shows depth when its homography/epipolar residual ratio reaches this: synthetic pure
   * rotations stay at 1.75–2.1 over every pair; a forward-facing capture with 2–5 px of parallax
   * reaches 3–5 on its widest pairs while most of its pairs stay near 1.9 too
   */
  minParallaxRatio: number;
  /**
   * with a trusted focal (known intrinsics or EXIF), a capture without depth evidence still counts
   * as having a baseline when the p90 of its pairs' triangulation angles reaches this (degrees): a
   * flat scene seen from several places (pure rotation: rays parallel, p90 ≈ 0.2° on synthetic data;
   * a 30 cm baseline over a wall 4 m away: 2.7°). With a guessed focal the angles mean nothing (a
   * lateral move over a flat scene looks exactly like shifted crops) and the focal cannot be found.
   */
  minBaselineTriDeg: number;
  /**
   * lowest minimum triangulation angle (degrees) a low-parallax capture may use. 1° (= the mapper's
   * default, so nothing is lowered) until measured on real captures: on synthetic low-parallax
   * captures the pairs' angles, from essential matrices of near-homographic pairs and a guessed
   * focal, came out 2–4× too wide, and a sequential drive (kitti, lund) has pairs under 2° that
   * must keep today's threshold
   */
  floorTriAngleDeg: number;
  /** minimum triangulation angle as a share of the p90 of the pairs' median angles, when that is below the default */
  triAngleShare: number;
}

export const defaultParallaxOptions: ParallaxOptions = { minParallaxRatio: 2.5, minBaselineTriDeg: 0.75, floorTriAngleDeg: 1, triAngleShare: 0.5 };

export interface CaptureParallax {
  verified: number;
  /** verified pairs a homography explains (planar / panoramic) */
  homographic: number;
  /** p90 of the pairs' median triangulation angle (degrees; NaN when none measured) */
  triP90Deg: number;
  /** pairs with depth evidence (ratio ≥ minParallaxRatio, or no ratio measured) */
  withParallax: number;
  /** p90 of the median triangulation angle over pairs with parallax (degrees; NaN when none) */
  wideAngleDeg: number;
}

export function hasParallax(g: TwoViewGeometry, o: ParallaxOptions): boolean {
  return g.parallaxRatio === undefined || g.parallaxRatio >= o.minParallaxRatio;
}

export function captureParallax(geoms: TwoViewGeometry[], o: ParallaxOptions): CaptureParallax {
  let verified = 0, homographic = 0, withParallax = 0;
  const angles: number[] = [], all: number[] = [];
  for (const g of geoms) {
    if (g.config === 'degenerate' || g.inliers.length === 0) continue;
    verified++;
    if (g.config === 'planar' || g.config === 'panoramic') homographic++;
    if (g.triAngleDeg !== undefined) all.push(g.triAngleDeg);
    if (!hasParallax(g, o)) continue;
    withParallax++;
    if (g.triAngleDeg !== undefined) angles.push(g.triAngleDeg);
  }
  return { verified, homographic, withParallax, wideAngleDeg: p90(angles), triP90Deg: p90(all) };
}

function p90(v: number[]): number {
  if (v.length === 0) return NaN;
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.9 * s.length))]!;
}

/**
 * Nothing to reconstruct: verified pairs exist and none shows depth beyond a homography; with a
 * trusted focal, unless the rays of the pairs diverge (a flat scene seen from several places).
 * One pair with parallax suffices to go on: a false alarm would refuse a real, if shallow, capture.
 */
export function lacksParallax(c: CaptureParallax, o: ParallaxOptions, trustedFocal: boolean): boolean {
  if (c.verified === 0 || c.withParallax > 0) return false;
  return !trustedFocal || !(c.triP90Deg >= o.minBaselineTriDeg);
}

/** The minimum triangulation angle for this capture: the default, lowered for low-parallax captures. */
export function minTriangulationAngle(c: CaptureParallax, defaultDeg: number, o: ParallaxOptions): number {
  if (!Number.isFinite(c.wideAngleDeg)) return defaultDeg;
  return Math.min(defaultDeg, Math.max(o.floorTriAngleDeg, o.triAngleShare * c.wideAngleDeg));
}

export function noParallaxReason(c: CaptureParallax): string {
  return `no parallax: a homography explains all ${c.verified} verified image pairs as well as depth would (pure rotation, copies or crops of one photo, or a flat scene with an unknown focal), so there is nothing to triangulate; take the photos from different positions around a scene with depth (or pass --intrinsics for a flat one)`;
}
