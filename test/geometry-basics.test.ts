import { describe, expect, it } from 'vitest';
import { choleskySolve, realPolyRoots, polyMul, svd, symmetricEigen, nullSpace, invert3 } from '../src/geometry/linalg.js';
import { projectPoint, unprojectPixel } from '../src/geometry/camera-model.js';
import { robustSimilarity, umeyama } from '../src/geometry/umeyama.js';
import { expSO3, rotationDistanceDeg } from '../src/geometry/rotation.js';
import type { Camera, CameraModelName } from '../src/core/camera.js';
import { rng } from './geometry-helpers.js';

describe('linalg', () => {
  it('SVD reconstructs tall and wide matrices with orthonormal factors', () => {
    const g = rng(1);
    for (const [m, n] of [[6, 4], [3, 3], [5, 9]] as const) {
      const A = Array.from({ length: m * n }, () => g.normal());
      const { U, S, V } = svd(A, m, n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += U[i * n + k]! * S[k]! * V[j * n + k]!;
        expect(s).toBeCloseTo(A[i * n + j]!, 12);
      }
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += V[k * n + a]! * V[k * n + b]!;
        expect(s).toBeCloseTo(a === b ? 1 : 0, 12);
      }
      for (let k = 1; k < n; k++) expect(S[k]!).toBeLessThanOrEqual(S[k - 1]!);
    }
  });
  it('U stays orthonormal for rank-deficient matrices', () => {
    const A = [1, 2, 3, 2, 4, 6, 1, 0, 1]; // rank 2
    const { U, S } = svd(A, 3, 3);
    expect(S[2]!).toBeLessThan(1e-14);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      let d = 0;
      for (let i = 0; i < 3; i++) d += U[i * 3 + a]! * U[i * 3 + b]!;
      expect(d).toBeCloseTo(a === b ? 1 : 0, 12);
    }
  });
  it('null space of a rank-deficient matrix', () => {
    const A = [1, 2, 3, 2, 4, 6, 1, 0, 1]; // rank 2
    const [v] = nullSpace(A, 3, 3, 1) as [number[]];
    for (let i = 0; i < 3; i++) expect(A[i * 3]! * v[0]! + A[i * 3 + 1]! * v[1]! + A[i * 3 + 2]! * v[2]!).toBeCloseTo(0, 14);
  });
  it('symmetric eigen, Cholesky, 3×3 inverse', () => {
    const e = symmetricEigen([4, 1, 0, 1, 3, 1, 0, 1, 2], 3);
    for (let k = 0; k < 3; k++) {
      const v = e.vectors[k]!, A = [4, 1, 0, 1, 3, 1, 0, 1, 2];
      for (let i = 0; i < 3; i++) expect(A[i * 3]! * v[0]! + A[i * 3 + 1]! * v[1]! + A[i * 3 + 2]! * v[2]!).toBeCloseTo(e.values[k]! * v[i]!, 12);
    }
    const M = new Float64Array([4, 1, 0, 1, 3, 1, 0, 1, 2]), b = new Float64Array([1, 2, 3]);
    expect(choleskySolve(M, 3, b)).toBe(true);
    const A = [4, 1, 0, 1, 3, 1, 0, 1, 2];
    for (let i = 0; i < 3; i++) expect(A[i * 3]! * b[0]! + A[i * 3 + 1]! * b[1]! + A[i * 3 + 2]! * b[2]!).toBeCloseTo(i + 1, 12);
    expect(choleskySolve(new Float64Array([1, 2, 2, 1]), 2, new Float64Array(2))).toBe(false);
    const inv = new Float64Array(9);
    expect(invert3(A, inv)).toBe(true);
    expect(A[0]! * inv[0]! + A[1]! * inv[3]! + A[2]! * inv[6]!).toBeCloseTo(1, 12);
  });
  it('real polynomial roots, including close and repeated-sign cases', () => {
    const roots = [-3, -1e-3, 0.5, 0.50001, 2, 7.25];
    let p = [1];
    for (const r of roots) p = polyMul(p, [-r, 1]);
    p = polyMul(p, [1, 0, 1]); // two complex roots
    const got = realPolyRoots(p);
    expect(got.length).toBe(roots.length);
    got.forEach((r, i) => expect(r).toBeCloseTo(roots[i]!, 9));
    expect(realPolyRoots([1, 0, 1])).toEqual([]);
    expect(realPolyRoots([-6, 11, -6, 1]).map((r) => Math.round(r * 1e9) / 1e9)).toEqual([1, 2, 3]);
  });
});

describe('camera models', () => {
  const cases: Array<[CameraModelName, number[]]> = [
    ['SIMPLE_PINHOLE', [1000, 500, 400]],
    ['PINHOLE', [1000, 1010, 500, 400]],
    ['SIMPLE_RADIAL', [1000, 500, 400, -0.1]],
    ['RADIAL', [1000, 500, 400, -0.1, 0.03]],
    ['OPENCV', [1000, 1010, 500, 400, -0.1, 0.03, 0.001, -0.002]],
    ['OPENCV_FISHEYE', [1000, 1010, 500, 400, 0.05, -0.01, 0.002, 0.001]],
    ['FULL_OPENCV', [1000, 1010, 500, 400, -0.1, 0.03, 0.001, -0.002, 0.001, 0.01, 0.002, 0.001]],
  ];
  for (const [model, params] of cases) {
    it(`unprojectPixel inverts projectPoint (${model})`, () => {
      const cam: Camera = { id: 1, model, width: 1000, height: 800, params };
      for (const [x, y] of [[0, 0], [0.3, -0.2], [-0.45, 0.35], [0.1, 0.38]] as const) {
        const uv = projectPoint(cam, [x * 5, y * 5, 5])!;
        const [xu, yu] = unprojectPixel(cam, uv[0], uv[1]);
        expect(xu).toBeCloseTo(x, 10);
        expect(yu).toBeCloseTo(y, 10);
      }
      expect(projectPoint(cam, [0, 0, -1])).toBeNull();
    });
  }
  it('SIMPLE_RADIAL follows COLMAP: u = f·x·(1 + k r²) + cx', () => {
    const cam: Camera = { id: 1, model: 'SIMPLE_RADIAL', width: 100, height: 100, params: [100, 50, 40, 0.1] };
    const [u, v] = projectPoint(cam, [0.2, 0.1, 1])!;
    expect(u).toBeCloseTo(100 * 0.2 * (1 + 0.1 * 0.05) + 50, 12);
    expect(v).toBeCloseTo(100 * 0.1 * (1 + 0.1 * 0.05) + 40, 12);
  });
});

describe('umeyama', () => {
  it('recovers a known similarity exactly', () => {
    const g = rng(3);
    const R = expSO3([0.3, -0.5, 1.2]), s = 2.5, t = [1, -2, 3];
    const src = Array.from({ length: 20 }, () => [g.normal(), g.normal(), g.normal()]);
    const dst = src.map((p) => [0, 1, 2].map((k) => s * (R[3 * k]! * p[0]! + R[3 * k + 1]! * p[1]! + R[3 * k + 2]! * p[2]!) + t[k]!));
    const r = umeyama(src, dst);
    expect(r.s).toBeCloseTo(s, 12);
    expect(rotationDistanceDeg(r.R, R)).toBeLessThan(1e-9);
    r.t.forEach((v, k) => expect(v).toBeCloseTo(t[k]!, 10));
    const r1 = umeyama(src, dst.map((p) => p.map((v, k) => (v - t[k]!) / s + t[k]!)), false);
    expect(r1.s).toBe(1);
    expect(rotationDistanceDeg(r1.R, R)).toBeLessThan(1e-9);
  });
  it('coplanar points still give a proper rotation', () => {
    const R = expSO3([0.2, 0.1, -0.4]);
    const src = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [2, 0.5, 0]];
    const dst = src.map((p) => [0, 1, 2].map((k) => R[3 * k]! * p[0]! + R[3 * k + 1]! * p[1]! + R[3 * k + 2]! * p[2]!));
    const r = umeyama(src, dst);
    expect(rotationDistanceDeg(r.R, R)).toBeLessThan(1e-9);
  });
  it('robustSimilarity ignores outliers (GPS alignment)', () => {
    const g = rng(8);
    const R = expSO3([0, 0, 0.8]), s = 0.1, t = [100, 200, 5];
    const src = Array.from({ length: 60 }, () => [g.uniform(-50, 50), g.uniform(-50, 50), g.uniform(-2, 2)]);
    const dst = src.map((p) => [0, 1, 2].map((k) => s * (R[3 * k]! * p[0]! + R[3 * k + 1]! * p[1]! + R[3 * k + 2]! * p[2]!) + t[k]! + 0.02 * g.normal()));
    for (let i = 0; i < 60; i += 5) dst[i]![0]! += 30;
    const r = robustSimilarity(src, dst, { maxError: 0.2, seed: 1 })!;
    expect(r.inliers.reduce((a, b) => a + b, 0)).toBe(48);
    expect(r.s).toBeCloseTo(s, 3);
    expect(rotationDistanceDeg(r.R, R)).toBeLessThan(0.1);
  });
});
