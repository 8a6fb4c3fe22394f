/**
 * The mapper's keypoint-scale weights (MapperOptions.keypointScaleWeight) end to end: a synthetic
 * forward-facing capture whose keypoints carry sizes, with pixel noise growing with the size.
 */
import { describe, expect, it } from 'vitest';
import { IncrementalMapper, defaultMapperOptions } from '../src/sfm/mapper.js';
import { evaluatePoses } from '../src/eval/poses.js';
import { mulberry32 } from '../src/util/rng.js';
import { makeCapture, synthMatches } from './sfm-trust-scenes.js';
import { verifyPair } from '../src/sfm/verify.js';
import type { ImagePair } from '../src/sfm/types.js';

function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
}

/** Exact keypoints, then per keypoint a size (2 px for 60 %, 8 px otherwise) and noise σ = 0.1 × size. */
function capture(seed: number) {
  const s = makeCapture({ views: 8, points: 1500, noisePx: 0, seed, baseline: 2, rotation: 0.05 });
  const rng = mulberry32(seed + 100);
  for (const f of s.feats) {
    for (let k = 0; k < f.n; k++) {
      const size = rng() < 0.6 ? 2 : 8;
      f.kp[4 * k]! += 0.1 * size * gauss(rng);
      f.kp[4 * k + 1]! += 0.1 * size * gauss(rng);
      f.kp[4 * k + 2] = size;
    }
  }
  return s;
}

function meanRotErr(s: ReturnType<typeof capture>, exponent: number): number {
  const rng = mulberry32(3);
  const pairs: ImagePair[] = [];
  for (let i = 0; i < s.feats.length; i++) for (let j = i + 1; j < s.feats.length; j++) pairs.push({ i, j });
  const cam = { ...s.truth, params: s.truth.params.slice() };
  const geoms = pairs.map(({ i, j }) => verifyPair(s.feats[i]!, s.feats[j]!, cam, cam, true, synthMatches(s, i, j, rng), { maxError: 2, minInliers: 15, homographyRatio: 0.8, seed: 3 }));
  const res = new IncrementalMapper(
    { feats: s.feats, cameras: [cam], imageCamera: s.feats.map(() => 0), refine: [{ focal: false, principalPoint: false, distortion: false }], trustedFocal: true, pairs, geoms },
    { ...defaultMapperOptions, seed: 1, silent: true, keypointScaleWeight: { exponent, maxRatio: 4 } },
  ).run();
  const gt = new Map(s.feats.map((f, v) => [f.name, { R: s.R[v]!, t: s.t[v]! }]));
  const ev = evaluatePoses(res.model, gt);
  expect(ev.registered).toBe(s.feats.length);
  return ev.rotErrDeg.mean;
}

describe('mapper keypoint-scale weights', () => {
  it('weighting by keypoint size lowers the pose error when coarse keypoints are noisier', () => {
    let equal = 0, weighted = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const s = capture(seed);
      equal += meanRotErr(s, 0);
      weighted += meanRotErr(s, 1);
    }
    // measured 0.63 (each of the six captures gains); with the weights not reaching the BA it is exactly 1
    expect(weighted).toBeLessThan(0.8 * equal);
  }, 60_000);
});
