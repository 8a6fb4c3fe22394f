/**
 * Issue 15: SfM you can trust on forward-facing captures. A synthetic shelf / desk shot: 16 views on
 * a small grid (30 cm over a scene 3.8–4.2 m away), rotations under 0.6°, exact intrinsics known
 * (f 560 px, centred principal point, no distortion), 0.5 px keypoint noise and 10 % wrong matches.
 * Nearly every pair is homographic. The views barely constrain the principal point and distortion:
 * r2s refined them anyway, they drifted with the focal (up to 3.6 % off, k1 ≠ 0 on a lens without
 * distortion) and nothing said so. Now they stay fixed unless constrained, the summary says what was
 * refined and how well constrained it is, and the capture is flagged. Issue 13 item 4: a pure
 * rotation (every view at one centre) has no depth and must not become a model.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePoses } from '../src/eval/poses.js';
import { sfmWarnings } from '../src/sfm/trust.js';
import { makeCapture, reconstructSynthetic } from './sfm-trust-scenes.js';

const reconstruct = reconstructSynthetic;

describe('self-calibration on a forward-facing capture', () => {
  // two scenes so a pass does not hinge on one draw; on the old code scene 5 ended 3.6 % off in focal
  it.each([2, 5])('finds the focal within 3 %%, keeps the principal point and distortion sane, and says so (scene %i)', async (seed) => {
    const s = makeCapture({ views: 16, points: 2000, noisePx: 0.5, seed, baseline: 0.3, rotation: 0.01, near: 3.8, far: 4.2, depthJitter: 0 });
    const { res, cam, geoms, guess } = await reconstruct(s);
    expect(res.stats.registered).toBe(16);
    const homographic = geoms.filter((g) => g.config === 'planar' || g.config === 'panoramic').length;
    expect(homographic).toBeGreaterThanOrEqual(0.75 * geoms.length);
    const [f, cx, cy, k1] = cam.params as [number, number, number, number];
    const [fT, , cxT, cyT] = s.truth.params as [number, number, number, number];
    expect(Math.abs(f / fT - 1)).toBeLessThan(0.03);
    // principal point: kept at the centre, or within 2 % of the image size of the truth
    const centred = cx === s.truth.width / 2 && cy === s.truth.height / 2;
    expect(centred || (Math.abs(cx - cxT) < 0.02 * s.truth.width && Math.abs(cy - cyT) < 0.02 * s.truth.height)).toBe(true);
    // no distortion beyond the lens's (none): under 0.5 px at the image corner
    const r = Math.hypot(s.truth.width / 2, s.truth.height / 2) / f;
    expect(Math.abs(k1 * f * r ** 3)).toBeLessThan(0.5);
    // the summary says what was refined and how well the views constrain it
    expect(res.intrinsics).toHaveLength(1);
    const rep = res.intrinsics[0]!;
    expect(rep.refined.focal).toBe(true);
    // (issue 24: the std is the cost profile's, not the curvature at the minimum: under 0.6° of rotation
    // over a shallow scene the re-adjusted cost changes by well under 1 % over ±15 % of focal, so it is
    // wide, 11–15 % here; it must cover the actual error, and the summary warns about it)
    expect(rep.std.focalPx).toBeGreaterThan(Math.abs(f - fT));
    expect(rep.std.focalPx).toBeLessThan(0.3 * f);
    if (!rep.refined.principalPoint) expect(rep.notes.join(' ')).toMatch(/principal point kept at the centre/);
    // and the result carries a warning: most pairs homographic
    const warnings = sfmWarnings({
      cameras: [...res.model.cameras.values()], priors: new Map([[1, { focalPx: guess.params[0]!, source: 'guess' as const }]]),
      intrinsics: res.intrinsics, parallax: res.stats.parallax, registered: res.stats.registered, points: res.stats.points,
    });
    expect(warnings.some((w) => /explained by a homography/.test(w))).toBe(true);
    expect(warnings.some((w) => /constrain the focal only to|focal not constrained/.test(w))).toBe(true);
    const gt = new Map<string, { R: number[]; t: number[] }>();
    s.feats.forEach((ft, v) => gt.set(ft.name, { R: s.R[v]!, t: s.t[v]! }));
    expect(evaluatePoses(res.model, gt, { alignRotationsOnly: true }).rotErrDeg.mean).toBeLessThan(0.05);
  }, 240_000);
});

describe('pure rotation', () => {
  it('builds no model and says there is no parallax for every image', async () => {
    const s = makeCapture({ views: 10, points: 600, noisePx: 0.5, seed: 1, baseline: 0, rotation: 0.05, near: 3, far: 8 });
    const { res } = await reconstruct(s);
    expect(res.stats.registered).toBe(0);
    expect(res.model.points3D.size).toBe(0);
    expect(res.failed).toHaveLength(10);
    for (const f of res.failed) {
      expect(f.reason).toMatch(/^no parallax: .*pure rotation/);
      expect(f.reason).not.toMatch(/separate group/);
    }
  }, 240_000);
});
