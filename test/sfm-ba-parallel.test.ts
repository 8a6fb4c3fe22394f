import { describe, expect, it } from 'vitest';
import { bundleAdjust, type BAProblem } from '../src/sfm/bundle.js';
import { baPoolSize } from '../src/sfm/bundle-pool.js';
import { projectPoint } from '../src/geometry/camera-model.js';
import { expSO3, matMul3, matToQuat } from '../src/geometry/rotation.js';
import { rng } from './geometry-helpers.js';

/**
 * A ring of cameras around a cloud of points, each point seen by 2–5 neighbouring cameras (mean
 * track ≈ 2.8, as in an object capture), noisy observations with 2 % outliers and per-observation
 * weights, shared SIMPLE_RADIAL intrinsics refined: every kernel branch (pose, fixed-scale pose,
 * intrinsics blocks, observation weights) and over 20 000 observations, so the worker pool is used.
 */
function ring(seed: number, nImg: number, nPts: number): BAProblem {
  const g = rng(seed);
  const cam = { id: 1, model: 'SIMPLE_RADIAL' as const, width: 1024, height: 768, params: [900, 512, 384, -0.04] };
  const poses = Array.from({ length: nImg }, (_, i) => {
    const a = (2 * Math.PI * i) / nImg, C = [6 * Math.sin(a), 0.3 * Math.sin(3 * a), -6 * Math.cos(a)];
    const z = C.map((v) => -v / 6.0075), up = [0, -1, 0];
    const x0 = [up[1]! * z[2]! - up[2]! * z[1]!, up[2]! * z[0]! - up[0]! * z[2]!, up[0]! * z[1]! - up[1]! * z[0]!];
    const nx = Math.hypot(x0[0]!, x0[1]!, x0[2]!), x = x0.map((v) => v / nx);
    const y = [z[1]! * x[2]! - z[2]! * x[1]!, z[2]! * x[0]! - z[0]! * x[2]!, z[0]! * x[1]! - z[1]! * x[0]!];
    const R = [...x, ...y, ...z];
    return { R, t: [0, 1, 2].map((r) => -(R[3 * r]! * C[0]! + R[3 * r + 1]! * C[1]! + R[3 * r + 2]! * C[2]!)) };
  });
  const points = new Float64Array(3 * nPts);
  const observations: BAProblem['observations'] = [];
  for (let p = 0; p < nPts; p++) {
    const X = [g.uniform(-1.5, 1.5), g.uniform(-1.5, 1.5), g.uniform(-1.5, 1.5)];
    points.set(X.map((v) => v + 0.01 * g.normal()), 3 * p);
    const first = Math.floor(g.uniform(0, nImg)), len = 2 + Math.floor(4 * g.uniform() * g.uniform());
    for (let k = 0; k < len; k++) {
      const i = (first + 2 * k) % nImg, { R, t } = poses[i]!;
      const uv = projectPoint(cam, [0, 1, 2].map((r) => R[3 * r]! * X[0]! + R[3 * r + 1]! * X[1]! + R[3 * r + 2]! * X[2]! + t[r]!))!;
      const outlier = g.uniform() < 0.02 ? 20 : 0;
      observations.push({ image: i, point: p, x: uv[0] + (0.5 + outlier) * g.normal(), y: uv[1] + (0.5 + outlier) * g.normal(), weight: g.uniform(0.5, 1.5) });
    }
  }
  return {
    cameras: [{ model: 'SIMPLE_RADIAL', params: Float64Array.from([930, 505, 390, 0]), refineFocal: true, refinePrincipalPoint: true, refineDistortion: true }],
    images: poses.map((ps, i) => {
      const fixed = i === 0, R = fixed ? ps.R : matMul3(expSO3([0.002 * g.normal(), 0.002 * g.normal(), 0.002 * g.normal()]), ps.R);
      return { camera: 0, q: Float64Array.from(matToQuat(R)), t: Float64Array.from(ps.t.map((v) => (fixed ? v : v + 0.01 * g.normal()))), fixed, fixTranslationScale: i === 1 };
    }),
    points,
    observations,
  };
}

describe('bundleAdjust on worker threads', () => {
  it('gives the same bits on 1, 2 and 3 threads (the chunks are summed in one order)', () => {
    const opts = { maxIterations: 100, functionTolerance: 1e-10, intrinsicStd: true };
    const solve = (threads: number) => { const p = ring(5, 60, 9000); return { p, r: bundleAdjust(p, { ...opts, threads }) }; };
    const one = solve(1);
    expect(one.p.observations.length).toBeGreaterThan(20_000);
    expect(baPoolSize()).toBe(0);
    expect(one.r.converged).toBe(true);
    expect(one.r.finalRmse).toBeLessThan(one.r.initialRmse / 2);
    for (const threads of [2, 3]) {
      const many = solve(threads);
      expect(baPoolSize()).toBe(threads - 1);
      expect(many.r.finalCost).toBe(one.r.finalCost);
      expect(many.r.iterations).toBe(one.r.iterations);
      many.p.images.forEach((im, i) => {
        expect(Array.from(im.q)).toEqual(Array.from(one.p.images[i]!.q));
        expect(Array.from(im.t)).toEqual(Array.from(one.p.images[i]!.t));
      });
      expect(Array.from(many.p.cameras[0]!.params)).toEqual(Array.from(one.p.cameras[0]!.params));
      expect(Array.from(many.p.points)).toEqual(Array.from(one.p.points));
      expect(Array.from(many.r.intrinsicStd![0]!, String)).toEqual(Array.from(one.r.intrinsicStd![0]!, String));
    }
  });
});
