import { describe, expect, it } from 'vitest';
import { bundleAdjust, JAC_STRIDE, projectWithJacobian, type BACamera, type BAProblem } from '../src/sfm/bundle.js';
import { projectPoint } from '../src/geometry/camera-model.js';
import { expSO3, matMul3, matToQuat, quatToMat, rotationDistanceDeg, cameraCenter } from '../src/geometry/rotation.js';
import type { CameraModelName } from '../src/core/camera.js';
import { rng } from './geometry-helpers.js';

const MODELS: Array<[CameraModelName, number[]]> = [
  ['SIMPLE_PINHOLE', [1000, 500, 400]],
  ['PINHOLE', [1000, 1010, 500, 400]],
  ['SIMPLE_RADIAL', [1000, 500, 400, -0.08]],
  ['RADIAL', [1000, 500, 400, -0.08, 0.02]],
  ['OPENCV', [1000, 1010, 500, 400, -0.08, 0.02, 0.001, -0.002]],
  ['FULL_OPENCV', [1000, 1010, 500, 400, -0.08, 0.02, 0.001, -0.002, 0.001, 0.01, 0.002, 0.001]],
];

describe('projectWithJacobian', () => {
  for (const [model, params] of MODELS) {
    it(`matches finite differences (${model})`, () => {
      const R = expSO3([0.1, -0.2, 0.05]), t = [0.3, -0.1, 2];
      const X = [0.4, -0.3, 3];
      const out = new Float64Array(2 + 2 * JAC_STRIDE), o2 = new Float64Array(out.length);
      expect(projectWithJacobian(model, params, R, t, X, 0, out)).toBe(true);
      const num = (f: (h: number) => Float64Array | null) => { const h = 1e-6; const a = f(h)!, b = f(-h)!; return [(a[0]! - b[0]!) / (2 * h), (a[1]! - b[1]!) / (2 * h)]; };
      const proj = (Rm: number[], tm: number[], Xm: number[], pm: number[]) => { projectWithJacobian(model, pm, Rm, tm, Xm, 0, o2); return o2.slice(0, 2); };
      const check = (k: number, d: number[]) => {
        expect(out[2 + k]!).toBeCloseTo(d[0]!, 3);
        expect(out[2 + JAC_STRIDE + k]!).toBeCloseTo(d[1]!, 3);
      };
      for (let j = 0; j < 3; j++) {
        check(j, num((h) => { const w = [0, 0, 0]; w[j] = h; return proj(matMul3(expSO3(w), R), t, X, params); }));
        check(3 + j, num((h) => { const tt = t.slice(); tt[j]! += h; return proj(R, tt, X, params); }));
        check(6 + j, num((h) => { const XX = X.slice(); XX[j]! += h; return proj(R, t, XX, params); }));
      }
      for (let j = 0; j < params.length; j++) check(9 + j, num((h) => { const pp = params.slice(); pp[j]! += h; return proj(R, t, X, pp); }));
      // And the projection equals projectPoint's.
      const Xc = [0, 1, 2].map((r) => R[3 * r]! * X[0]! + R[3 * r + 1]! * X[1]! + R[3 * r + 2]! * X[2]! + t[r]!);
      const p = projectPoint({ id: 1, model, width: 1000, height: 800, params }, Xc)!;
      expect(out[0]!).toBeCloseTo(p[0], 9);
      expect(out[1]!).toBeCloseTo(p[1], 9);
    });
  }
});

/** World-to-camera rotation of a camera at C looking at the origin (z forward, y down), rolled by `roll`. */
function lookAt(C: number[], roll: number): number[] {
  const n = Math.hypot(C[0]!, C[1]!, C[2]!);
  const z = C.map((v) => -v / n);
  const up = [0, -1, 0];
  let x = [up[1]! * z[2]! - up[2]! * z[1]!, up[2]! * z[0]! - up[0]! * z[2]!, up[0]! * z[1]! - up[1]! * z[0]!];
  const nx = Math.hypot(x[0]!, x[1]!, x[2]!); x = x.map((v) => v / nx);
  const y = [z[1]! * x[2]! - z[2]! * x[1]!, z[2]! * x[0]! - z[0]! * x[2]!, z[0]! * x[1]! - z[1]! * x[0]!];
  return matMul3(expSO3([0, 0, roll]), [...x, ...y, ...z]);
}

/** Cameras on a sphere cap looking at a cloud of points around the origin; observations exact. */
function scene(seed: number, nImg: number, nPts: number, model: CameraModelName, params: number[]) {
  const g = rng(seed);
  const images: Array<{ R: number[]; t: number[] }> = [];
  for (let i = 0; i < nImg; i++) {
    // Centres on a sphere cap of radius 8 around the origin, looking at it, with some roll: varied
    // orientations make focal lengths, principal point and distortion observable.
    const a = (i - (nImg - 1) / 2) * 0.15, b = 0.25 * Math.sin(2.1 * i);
    const C = [8 * Math.sin(a) * Math.cos(b), 8 * Math.sin(b), -8 * Math.cos(a) * Math.cos(b)];
    const R = lookAt(C, g.uniform(-0.4, 0.4));
    const t = [0, 1, 2].map((r) => -(R[3 * r]! * C[0]! + R[3 * r + 1]! * C[1]! + R[3 * r + 2]! * C[2]!));
    images.push({ R, t });
  }
  const pts = new Float64Array(3 * nPts);
  for (let k = 0; k < 3 * nPts; k++) pts[k] = g.uniform(-2, 2);
  const cam = { id: 1, model, width: 1000, height: 800, params };
  const observations: BAProblem['observations'] = [];
  for (let p = 0; p < nPts; p++) for (let i = 0; i < nImg; i++) {
    const { R, t } = images[i]!;
    const X = [pts[3 * p]!, pts[3 * p + 1]!, pts[3 * p + 2]!];
    const Xc = [0, 1, 2].map((r) => R[3 * r]! * X[0]! + R[3 * r + 1]! * X[1]! + R[3 * r + 2]! * X[2]! + t[r]!);
    const uv = projectPoint(cam, Xc);
    if (uv && (i + p) % 4 !== 0) observations.push({ image: i, point: p, x: uv[0], y: uv[1] });
  }
  return { images, pts, observations, g };
}

function makeProblem(s: ReturnType<typeof scene>, cam: BACamera, perturb: { rot: number; trans: number; pts: number }): BAProblem {
  const g = s.g;
  return {
    cameras: [cam],
    images: s.images.map((im, i) => {
      const fixed = i === 0;
      const R = fixed ? im.R : matMul3(expSO3([g.normal() * perturb.rot, g.normal() * perturb.rot, g.normal() * perturb.rot]), im.R);
      const t = fixed ? im.t : im.t.map((v) => v + g.normal() * perturb.trans);
      return { camera: 0, q: Float64Array.from(matToQuat(R)), t: Float64Array.from(t), fixed, fixTranslationScale: i === 1 };
    }),
    points: s.pts.map((v) => v + g.normal() * perturb.pts),
    observations: s.observations.map((o) => ({ ...o })),
  };
}

describe('bundleAdjust', () => {
  it('recovers perturbed poses and points (fixed intrinsics)', () => {
    const params = [1000, 500, 400, -0.05];
    const s = scene(1, 8, 300, 'SIMPLE_RADIAL', params);
    // Image 1's translation norm is fixed (gauge): keep its true norm by not perturbing its t.
    const prob = makeProblem(s, { model: 'SIMPLE_RADIAL', params: Float64Array.from(params), refineFocal: false, refinePrincipalPoint: false, refineDistortion: false }, { rot: 0.01, trans: 0.05, pts: 0.05 });
    prob.images[1]!.t.set(s.images[1]!.t);
    const rep = bundleAdjust(prob, { maxIterations: 50, functionTolerance: 1e-12 });
    expect(rep.initialRmse).toBeGreaterThan(5);
    expect(rep.finalRmse).toBeLessThan(1e-6);
    for (let i = 0; i < 8; i++) {
      expect(rotationDistanceDeg(quatToMat(Array.from(prob.images[i]!.q)), s.images[i]!.R)).toBeLessThan(1e-6);
      for (let k = 0; k < 3; k++) expect(prob.images[i]!.t[k]!).toBeCloseTo(s.images[i]!.t[k]!, 6);
    }
    for (let k = 0; k < s.pts.length; k++) expect(prob.points[k]!).toBeCloseTo(s.pts[k]!, 6);
  });

  it('refines focal length, principal point and distortion', () => {
    for (const [model, params] of [['SIMPLE_RADIAL', [1000, 500, 400, -0.05]], ['OPENCV', [1000, 1008, 505, 395, -0.05, 0.01, 0.001, -0.001]]] as Array<[CameraModelName, number[]]>) {
      const s = scene(2, 10, 400, model, params);
      const start = params.slice();
      start[0] = params[0]! * 1.03; if (model === 'OPENCV') start[1] = params[1]! * 0.98;
      const ix = model === 'OPENCV' ? 2 : 1;
      start[ix] = params[ix]! + 8; start[ix + 1] = params[ix + 1]! - 6;
      for (let k = ix + 2; k < params.length; k++) start[k] = 0;
      const prob = makeProblem(s, { model, params: Float64Array.from(start), refineFocal: true, refinePrincipalPoint: true, refineDistortion: true }, { rot: 0.003, trans: 0.02, pts: 0.02 });
      prob.images[1]!.t.set(s.images[1]!.t);
      const rep = bundleAdjust(prob, { maxIterations: 100, functionTolerance: 1e-14 });
      expect(rep.finalRmse).toBeLessThan(1e-5);
      for (let k = 0; k < params.length; k++) expect(prob.cameras[0]!.params[k]!).toBeCloseTo(params[k]!, k < ix + 2 ? 3 : 5);
      const C = cameraCenter(quatToMat(Array.from(prob.images[5]!.q)), Array.from(prob.images[5]!.t));
      const C0 = cameraCenter(s.images[5]!.R, s.images[5]!.t);
      expect(Math.hypot(C[0] - C0[0], C[1] - C0[1], C[2] - C0[2])).toBeLessThan(1e-6);
    }
  });

  it('robust loss: outlier observations do not pull the solution', () => {
    const params = [1000, 500, 400];
    const s = scene(3, 6, 300, 'SIMPLE_PINHOLE', params);
    const g = rng(99);
    s.observations.forEach((o) => { o.x += 0.3 * g.normal(); o.y += 0.3 * g.normal(); });
    const clean = s.observations.map((o) => ({ ...o }));
    s.observations.forEach((o, k) => { if (k % 20 === 0) { o.x += 40; o.y -= 30; } });
    const run = (loss: 'trivial' | 'cauchy' | 'huber', obs = s.observations) => {
      const prob = makeProblem(s, { model: 'SIMPLE_PINHOLE', params: Float64Array.from(params), refineFocal: false, refinePrincipalPoint: false, refineDistortion: false }, { rot: 0.005, trans: 0.02, pts: 0.02 });
      prob.images[1]!.t.set(s.images[1]!.t);
      prob.observations = obs.map((o) => ({ ...o }));
      bundleAdjust(prob, { loss, lossScale: 1, maxIterations: 100 });
      let err = 0;
      for (let i = 0; i < 6; i++) err = Math.max(err, rotationDistanceDeg(quatToMat(Array.from(prob.images[i]!.q)), s.images[i]!.R));
      return err;
    };
    const eT = run('trivial'), eC = run('cauchy'), eH = run('huber'), e0 = run('trivial', clean);
    // Cauchy ignores the outliers almost entirely; Huber bounds their pull.
    expect(eC).toBeLessThan(1.5 * e0 + 1e-3);
    expect(eH).toBeLessThan(eT / 5);
    expect(eT).toBeGreaterThan(5 * e0);
  });

  it('with fixed points only the cameras move (no gauge needed)', () => {
    const params = [1000, 500, 400];
    const s = scene(5, 4, 150, 'SIMPLE_PINHOLE', params);
    const prob = makeProblem(s, { model: 'SIMPLE_PINHOLE', params: Float64Array.from(params), refineFocal: false, refinePrincipalPoint: false, refineDistortion: false }, { rot: 0.01, trans: 0.05, pts: 0 });
    prob.images.forEach((im) => { im.fixed = false; im.fixTranslationScale = false; });
    prob.points.set(s.pts);
    prob.fixedPoints = new Uint8Array(150).fill(1);
    const rep = bundleAdjust(prob, { functionTolerance: 1e-14 });
    expect(rep.finalRmse).toBeLessThan(1e-6);
    for (let i = 0; i < 4; i++) expect(rotationDistanceDeg(quatToMat(Array.from(prob.images[i]!.q)), s.images[i]!.R)).toBeLessThan(1e-6);
    expect(Array.from(prob.points)).toEqual(Array.from(s.pts));
  });

  it('reports the cost drop and calls onIteration', () => {
    const s = scene(4, 5, 100, 'SIMPLE_PINHOLE', [900, 500, 400]);
    const prob = makeProblem(s, { model: 'SIMPLE_PINHOLE', params: Float64Array.from([900, 500, 400]), refineFocal: false, refinePrincipalPoint: false, refineDistortion: false }, { rot: 0.01, trans: 0.05, pts: 0.05 });
    const costs: number[] = [];
    const rep = bundleAdjust(prob, { onIteration: (_, c) => costs.push(c) });
    expect(rep.finalCost).toBeLessThan(rep.initialCost);
    expect(costs.length).toBeGreaterThan(0);
    for (let k = 1; k < costs.length; k++) expect(costs[k]!).toBeLessThan(costs[k - 1]!);
  });

  it('reports standard deviations of the refined intrinsics that match the noise', () => {
    const params = [1000, 500, 400, -0.05];
    const run = (noise: number) => {
      const s = scene(3, 10, 400, 'SIMPLE_RADIAL', params);
      const prob = makeProblem(s, { model: 'SIMPLE_RADIAL', params: Float64Array.from(params), refineFocal: true, refinePrincipalPoint: true, refineDistortion: true }, { rot: 0, trans: 0, pts: 0 });
      prob.images[1]!.t.set(s.images[1]!.t);
      for (const o of prob.observations) { o.x += noise * s.g.normal(); o.y += noise * s.g.normal(); }
      const rep = bundleAdjust(prob, { maxIterations: 50, intrinsicStd: true });
      return { std: rep.intrinsicStd![0]!, params: prob.cameras[0]!.params };
    };
    const a = run(0.5), b = run(1);
    for (let k = 0; k < 4; k++) {
      expect(a.std[k]!).toBeGreaterThan(0);
      // the error is within a few standard deviations, and the deviation doubles with the noise
      expect(Math.abs(a.params[k]! - params[k]!)).toBeLessThan(4 * a.std[k]!);
      expect(b.std[k]! / a.std[k]!).toBeGreaterThan(1.6);
      expect(b.std[k]! / a.std[k]!).toBeLessThan(2.5);
    }
    // parameters not refined have no deviation
    const s = scene(3, 10, 400, 'SIMPLE_RADIAL', params);
    const prob = makeProblem(s, { model: 'SIMPLE_RADIAL', params: Float64Array.from(params), refineFocal: true, refinePrincipalPoint: false, refineDistortion: false }, { rot: 0, trans: 0, pts: 0 });
    const rep = bundleAdjust(prob, { maxIterations: 5, intrinsicStd: true });
    expect(Number.isNaN(rep.intrinsicStd![0]![1]!)).toBe(true);
    expect(rep.intrinsicStd![0]![0]!).toBeGreaterThanOrEqual(0);
  });
});

/**
 * A corridor: `nImg` cameras along x (shuffled in the problem, so the solver has to find the band
 * itself), each seeing the wall points within its field of view — the banded co-visibility of a
 * drive or a walk. Perturbed poses and points; focal and distortion refined.
 */
function corridor(seed: number, nImg: number, ptsPerImg: number) {
  const g = rng(seed);
  const params = [800, 500, 400, -0.03];
  const truth = Array.from({ length: nImg }, (_, i) => {
    const R = expSO3([0.02 * g.normal(), 0.05 * Math.sin(i), 0.02 * g.normal()]);
    const C = [0.5 * i, 0.2 * Math.sin(0.7 * i), 0.3 * Math.cos(0.3 * i)];
    return { R, t: [0, 1, 2].map((r) => -(R[3 * r]! * C[0]! + R[3 * r + 1]! * C[1]! + R[3 * r + 2]! * C[2]!)) };
  });
  const nPts = nImg * ptsPerImg;
  const pts = new Float64Array(3 * nPts);
  for (let p = 0; p < nPts; p++) pts.set([g.uniform(-3, 0.5 * nImg + 3), g.uniform(-2, 2), g.uniform(4, 7)], 3 * p);
  const shuffle = Array.from({ length: nImg }, (_, i) => i).sort(() => g.uniform() - 0.5);
  const observations: BAProblem['observations'] = [];
  const cam = { id: 1, model: 'SIMPLE_RADIAL' as const, width: 1000, height: 800, params };
  for (let p = 0; p < nPts; p++) for (let k = 0; k < nImg; k++) {
    const { R, t } = truth[shuffle[k]!]!;
    const Xc = [0, 1, 2].map((r) => R[3 * r]! * pts[3 * p]! + R[3 * r + 1]! * pts[3 * p + 1]! + R[3 * r + 2]! * pts[3 * p + 2]! + t[r]!);
    // inside the field of view before distortion (far outside, the radial polynomial folds back in)
    const uv = Xc[2]! > 0.5 && Math.abs(Xc[0]! / Xc[2]!) < 0.6 && Math.abs(Xc[1]! / Xc[2]!) < 0.45 ? projectPoint(cam, Xc) : null;
    if (uv && uv[0] >= 0 && uv[0] < 1000 && uv[1] >= 0 && uv[1] < 800) observations.push({ image: k, point: p, x: uv[0] + 0.3 * g.normal(), y: uv[1] + 0.3 * g.normal() });
  }
  // a point seen once is not a bundle-adjustment point (its block is singular without damping)
  const views = new Int32Array(nPts);
  for (const o of observations) views[o.point]!++;
  const kept = observations.filter((o) => views[o.point]! >= 2);
  const problem = (): BAProblem => {
    const h = rng(seed + 1);
    return {
      cameras: [{ model: 'SIMPLE_RADIAL', params: Float64Array.from([820, 500, 400, 0]), refineFocal: true, refinePrincipalPoint: false, refineDistortion: true }],
      images: shuffle.map((i, k) => {
        const fixed = k === 0, R = fixed ? truth[i]!.R : matMul3(expSO3([h.normal() * 0.003, h.normal() * 0.003, h.normal() * 0.003]), truth[i]!.R);
        return { camera: 0, q: Float64Array.from(matToQuat(R)), t: Float64Array.from(truth[i]!.t.map((v) => (fixed ? v : v + 0.02 * h.normal()))), fixed, fixTranslationScale: k === 1 };
      }),
      points: pts.map((v) => v + 0.02 * h.normal()),
      observations: kept.map((o) => ({ ...o })),
    };
  };
  return { truth, shuffle, problem };
}

describe('bundleAdjust on a long sequence (envelope solver)', () => {
  it('gives the dense solver\'s solution to 1e-6 relative, ordering the shuffled images itself', () => {
    const c = corridor(21, 60, 40);
    const pd = c.problem(), pe = c.problem();
    const rd = bundleAdjust(pd, { solver: 'dense', loss: 'cauchy', maxIterations: 30, functionTolerance: 1e-10 });
    const re = bundleAdjust(pe, { solver: 'envelope', loss: 'cauchy', maxIterations: 30, functionTolerance: 1e-10 });
    expect(rd.finalRmse).toBeLessThan(0.5);
    expect(re.iterations).toBe(rd.iterations);
    expect(Math.abs(re.finalCost / rd.finalCost - 1)).toBeLessThan(1e-6);
    expect(Math.abs(pe.cameras[0]!.params[0]! / pd.cameras[0]!.params[0]! - 1)).toBeLessThan(1e-6);
    let dx = 0, nx = 0;
    for (let k = 0; k < pd.points.length; k++) { dx = Math.max(dx, Math.abs(pe.points[k]! - pd.points[k]!)); nx = Math.max(nx, Math.abs(pd.points[k]!)); }
    expect(dx / nx).toBeLessThan(1e-6);
    pd.images.forEach((im, k) => {
      expect(rotationDistanceDeg(quatToMat(Array.from(pe.images[k]!.q)), quatToMat(Array.from(im.q)))).toBeLessThan(1e-6);
      // and both are the truth, to the noise
      expect(rotationDistanceDeg(quatToMat(Array.from(im.q)), c.truth[c.shuffle[k]!]!.R)).toBeLessThan(0.5);
    });
  });

  it('reports the same intrinsic standard deviations as the dense solver', () => {
    const c = corridor(22, 40, 30);
    const sd = bundleAdjust(c.problem(), { solver: 'dense', maxIterations: 10, intrinsicStd: true }).intrinsicStd![0]!;
    const se = bundleAdjust(c.problem(), { solver: 'envelope', maxIterations: 10, intrinsicStd: true }).intrinsicStd![0]!;
    for (const k of [0, 3]) { expect(sd[k]!).toBeGreaterThan(0); expect(Math.abs(se[k]! / sd[k]! - 1)).toBeLessThan(1e-6); }
  });
});
