/**
 * Timing of the geometry kernels on synthetic data (not a test: numbers depend on the machine).
 *   npx tsx bench/_geometry-micro.ts [ba|ransac|fountain|all|real]   (real: opencv-js AKAZE on fountain-P11 pairs)
 * BA: 11 images × 20k points × ~80k observations, SIMPLE_RADIAL with focal/pp/k refinement.
 */
import { bundleAdjust, type BAProblem } from '../src/sfm/bundle.js';
import { projectPoint } from '../src/geometry/camera-model.js';
import { expSO3, matMul3, matToQuat, rotationDistanceDeg, transpose3 } from '../src/geometry/rotation.js';
import { makeRng, estimateEssential } from '../src/geometry/ransac.js';
import { estimatePnP } from '../src/geometry/pnp.js';
import { emptyModel } from '../src/core/sparse-model.js';
import { type Camera } from '../src/core/camera.js';
import { evaluatePoses, loadGroundTruthW2C, nearestRotation } from '../src/eval/poses.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * fountain-P11 geometry: GT cameras, ~20k random points on a surface in front of them seen with
 * 0.5 px noise; BA from perturbed poses and a 2 % focal error, then pose errors via evaluatePoses.
 */
function benchFountain() {
  const gtFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/datasets/strecha_fountain-P11/gt/cameras_w2c.json');
  const gt = loadGroundTruthW2C(gtFile);
  const names = [...gt.keys()];
  const K = gt.get(names[0]!)!.K;
  const fx = K[0]!, fy = K[4]!, cx = K[2]!, cy = K[5]!;
  const cam: Camera = { id: 1, model: 'PINHOLE', width: 3072, height: 2048, params: [fx, fy, cx, cy] };
  // Points: back-project random pixels of random images to depths 6–14 m.
  const nPts = 20000, pts = new Float64Array(3 * nPts);
  const obs: BAProblem['observations'] = [];
  const cams = names.map((n) => gt.get(n)!);
  for (let p = 0; p < nPts; p++) {
    const c = cams[p % cams.length]!;
    const u = U(0, 3072), v = U(0, 2048), d = U(6, 14);
    const Xc = [((u - cx) / fx) * d, ((v - cy) / fy) * d, d];
    // X = Rᵀ (Xc − t)
    const X = [0, 1, 2].map((k) => c.R[k]! * (Xc[0]! - c.t[0]!) + c.R[3 + k]! * (Xc[1]! - c.t[1]!) + c.R[6 + k]! * (Xc[2]! - c.t[2]!));
    pts.set(X, 3 * p);
    cams.forEach((ci, i) => {
      const Y = [0, 1, 2].map((k) => ci.R[3 * k]! * X[0]! + ci.R[3 * k + 1]! * X[1]! + ci.R[3 * k + 2]! * X[2]! + ci.t[k]!);
      const uv = projectPoint(cam, Y);
      // Keep ~40 % of visible observations (matching never finds all).
      if (uv && uv[0] >= 0 && uv[0] < 3072 && uv[1] >= 0 && uv[1] < 2048 && (i === p % cams.length || rnd() < 0.4)) obs.push({ image: i, point: p, x: uv[0] + 0.5 * N(), y: uv[1] + 0.5 * N() });
    });
  }
  for (const refine of [false, true]) {
    const prob: BAProblem = {
      cameras: [{ model: 'PINHOLE', params: Float64Array.from(refine ? [fx * 1.02, fy * 1.02, cx + 10, cy - 10] : [fx, fy, cx, cy]), refineFocal: refine, refinePrincipalPoint: refine, refineDistortion: false }],
      images: cams.map((c, i) => ({ camera: 0, q: Float64Array.from(matToQuat(i ? matMul3(expSO3([N() * 0.003, N() * 0.003, N() * 0.003]), nearestRotation(c.R)) : nearestRotation(c.R))), t: Float64Array.from(i > 1 ? c.t.map((v) => v + 0.02 * N()) : c.t), fixed: i === 0, fixTranslationScale: i === 1 })),
      points: pts.map((v) => v + 0.02 * N()),
      observations: obs,
    };
    const t0 = performance.now();
    const rep = bundleAdjust(prob, { loss: 'trivial', functionTolerance: Number(process.env.FTOL ?? 1e-6) });
    const ms = performance.now() - t0;
    const model = emptyModel();
    model.cameras.set(1, { ...cam, params: Array.from(prob.cameras[0]!.params) });
    names.forEach((n, i) => model.images.set(i + 1, { id: i + 1, cameraId: 1, name: n, qvec: Array.from(prob.images[i]!.q) as [number, number, number, number], tvec: Array.from(prob.images[i]!.t) as [number, number, number], xys: new Float64Array(), point3DIds: [] }));
    const ev = evaluatePoses(model, gt);
    console.log(`fountain synthetic BA (${refine ? 'focal+pp refined' : 'GT intrinsics'}): ${obs.length} obs, ${ms.toFixed(0)} ms, ${rep.iterations} it, rmse ${rep.finalRmse.toFixed(3)} px, rot err mean ${ev.rotErrDeg.mean.toFixed(4)}° max ${ev.rotErrDeg.max.toFixed(4)}°, centre err mean ${(ev.centerErr.mean * 1000).toFixed(2)} mm, focal err ${(100 * Math.abs(prob.cameras[0]!.params[0]! - fx) / fx).toFixed(3)} %, pp (${(prob.cameras[0]!.params[2]! - cx).toFixed(2)}, ${(prob.cameras[0]!.params[3]! - cy).toFixed(2)}) px`);
  }
}

/** Real matches (opencv-js AKAZE at 1600 px, ratio 0.8) on fountain-P11 pairs: two-view E vs GT. */
async function benchRealPairs() {
  const sharp = (await import('sharp')).default;
  const mod = await import('@techstark/opencv-js');
  const cv = (mod as unknown as { default?: any }).default ?? (mod as any);
  if (!cv.Mat) await new Promise((r) => { cv.onRuntimeInitialized = r; });
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/datasets/strecha_fountain-P11/');
  const gt = loadGroundTruthW2C(path.join(dir, 'gt/cameras_w2c.json'));
  const feats = async (name: string) => {
    const W = 3072, H = 2048, w = 1600, h = Math.round((H * w) / W);
    const grey = await sharp(path.join(dir, 'images', name)).resize(w, h, { fit: 'fill' }).greyscale().raw().toBuffer();
    const mat = cv.matFromArray(h, w, cv.CV_8UC1, grey);
    const kps = new cv.KeyPointVector(), desc = new cv.Mat(), det = new cv.AKAZE();
    det.setThreshold(0.0005);
    det.detectAndCompute(mat, new cv.Mat(), kps, desc);
    const pts: number[][] = [];
    for (let i = 0; i < kps.size(); i++) { const p = kps.get(i).pt; pts.push([((p.x + 0.5) * W) / w, ((p.y + 0.5) * H) / h]); }
    return { pts, desc };
  };
  const cache = new Map<string, Awaited<ReturnType<typeof feats>>>();
  for (const [a, b] of [['0000.jpg', '0001.jpg'], ['0004.jpg', '0005.jpg'], ['0000.jpg', '0003.jpg']] as const) {
    for (const n of [a, b]) if (!cache.has(n)) cache.set(n, await feats(n));
    const fa = cache.get(a)!, fb = cache.get(b)!;
    const bf = new cv.BFMatcher(cv.NORM_HAMMING, false), mm = new cv.DMatchVectorVector();
    bf.knnMatch(fa.desc, fb.desc, mm, 2);
    const x1: number[] = [], x2: number[] = [];
    for (let i = 0; i < mm.size(); i++) {
      const m = mm.get(i);
      if (m.size() < 2) continue;
      const m0 = m.get(0), m1 = m.get(1);
      if (m0.distance < 0.8 * m1.distance) { x1.push(...fa.pts[m0.queryIdx]!); x2.push(...fb.pts[m0.trainIdx]!); }
    }
    const ga = gt.get(a)!, gb = gt.get(b)!;
    const c: Camera = { id: 1, model: 'PINHOLE', width: 3072, height: 2048, params: [ga.K[0]!, ga.K[4]!, ga.K[2]!, ga.K[5]!] };
    const t0 = performance.now();
    const r = estimateEssential(Float64Array.from(x1), Float64Array.from(x2), c, c, { maxError: 2, seed: 1 })!;
    const ms = performance.now() - t0;
    const Rrel = matMul3(gb.R, transpose3(ga.R));
    const tr = [0, 1, 2].map((k) => gb.t[k]! - (Rrel[3 * k]! * ga.t[0]! + Rrel[3 * k + 1]! * ga.t[1]! + Rrel[3 * k + 2]! * ga.t[2]!));
    const tAng = (Math.acos(Math.min(1, (r.t[0]! * tr[0]! + r.t[1]! * tr[1]! + r.t[2]! * tr[2]!) / Math.hypot(...tr))) * 180) / Math.PI;
    console.log(`real ${a}-${b}: ${x1.length / 2} matches, ${r.numInliers} inliers, ${r.iterations} it, ${ms.toFixed(0)} ms, rotation error ${rotationDistanceDeg(r.R, Rrel).toFixed(4)}°, translation direction error ${tAng.toFixed(3)}°`);
  }
}

const what = process.argv[2] ?? 'all';
if (what === 'real') await benchRealPairs();
if (what === 'fountain' || what === 'all') benchFountain();
if (what === 'ba' || what === 'all') benchBA();
if (what === 'ransac' || what === 'all') benchRansac();
