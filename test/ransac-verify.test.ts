/**
 * The cheaper verification keeps its answers: scoring that drops a hypothesis as soon as it cannot
 * win gives exactly the plain result, also with 70 % outliers; the homography fitted only to the
 * epipolar inliers (143 samples at most) flags the same pairs planar / panoramic as a full
 * homography RANSAC over every match.
 */
import { describe, expect, it } from 'vitest';
import { homographyDLT, homographyError } from '../src/geometry/homography.js';
import { estimateEssential, estimateHomography, loRansac, type RansacEstimator } from '../src/geometry/ransac.js';
import { rotationDistanceDeg } from '../src/geometry/rotation.js';
import { gatherPoints, verifyPair } from '../src/sfm/verify.js';
import { mulberry32 } from '../src/util/rng.js';
import type { Camera } from '../src/core/camera.js';
import { randomPoints, randomPose, rng, transform } from './geometry-helpers.js';
import { projectPoint } from '../src/geometry/camera-model.js';
import { guessedCamera, makeCapture, synthMatches } from './sfm-trust-scenes.js';

const cam: Camera = { id: 1, model: 'PINHOLE', width: 1600, height: 1200, params: [1400, 1400, 800, 600] };

/** Two views of random points, `outlierFrac` of the second view's points replaced by uniform noise. */
function twoView(seed: number, n: number, noisePx: number, outlierFrac: number) {
  const g = rng(seed);
  const pose = randomPose(g);
  const tn = Math.hypot(...pose.t); pose.t = pose.t.map((v) => v / tn);
  const p1 = new Float64Array(2 * n), p2 = new Float64Array(2 * n), outlier = new Uint8Array(n);
  randomPoints(g, n).forEach((X, i) => {
    const a = projectPoint(cam, X)!, b = projectPoint(cam, transform(pose.R, pose.t, X))!;
    p1[2 * i] = a[0] + noisePx * g.normal(); p1[2 * i + 1] = a[1] + noisePx * g.normal();
    p2[2 * i] = b[0] + noisePx * g.normal(); p2[2 * i + 1] = b[1] + noisePx * g.normal();
    if (g.uniform() < outlierFrac) { outlier[i] = 1; p2[2 * i] = g.uniform(0, 1600); p2[2 * i + 1] = g.uniform(0, 1200); }
  });
  return { pose, p1, p2, outlier };
}

describe('RANSAC early rejection', () => {
  it('gives exactly the plain MSAC result (homography, 70 % outliers)', () => {
    const g = rng(4), n = 300;
    const H0 = [1.1, 0.05, 30, -0.04, 0.95, -20, 2e-5, -1e-5, 1];
    const a = new Float64Array(2 * n), b = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const u = g.uniform(0, 1600), v = g.uniform(0, 1200), w = H0[6]! * u + H0[7]! * v + H0[8]!;
      a[2 * i] = u; a[2 * i + 1] = v;
      b[2 * i] = (H0[0]! * u + H0[1]! * v + H0[2]!) / w + 0.5 * g.normal(); b[2 * i + 1] = (H0[3]! * u + H0[4]! * v + H0[5]!) / w + 0.5 * g.normal();
      if (i % 10 < 7) { b[2 * i] = g.uniform(0, 1600); b[2 * i + 1] = g.uniform(0, 1200); }
    }
    const sub = (x: Float64Array, idx: Int32Array) => Float64Array.from(Array.from(idx).flatMap((k) => [x[2 * k]!, x[2 * k + 1]!]));
    const fit = (idx: Int32Array) => { const H = homographyDLT(sub(a, idx), sub(b, idx)); return H ? [H] : []; };
    const range = (H: number[], out: Float64Array, from: number, to: number) => { for (let i = from; i < to; i++) out[i] = homographyError(H, a[2 * i]!, a[2 * i + 1]!, b[2 * i]!, b[2 * i + 1]!); };
    const plain: RansacEstimator<number[]> = { n, sampleSize: 4, minimal: fit, nonMinimal: fit, residuals: (H, out) => range(H, out, 0, n) };
    const opts = { maxError: 2, seed: 7 };
    const r0 = loRansac(plain, 4, opts)!, r1 = loRansac({ ...plain, residualsRange: range }, 4, opts)!;
    expect(r1.model).toEqual(r0.model);
    expect(r1.inliers).toEqual(r0.inliers);
    expect(r1.iterations).toBe(r0.iterations);
    // and it is the right model: about the 30 % true matches, no more
    expect(r1.numInliers).toBeGreaterThan(0.25 * n);
    expect(r1.numInliers).toBeLessThan(0.36 * n);
  });

  it('finds the relative pose with 70 % outliers', () => {
    const { pose, p1, p2, outlier } = twoView(51, 500, 0.5, 0.7);
    const r = estimateEssential(p1, p2, cam, cam, { maxError: 2, seed: 5 })!;
    expect(r).not.toBeNull();
    expect(rotationDistanceDeg(r.R, pose.R)).toBeLessThan(0.2);
    let wrong = 0, truth = 0;
    for (let i = 0; i < 500; i++) { if (outlier[i] && r.inliers[i]) wrong++; if (!outlier[i]) truth++; }
    expect(wrong).toBeLessThan(10); // a random point can fall on its epipolar line
    expect(r.numInliers).toBeGreaterThan(0.9 * truth);
  });
});

describe('homography on the epipolar inliers only', () => {
  /** The flag as it was: a full homography RANSAC over every match against the epipolar inlier count. */
  function planarByFullRansac(s: ReturnType<typeof makeCapture>, i: number, j: number, m: Uint32Array, camera: Camera): boolean | null {
    const g = verifyPair(s.feats[i]!, s.feats[j]!, camera, camera, true, m, { maxError: 2, minInliers: 15, homographyRatio: 0.8, seed: 3 });
    if (g.config === 'degenerate') return null;
    const H = estimateHomography(gatherPoints(s.feats[i]!, m, 2, 0), gatherPoints(s.feats[j]!, m, 2, 1), { maxError: 2, confidence: 0.9999, maxIterations: 1000, seed: 3 });
    return H !== null && H.numInliers > 0.8 * (g.inliers.length / 2);
  }

  it.each([
    ['forward-facing, nearly flat (trust scene 2)', { views: 8, points: 1000, noisePx: 0.5, seed: 2, baseline: 0.3, rotation: 0.01, near: 3.8, far: 4.2, depthJitter: 0 }],
    ['forward-facing with depth', { views: 8, points: 1000, noisePx: 0.5, seed: 3, baseline: 0.6, rotation: 0.05, near: 2.5, far: 12 }],
    ['pure rotation (trust scene)', { views: 8, points: 600, noisePx: 0.5, seed: 1, baseline: 0, rotation: 0.05, near: 3, far: 8 }],
  ])('flags the same pairs: %s', (_name, o) => {
    const s = makeCapture(o);
    const camera = guessedCamera(s.truth.width, s.truth.height);
    const rand = mulberry32(3);
    let compared = 0, planar = 0;
    for (let i = 0; i < s.feats.length; i++) for (let j = i + 1; j < s.feats.length; j++) {
      const m = synthMatches(s, i, j, rand);
      const g = verifyPair(s.feats[i]!, s.feats[j]!, camera, camera, true, m, { maxError: 2, minInliers: 15, homographyRatio: 0.8, seed: 3 });
      const before = planarByFullRansac(s, i, j, m, camera);
      if (before === null) { expect(g.config).toBe('degenerate'); continue; }
      compared++;
      const now = g.config === 'planar' || g.config === 'panoramic';
      if (now) planar++;
      expect(now, `pair ${i}-${j}`).toBe(before);
    }
    expect(compared).toBeGreaterThan(10);
    if (o.baseline === 0) expect(planar).toBe(compared); // a pure rotation is homographic throughout
    if (o.far === 12) expect(planar).toBeLessThan(compared);
  }, 60_000);
});
