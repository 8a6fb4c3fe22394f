/**
 * One frame everywhere (issue 27): an asset's +Y is the scene's up — for a z-up (GPS/ENU) and a
 * y-up scene alike — even when the fitted ground is tilted a few degrees from it; the asset's
 * extents and pivot height do not depend on which of the two frames the scene came in. The CLI side
 * (listing = asset.json extents, up of every --auto asset, one result line) is in
 * assets-usd.test.ts, which builds the synthetic workspace once.
 */
import { describe, expect, it } from 'vitest';
import type { GaussianParams } from '../src/core/gaussians.js';
import { SH_COEFFS } from '../src/core/gaussians.js';
import { expSO3 } from '../src/geometry/rotation.js';
import { assetFrame } from '../src/assets/export/frame.js';
import { levelPlane } from '../src/stages/extract.js';
import { Rng } from '../src/util/rng.js';

/** A 0.6 × 0.4 × 0.3 box of centres standing on z = 0 (z up), yawed 20°. */
function boxScene(): GaussianParams {
  const r = new Rng(4), n = 3000;
  const means = new Float32Array(3 * n);
  const c = Math.cos(0.35), s = Math.sin(0.35);
  for (let i = 0; i < n; i++) {
    const x = r.uniform(-0.3, 0.3), y = r.uniform(-0.2, 0.2), z = r.uniform(0, 0.3);
    means[3 * i] = 2 + c * x - s * y; means[3 * i + 1] = -1 + s * x + c * y; means[3 * i + 2] = z;
  }
  return { count: n, means, logScales: new Float32Array(3 * n).fill(-5), quats: Float32Array.from({ length: 4 * n }, (_, i) => (i % 4 === 0 ? 1 : 0)), opacityLogits: new Float32Array(n).fill(3), sh: new Float32Array(n * SH_COEFFS * 3) };
}

/** x ↦ M·x for every centre (a change of the scene frame). */
function rotate(p: GaussianParams, M: number[]): GaussianParams {
  const m = new Float32Array(p.means.length);
  for (let i = 0; i < p.count; i++) for (let a = 0; a < 3; a++) m[3 * i + a] = M[3 * a]! * p.means[3 * i]! + M[3 * a + 1]! * p.means[3 * i + 1]! + M[3 * a + 2]! * p.means[3 * i + 2]!;
  return { ...p, means: m };
}

const apply = (M: number[], v: number[]) => [0, 1, 2].map((a) => M[3 * a]! * v[0]! + M[3 * a + 1]! * v[1]! + M[3 * a + 2]! * v[2]!);
const angleDeg = (a: number[], b: number[]) => (Math.acos(Math.min(1, Math.abs(a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!) / Math.hypot(...a) / Math.hypot(...b))) * 180) / Math.PI;

describe('levelPlane + assetFrame', () => {
  const idx = Int32Array.from({ length: 3000 }, (_, i) => i);
  // z-up → y-up: (x, y, z) ↦ (x, z, −y)
  const frames = { 'z-up (GPS/ENU)': { M: [1, 0, 0, 0, 1, 0, 0, 0, 1], up: [0, 0, 1] }, 'y-up': { M: [1, 0, 0, 0, 0, 1, 0, -1, 0], up: [0, 1, 0] } };
  const results: Record<string, number[]> = {};
  for (const [name, f] of Object.entries(frames)) {
    it(`${name}: a ground fitted 6° off the scene's up still gives +Y = up (2°), bottom on the ground`, () => {
      const p = rotate(boxScene(), f.M);
      // the fitted ground: tilted 6° about the scene x axis, through the object's footprint
      const tilt = expSO3([(6 * Math.PI) / 180, 0, 0]);
      const n = apply(f.M, apply(tilt, [0, 0, 1])) as [number, number, number];
      const foot = apply(f.M, [2, -1, 0]);
      const ground = { normal: n, offset: -(n[0] * foot[0]! + n[1] * foot[1]! + n[2] * foot[2]!), threshold: 0.01, inliers: new Int32Array(0), rms: 0, sceneExtent: 5, method: 'up' as const };
      const plane = levelPlane(ground, f.up as [number, number, number], p.means, idx);
      expect(angleDeg(plane.normal, f.up)).toBeLessThan(1e-6);
      const heading = apply(f.M, [1, 0, 0]);
      const af = assetFrame(p, idx, plane.normal, 1, plane, 0, heading);
      const upInAsset = apply(af.T.R, f.up);
      expect(angleDeg(upInAsset, [0, 1, 0])).toBeLessThanOrEqual(2);
      // the tilted plane itself would have turned the asset by 6°
      const tiltedFrame = assetFrame(p, idx, n, 1, { normal: n, d: ground.offset }, 0, heading);
      expect(angleDeg(apply(tiltedFrame.T.R, f.up), [0, 1, 0])).toBeGreaterThan(5);
      results[name] = af.extents;
      // the height is the box's 0.3 m above the ground point under its centre (the plane passes
      // through the footprint centre, so the tilt does not change it there)
      expect(af.extents[1]).toBeCloseTo(0.3, 2);
    });
  }
  it('the extents are the same in both frames', () => {
    const [a, b] = Object.values(results);
    for (let k = 0; k < 3; k++) expect(a![k]).toBeCloseTo(b![k]!, 4);
  });
});
