/**
 * Evidence of depth in a verified pair. A homography explains every match of a pure rotation or of
 * copies of one photo, and nearly every match of a forward-facing capture with a small baseline; the
 * two differ only in how well: with depth, the homography leaves residuals above the noise level
 * that the epipolar geometry does not. The ratio of the two (high quantiles over the epipolar
 * inliers) is ~1 without depth, whatever the noise, and grows with parallax.
 */
import type { Camera } from '../core/camera.js';
import { meanFocal, unprojectPixel } from '../geometry/camera-model.js';

/** Quantile q of the values (sorted copy). */
function quantile(v: number[], q: number): number {
  if (v.length === 0) return NaN;
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/**
 * p90 of the homography's transfer error over p90 of the essential matrix's Sampson error, both in
 * pixels, over the pair's epipolar inliers (x1, x2 in pixels; H maps image 1 to image 2 in pixels).
 */
export function parallaxRatio(x1: Float64Array, x2: Float64Array, cam1: Camera, cam2: Camera, E: readonly number[], H: readonly number[]): { ratio: number; homographyP90Px: number; epipolarP90Px: number } {
  const n = x1.length / 2, eH: number[] = [], eE: number[] = [];
  const f = (meanFocal(cam1) + meanFocal(cam2)) / 2;
  const step = Math.max(1, Math.floor(n / 2000));
  for (let k = 0; k < n; k += step) {
    const u1 = x1[2 * k]!, v1 = x1[2 * k + 1]!, u2 = x2[2 * k]!, v2 = x2[2 * k + 1]!;
    const w = H[6]! * u1 + H[7]! * v1 + H[8]!;
    if (Math.abs(w) > 1e-12) eH.push(Math.hypot((H[0]! * u1 + H[1]! * v1 + H[2]!) / w - u2, (H[3]! * u1 + H[4]! * v1 + H[5]!) / w - v2));
    const [a0, a1] = unprojectPixel(cam1, u1, v1), [b0, b1] = unprojectPixel(cam2, u2, v2);
    const Ex0 = E[0]! * a0 + E[1]! * a1 + E[2]!, Ex1 = E[3]! * a0 + E[4]! * a1 + E[5]!, Ex2 = E[6]! * a0 + E[7]! * a1 + E[8]!;
    const Etx0 = E[0]! * b0 + E[3]! * b1 + E[6]!, Etx1 = E[1]! * b0 + E[4]! * b1 + E[7]!;
    const num = b0 * Ex0 + b1 * Ex1 + Ex2, den = Ex0 * Ex0 + Ex1 * Ex1 + Etx0 * Etx0 + Etx1 * Etx1;
    if (den > 0) eE.push((Math.abs(num) / Math.sqrt(den)) * f);
  }
  const homographyP90Px = quantile(eH, 0.9), epipolarP90Px = quantile(eE, 0.9);
    // floor of the noise level: copies of one photo match to a few hundredths of a pixel, where the
  // ratio of two near-zero residuals would say nothing
  return { ratio: homographyP90Px / Math.max(epipolarP90Px, 0.1), homographyP90Px, epipolarP90Px };
}
