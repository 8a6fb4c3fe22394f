/**
 * Issue 24: a focal the views do not pin down must be reported as such. Under a pure translation a
 * pinhole camera's focal is not observable at all (f → k f with depths → k depths leaves every
 * image unchanged), so a near-pure translation (rotations under 0.03°) over a shallow scene leaves the
 * self-calibrated focal anywhere along a flat valley: the summary must say so (a warning, a wide std),
 * not print a tight std. The same capture with a few degrees of rotation and a deep scene constrains
 * it: no such warning there.
 */
import { describe, expect, it } from 'vitest';
import { sfmWarnings } from '../src/sfm/trust.js';
import { makeCapture, reconstructSynthetic } from './sfm-trust-scenes.js';

async function run(rotation: number, near: number, far: number) {
  const s = makeCapture({ views: 8, points: 500, noisePx: 0.5, seed: 4, baseline: 0.3, rotation, near, far, depthJitter: 0.3 });
  const { res, cam, guess } = await reconstructSynthetic(s);
  const warnings = sfmWarnings({
    cameras: [...res.model.cameras.values()], priors: new Map([[1, { focalPx: guess.params[0]!, source: 'guess' as const }]]),
    intrinsics: res.intrinsics, parallax: res.stats.parallax, registered: res.stats.registered, points: res.stats.points,
  });
  return { res, f: cam.params[0]!, truth: s.truth.params[0]!, warnings };
}

describe('focal constraint from the cost profile', () => {
  it('warns that the focal is not constrained under a near-pure translation', async () => {
    const { res, f, warnings } = await run(0.0005, 3, 5);
    expect(res.stats.registered).toBe(8);
    const rep = res.intrinsics[0]!;
    expect(rep.notes.some((n) => n.startsWith('focal not constrained'))).toBe(true);
    expect(rep.std.focalPx).toBeGreaterThan(0.1 * f);
    expect(warnings.some((w) => /focal not constrained/.test(w))).toBe(true);
  }, 120_000);

  it('does not warn when rotation and depth pin the focal', async () => {
    const { res, f, truth, warnings } = await run(0.05, 2.5, 12);
    expect(res.stats.registered).toBe(8);
    expect(Math.abs(f / truth - 1)).toBeLessThan(0.03);
    expect(res.intrinsics[0]!.notes.some((n) => n.startsWith('focal not constrained'))).toBe(false);
    expect(warnings.filter((w) => /focal/.test(w))).toEqual([]);
  }, 120_000);
});
