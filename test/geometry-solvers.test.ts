import { describe, expect, it } from 'vitest';
import { essentialFivePoint, recoverPose } from '../src/geometry/essential.js';
import { fundamentalEightPoint, fundamentalSevenPoint, sampsonError } from '../src/geometry/fundamental.js';
import { homographyDLT, homographyError } from '../src/geometry/homography.js';
import { estimateEssential, estimateFundamental, estimateHomography } from '../src/geometry/ransac.js';
import { triangulateDLT, triangulationAngleDeg } from '../src/geometry/triangulate.js';
import { estimatePnP, p3p } from '../src/geometry/pnp.js';
import { projectPoint } from '../src/geometry/camera-model.js';
import { cameraCenter, rotationDistanceDeg } from '../src/geometry/rotation.js';
import type { Camera } from '../src/core/camera.js';
import { randomPoints, randomPose, rng, transform } from './geometry-helpers.js';

const cam: Camera = { id: 1, model: 'SIMPLE_RADIAL', width: 1600, height: 1200, params: [1400, 800, 600, -0.05] };

const pinhole: Camera = { id: 2, model: 'PINHOLE', width: 1600, height: 1200, params: [1400, 1390, 810, 590] };

function twoView(seed: number, n: number, noisePx = 0, outlierFrac = 0, camera = cam) {
  const g = rng(seed);
  const pose = randomPose(g);
  const tn = Math.hypot(...pose.t); pose.t = pose.t.map((v) => v / tn);
  const Xs = randomPoints(g, n);
  const x1 = new Float64Array(2 * n), x2 = new Float64Array(2 * n), p1 = new Float64Array(2 * n), p2 = new Float64Array(2 * n);
  const outlier = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const X = Xs[i]!, Y = transform(pose.R, pose.t, X);
    x1[2 * i] = X[0]! / X[2]!; x1[2 * i + 1] = X[1]! / X[2]!; x2[2 * i] = Y[0]! / Y[2]!; x2[2 * i + 1] = Y[1]! / Y[2]!;
    const a = projectPoint(camera, X)!, b = projectPoint(camera, Y)!;
    p1[2 * i] = a[0] + noisePx * g.normal(); p1[2 * i + 1] = a[1] + noisePx * g.normal();
    p2[2 * i] = b[0] + noisePx * g.normal(); p2[2 * i + 1] = b[1] + noisePx * g.normal();
    if (g.uniform() < outlierFrac) { outlier[i] = 1; p2[2 * i] = g.uniform(0, 1600); p2[2 * i + 1] = g.uniform(0, 1200); }
  }
  return { pose, Xs, x1, x2, p1, p2, outlier };
}

describe('five-point essential', () => {
  it('recovers the exact relative pose from 5 points (many random scenes)', () => {
    for (let s = 0; s < 40; s++) {
      const { pose, x1, x2 } = twoView(100 + s, 5);
      const Es = essentialFivePoint(x1, x2);
      expect(Es.length).toBeGreaterThan(0);
      let best = Infinity;
      for (const E of Es) {
        const p = recoverPose(E, x1, x2);
        best = Math.min(best, rotationDistanceDeg(p.R, pose.R) + Math.hypot(p.t[0]! - pose.t[0]!, p.t[1]! - pose.t[1]!, p.t[2]! - pose.t[2]!));
      }
      expect(best).toBeLessThan(1e-7);
    }
  });
  it('every candidate satisfies the epipolar and essential constraints', () => {
    const { x1, x2 } = twoView(7, 5);
    for (const E of essentialFivePoint(x1, x2)) {
      for (let i = 0; i < 5; i++) expect(Math.abs(sampsonError(E, x1[2 * i]!, x1[2 * i + 1]!, x2[2 * i]!, x2[2 * i + 1]!))).toBeLessThan(1e-20);
    }
  });
  it('recoverPose picks the decomposition with points in front and returns them', () => {
    const { pose, x1, x2, Xs } = twoView(3, 30);
    const sampson = (E: number[]) => [...Array(30).keys()].reduce((s, i) => s + sampsonError(E, x1[2 * i]!, x1[2 * i + 1]!, x2[2 * i]!, x2[2 * i + 1]!), 0);
    const [E] = essentialFivePoint(x1.subarray(0, 10), x2.subarray(0, 10)).sort((a, b) => sampson(a) - sampson(b));
    const p = recoverPose(E!, x1, x2);
    expect(p.nGood).toBe(30);
    expect(rotationDistanceDeg(p.R, pose.R)).toBeLessThan(1e-7);
    // Points are in camera-1 frame at unit baseline: scale by the true |t| (1 here).
    expect(Math.abs(p.points![2]! - Xs[0]![2]!)).toBeLessThan(1e-6);
  });
});

describe('fundamental and homography', () => {
  it('seven- and eight-point solvers are exact on noise-free pixels', () => {
    const { p1, p2 } = twoView(11, 40, 0, 0, pinhole);
    const F8 = fundamentalEightPoint(p1, p2)!;
    const F7s = fundamentalSevenPoint(p1.subarray(0, 14), p2.subarray(0, 14));
    expect(F7s.length).toBeGreaterThan(0);
    for (let i = 0; i < 40; i++) expect(sampsonError(F8, p1[2 * i]!, p1[2 * i + 1]!, p2[2 * i]!, p2[2 * i + 1]!)).toBeLessThan(1e-12);
    const ok = F7s.some((F) => [...Array(40).keys()].every((i) => sampsonError(F, p1[2 * i]!, p1[2 * i + 1]!, p2[2 * i]!, p2[2 * i + 1]!) < 1e-10));
    expect(ok).toBe(true);
  });
  it('homography DLT is exact on a plane and RANSAC rejects outliers', () => {
    const g = rng(5);
    const H0 = [1.1, 0.05, 30, -0.02, 0.95, -12, 1e-5, -2e-5, 1];
    const n = 200;
    const a = new Float64Array(2 * n), b = new Float64Array(2 * n), out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const u = g.uniform(0, 1600), v = g.uniform(0, 1200), w = H0[6]! * u + H0[7]! * v + H0[8]!;
      a[2 * i] = u; a[2 * i + 1] = v;
      b[2 * i] = (H0[0]! * u + H0[1]! * v + H0[2]!) / w; b[2 * i + 1] = (H0[3]! * u + H0[4]! * v + H0[5]!) / w;
    }
    const H = homographyDLT(a.subarray(0, 8), b.subarray(0, 8))!;
    for (let k = 0; k < 9; k++) expect(H[k]!).toBeCloseTo(H0[k]!, 9);
    for (let i = 0; i < n; i++) {
      b[2 * i]! += 0.5 * g.normal(); b[2 * i + 1]! += 0.5 * g.normal();
      if (i % 3 === 0) { out[i] = 1; b[2 * i]! += g.uniform(20, 200); }
    }
    const r = estimateHomography(a, b, { maxError: 3, seed: 1 })!;
    for (let i = 0; i < n; i++) if (out[i]) expect(r.inliers[i]).toBe(0);
    expect(r.numInliers).toBeGreaterThan(0.6 * n);
    expect(homographyError(r.model, 800, 600, ...((): [number, number] => { const w = H0[6]! * 800 + H0[7]! * 600 + 1; return [(H0[0]! * 800 + H0[1]! * 600 + H0[2]!) / w, (H0[3]! * 800 + H0[4]! * 600 + H0[5]!) / w]; })())).toBeLessThan(0.3 ** 2);
  });
  it('fundamental RANSAC separates inliers from outliers', () => {
    const { p1, p2, outlier } = twoView(21, 300, 0.5, 0.3, pinhole);
    const r = estimateFundamental(p1, p2, { maxError: 2, seed: 3 })!;
    let wrong = 0;
    for (let i = 0; i < 300; i++) if (outlier[i] && r.inliers[i]) wrong++;
    expect(wrong).toBeLessThan(5); // a random outlier can fall on its epipolar line
    expect(r.numInliers).toBeGreaterThan(180);
  });
});

describe('essential RANSAC', () => {
  it('recovers the pose with noise and 40 % outliers', () => {
    const { pose, p1, p2, outlier } = twoView(31, 400, 0.5, 0.4);
    const r = estimateEssential(p1, p2, cam, cam, { maxError: 2, seed: 9 })!;
    expect(r).not.toBeNull();
    expect(rotationDistanceDeg(r.R, pose.R)).toBeLessThan(0.05);
    expect(Math.acos(Math.min(1, r.t[0]! * pose.t[0]! + r.t[1]! * pose.t[1]! + r.t[2]! * pose.t[2]!)) * 180 / Math.PI).toBeLessThan(1);
    let wrong = 0;
    for (let i = 0; i < 400; i++) if (outlier[i] && r.inliers[i]) wrong++;
    expect(wrong).toBeLessThan(6);
  });
  it('is exact without noise', () => {
    const { pose, p1, p2 } = twoView(32, 50);
    const r = estimateEssential(p1, p2, cam, cam, { maxError: 1, seed: 1 })!;
    expect(r.numInliers).toBe(50);
    expect(rotationDistanceDeg(r.R, pose.R)).toBeLessThan(1e-6);
  });
});

describe('triangulation', () => {
  it('DLT is exact in normalised and pixel coordinates', () => {
    const g = rng(2);
    const poses = [{ R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] }, randomPose(g), randomPose(g)];
    const X = [0.3, -0.2, 6];
    const Ps = poses.map((p) => [p.R[0]!, p.R[1]!, p.R[2]!, p.t[0]!, p.R[3]!, p.R[4]!, p.R[5]!, p.t[1]!, p.R[6]!, p.R[7]!, p.R[8]!, p.t[2]!]);
    const xs = poses.map((p) => { const Y = transform(p.R, p.t, X); return [Y[0]! / Y[2]!, Y[1]! / Y[2]!] as [number, number]; });
    const Y = triangulateDLT(Ps, xs)!;
    for (let k = 0; k < 3; k++) expect(Y[k]!).toBeCloseTo(X[k]!, 9);
    const K = [1000, 0, 500, 0, 1000, 400, 0, 0, 1];
    const KP = Ps.map((P) => [0, 1, 2].flatMap((r) => [0, 1, 2, 3].map((c) => K[r * 3]! * P[c]! + K[r * 3 + 1]! * P[4 + c]! + K[r * 3 + 2]! * P[8 + c]!)));
    const px = xs.map(([u, v]) => [1000 * u + 500, 1000 * v + 400] as [number, number]);
    const Z = triangulateDLT(KP, px)!;
    for (let k = 0; k < 3; k++) expect(Z[k]!).toBeCloseTo(X[k]!, 8);
  });
  it('triangulation angle', () => {
    expect(triangulationAngleDeg([-1, 0, 0], [1, 0, 0], [0, 0, 1])).toBeCloseTo(90, 10);
    expect(triangulationAngleDeg([0, 0, 0], [0, 0, 0], [0, 0, 1])).toBe(0);
  });
});

describe('PnP', () => {
  it('P3P returns the true pose among its solutions', () => {
    for (let s = 0; s < 30; s++) {
      const g = rng(300 + s);
      const pose = randomPose(g, 1, 2);
      const Xc = randomPoints(g, 3);
      // World points from camera points: X = Rᵀ (Xc − t).
      const Xw = Xc.map((c) => [0, 1, 2].map((k) => pose.R[k]! * (c[0]! - pose.t[0]!) + pose.R[3 + k]! * (c[1]! - pose.t[1]!) + pose.R[6 + k]! * (c[2]! - pose.t[2]!)));
      const sols = p3p(Xw.flat(), Xc.flatMap((c) => [c[0]! / c[2]!, c[1]! / c[2]!]));
      const best = Math.min(...sols.map((p) => rotationDistanceDeg(p.R, pose.R) + Math.hypot(...p.t.map((v, k) => v - pose.t[k]!))));
      expect(best).toBeLessThan(1e-6);
    }
  });
  it('estimatePnP with noise and outliers', () => {
    const g = rng(77);
    const pose = randomPose(g, 0.5, 1);
    const n = 300;
    const Xc = randomPoints(g, n);
    const X = new Float64Array(3 * n), x = new Float64Array(2 * n), out = new Uint8Array(n);
    Xc.forEach((c, i) => {
      const w = [0, 1, 2].map((k) => pose.R[k]! * (c[0]! - pose.t[0]!) + pose.R[3 + k]! * (c[1]! - pose.t[1]!) + pose.R[6 + k]! * (c[2]! - pose.t[2]!));
      X.set(w, 3 * i);
      const p = projectPoint(cam, c)!;
      x[2 * i] = p[0] + 0.5 * g.normal(); x[2 * i + 1] = p[1] + 0.5 * g.normal();
      if (i % 2 === 0) { out[i] = 1; x[2 * i] = g.uniform(0, 1600); x[2 * i + 1] = g.uniform(0, 1200); }
    });
    const r = estimatePnP(X, x, cam, { maxError: 3, seed: 4 })!;
    expect(rotationDistanceDeg(r.R, pose.R)).toBeLessThan(0.05);
    const C = cameraCenter(r.R, r.t), C0 = cameraCenter(pose.R, pose.t);
    expect(Math.hypot(C[0] - C0[0], C[1] - C0[1], C[2] - C0[2])).toBeLessThan(0.02);
    let wrong = 0;
    for (let i = 0; i < n; i++) if (out[i] && r.inliers[i]) wrong++;
    expect(wrong).toBeLessThan(4);
    expect(r.numInliers).toBeGreaterThan(130);
  });
});
