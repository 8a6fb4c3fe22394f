/**
 * Timing of the geometry kernels on synthetic data (not a test: numbers depend on the machine).
 *   npx tsx bench/geometry-bench.ts [ba|ransac|all]
 * BA: 11 images × 20k points × ~80k observations, SIMPLE_RADIAL with focal/pp/k refinement.
 */
import { bundleAdjust, type BAProblem } from '../src/sfm/bundle.js';
import { projectPoint } from '../src/geometry/camera-model.js';
import { expSO3, matMul3, matToQuat } from '../src/geometry/rotation.js';
import { makeRng, estimateEssential } from '../src/geometry/ransac.js';
import { estimatePnP } from '../src/geometry/pnp.js';
import type { Camera } from '../src/io/colmap-model.js';

const rnd = makeRng(7);
const U = (a: number, b: number) => a + (b - a) * rnd();
const N = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
const cam: Camera = { id: 1, model: 'SIMPLE_RADIAL', width: 3072, height: 2048, params: [2760, 1536, 1024, -0.03] };

function scene(nImg: number, nPts: number) {
  const ims: Array<{ R: number[]; t: number[] }> = [];
  for (let i = 0; i < nImg; i++) {
    const a = (i - (nImg - 1) / 2) * 0.12;
    const C = [10 * Math.sin(a), 0.5 * Math.sin(2 * i), -10 * Math.cos(a)];
    const R = matMul3(expSO3([U(-0.05, 0.05), U(-0.05, 0.05), U(-0.1, 0.1)]), expSO3([0, a, 0]));
    ims.push({ R, t: [0, 1, 2].map((k) => -(R[3 * k]! * C[0]! + R[3 * k + 1]! * C[1]! + R[3 * k + 2]! * C[2]!)) });
  }
  const pts = new Float64Array(3 * nPts);
  for (let k = 0; k < 3 * nPts; k++) pts[k] = U(-2, 2);
  return { ims, pts };
}

function benchBA() {
  const nImg = 11, nPts = 20000;
  const { ims, pts } = scene(nImg, nPts);
  const obs: BAProblem['observations'] = [];
  for (let p = 0; p < nPts; p++) {
    // Tracks of 3–5 consecutive images: ~80k observations.
    const len = 3 + (p % 3), first = p % (nImg - len + 1);
    for (let i = first; i < first + len; i++) {
      const X = pts.subarray(3 * p, 3 * p + 3), { R, t } = ims[i]!;
      const Xc = [0, 1, 2].map((k) => R[3 * k]! * X[0]! + R[3 * k + 1]! * X[1]! + R[3 * k + 2]! * X[2]! + t[k]!);
      const uv = projectPoint(cam, Xc);
      if (uv && uv[0] >= 0 && uv[0] < 3072 && uv[1] >= 0 && uv[1] < 2048) obs.push({ image: i, point: p, x: uv[0] + 0.5 * N(), y: uv[1] + 0.5 * N() });
    }
  }
  const prob: BAProblem = {
    cameras: [{ model: 'SIMPLE_RADIAL', params: Float64Array.from([2760 * 1.01, 1536, 1024, 0]), refineFocal: true, refinePrincipalPoint: true, refineDistortion: true }],
    images: ims.map((im, i) => ({ camera: 0, q: Float64Array.from(matToQuat(i ? matMul3(expSO3([N() * 0.002, N() * 0.002, N() * 0.002]), im.R) : im.R)), t: Float64Array.from(i > 1 ? im.t.map((v) => v + 0.01 * N()) : im.t), fixed: i === 0, fixTranslationScale: i === 1 })),
    points: pts.map((v) => v + 0.01 * N()),
    observations: obs,
  };
  const t0 = performance.now();
  let last = t0;
  const rep = bundleAdjust(prob, { loss: 'cauchy', lossScale: 2, onIteration: (it, c) => { const now = performance.now(); console.log(`  it ${it} cost ${c.toFixed(2)} ${(now - last).toFixed(0)} ms`); last = now; } });
  const ms = performance.now() - t0;
  console.log(`BA ${nImg} images, ${nPts} points, ${obs.length} observations: ${ms.toFixed(0)} ms, ${rep.iterations} iterations (${(ms / Math.max(1, rep.iterations)).toFixed(0)} ms/iteration), rmse ${rep.initialRmse.toFixed(2)} → ${rep.finalRmse.toFixed(3)} px, f ${prob.cameras[0]!.params[0]!.toFixed(2)}`);
}

function benchRansac() {
  const { ims, pts } = scene(2, 3000);
  const x1: number[] = [], x2: number[] = [], X: number[] = [];
  for (let p = 0; p < 3000; p++) {
    const P = pts.subarray(3 * p, 3 * p + 3);
    const uv = ims.map(({ R, t }) => projectPoint(cam, [0, 1, 2].map((k) => R[3 * k]! * P[0]! + R[3 * k + 1]! * P[1]! + R[3 * k + 2]! * P[2]! + t[k]!)));
    if (!uv[0] || !uv[1]) continue;
    const out = rnd() < 0.4;
    x1.push(uv[0][0] + 0.7 * N(), uv[0][1] + 0.7 * N());
    x2.push(out ? U(0, 3072) : uv[1][0] + 0.7 * N(), out ? U(0, 2048) : uv[1][1] + 0.7 * N());
    X.push(P[0]!, P[1]!, P[2]!);
  }
  estimateEssential(Float64Array.from(x1), Float64Array.from(x2), cam, cam, { maxError: 4, seed: 2 }); // warm-up (JIT)
  let t0 = performance.now();
  const e = estimateEssential(Float64Array.from(x1), Float64Array.from(x2), cam, cam, { maxError: 4, seed: 1 })!;
  console.log(`essential RANSAC ${x1.length / 2} matches (40 % outliers): ${(performance.now() - t0).toFixed(0)} ms, ${e.iterations} iterations, ${e.numInliers} inliers`);
  t0 = performance.now();
  const p = estimatePnP(Float64Array.from(X), Float64Array.from(x2), cam, { maxError: 4, seed: 1 })!;
  console.log(`PnP RANSAC ${X.length / 3} matches (40 % outliers): ${(performance.now() - t0).toFixed(0)} ms, ${p.iterations} iterations, ${p.numInliers} inliers`);
}

const what = process.argv[2] ?? 'all';
if (what === 'ba' || what === 'all') benchBA();
if (what === 'ransac' || what === 'all') benchRansac();
