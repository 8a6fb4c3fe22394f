/**
 * Absolute pose (x_cam = R X + t) from 2D–3D correspondences: Grunert's P3P (quartic in the ratio of
 * depths) inside LO-RANSAC, then Levenberg–Marquardt on the reprojection error of the inliers.
 */
import type { Camera } from '../core/camera.js';
import { meanFocal, unprojectPixel } from './camera-model.js';
import { polyAdd, polyEval, polyMul, realPolyRoots } from './linalg.js';
import { loRansac, solveSmall, type RansacOptions, type RansacResult } from './ransac.js';
import { expSO3, matMul3 } from './rotation.js';
import { umeyama } from './umeyama.js';

export interface Pose { R: number[]; t: number[] }

/**
 * P3P: up to four poses from three world points X (9 numbers) and their normalised image points
 * x (6 numbers). Solves Grunert's system for the depth ratios u = s2/s1, v = s3/s1.
 */
export function p3p(X: ArrayLike<number>, x: ArrayLike<number>): Pose[] {
  const f: number[][] = [];
  for (let i = 0; i < 3; i++) {
    const b = [x[2 * i]!, x[2 * i + 1]!, 1], n = Math.hypot(b[0]!, b[1]!, 1);
    f.push(b.map((v) => v / n));
  }
  const P = [0, 1, 2].map((i) => [X[3 * i]!, X[3 * i + 1]!, X[3 * i + 2]!]);
  const d2 = (p: number[], q: number[]) => (p[0]! - q[0]!) ** 2 + (p[1]! - q[1]!) ** 2 + (p[2]! - q[2]!) ** 2;
  const dot = (p: number[], q: number[]) => p[0]! * q[0]! + p[1]! * q[1]! + p[2]! * q[2]!;
  const a2 = d2(P[1]!, P[2]!), b2 = d2(P[0]!, P[2]!), c2 = d2(P[0]!, P[1]!);
  if (!(a2 > 0 && b2 > 0 && c2 > 0)) return [];
  const ca = dot(f[1]!, f[2]!), cb = dot(f[0]!, f[2]!), cg = dot(f[0]!, f[1]!);
  const K1 = (a2 - c2) / b2;
  // u·D = N with N(v) = K1 (1 + v² − 2v cosβ) + 1 − v², D(v) = 2 (cosγ − v cosα); Q(v) = 1 + v² − 2v cosβ.
  const N = [K1 + 1, -2 * K1 * cb, K1 - 1];
  const D = [2 * cg, -2 * ca];
  const Q = [1, -2 * cb, 1];
  const D2 = polyMul(D, D);
  // 1 + u² − 2u cosγ = (c²/b²) Q, times D²: D² + N² − 2 cosγ N D − (c²/b²) Q D² = 0.
  let quartic = polyAdd(D2, polyMul(N, N));
  quartic = polyAdd(quartic, polyMul(N, D), -2 * cg);
  quartic = polyAdd(quartic, polyMul(Q, D2), -c2 / b2);
  const out: Pose[] = [];
  for (const v of realPolyRoots(quartic)) {
    const dv = polyEval(D, v), q = polyEval(Q, v);
    if (!(v > 0) || !(q > 0) || Math.abs(dv) < 1e-14) continue;
    const u = polyEval(N, v) / dv;
    if (!(u > 0)) continue;
    const s1 = Math.sqrt(b2 / q), s2 = u * s1, s3 = v * s1;
    const C = [f[0]!.map((c) => c * s1), f[1]!.map((c) => c * s2), f[2]!.map((c) => c * s3)];
    const sim = umeyama(P, C, false);
    if (sim.R.every(Number.isFinite) && sim.t.every(Number.isFinite)) out.push({ R: sim.R, t: sim.t });
  }
  return out;
}

/** Squared reprojection errors (normalised coordinates) of a pose; Infinity behind the camera. */
function reprojErrors(pose: Pose, X: Float64Array, xn: Float64Array, out: Float64Array): void {
  const R = pose.R, t = pose.t, n = out.length;
  for (let i = 0; i < n; i++) {
    const x0 = X[3 * i]!, x1 = X[3 * i + 1]!, x2 = X[3 * i + 2]!;
    const z = R[6]! * x0 + R[7]! * x1 + R[8]! * x2 + t[2]!;
    if (!(z > 1e-12)) { out[i] = Infinity; continue; }
    const u = (R[0]! * x0 + R[1]! * x1 + R[2]! * x2 + t[0]!) / z - xn[2 * i]!;
    const v = (R[3]! * x0 + R[4]! * x1 + R[5]! * x2 + t[1]!) / z - xn[2 * i + 1]!;
    out[i] = u * u + v * v;
  }
}

/**
 * Levenberg–Marquardt on the reprojection error (normalised coordinates) over the six pose
 * parameters (rotation as a left so(3) increment), with an analytic Jacobian.
 */
export function refinePose(pose: Pose, X: Float64Array, xn: Float64Array, idx: ArrayLike<number>, iterations = 20): Pose {
  let R = pose.R.slice(), t = pose.t.slice();
  const m = idx.length;
  const costOf = (R: number[], t: number[]) => {
    let c = 0;
    for (let k = 0; k < m; k++) {
      const i = idx[k]!;
      const x0 = X[3 * i]!, x1 = X[3 * i + 1]!, x2 = X[3 * i + 2]!;
      const z = R[6]! * x0 + R[7]! * x1 + R[8]! * x2 + t[2]!;
      if (!(z > 1e-12)) return Infinity;
      const u = (R[0]! * x0 + R[1]! * x1 + R[2]! * x2 + t[0]!) / z - xn[2 * i]!;
      const v = (R[3]! * x0 + R[4]! * x1 + R[5]! * x2 + t[1]!) / z - xn[2 * i + 1]!;
      c += u * u + v * v;
    }
    return c;
  };
  let cost = costOf(R, t), lambda = 1e-4;
  if (!Number.isFinite(cost)) return pose;
  const H = new Float64Array(36), g = new Float64Array(6), Ju = new Float64Array(6), Jv = new Float64Array(6);
  for (let it = 0; it < iterations; it++) {
    H.fill(0); g.fill(0);
    for (let k = 0; k < m; k++) {
      const i = idx[k]!;
      const x0 = X[3 * i]!, x1 = X[3 * i + 1]!, x2 = X[3 * i + 2]!;
      // Rotated point (without t): d(exp(ω)·R X)/dω = −[R X]×.
      const r0 = R[0]! * x0 + R[1]! * x1 + R[2]! * x2, r1 = R[3]! * x0 + R[4]! * x1 + R[5]! * x2, r2 = R[6]! * x0 + R[7]! * x1 + R[8]! * x2;
      const X0 = r0 + t[0]!, X1 = r1 + t[1]!, Z = r2 + t[2]!;
      const iz = 1 / Z, u = X0 * iz, v = X1 * iz;
      const eu = u - xn[2 * i]!, ev = v - xn[2 * i + 1]!;
      // du/dXc = [iz, 0, −u·iz], dv/dXc = [0, iz, −v·iz]; dXc/dω = [[0, r2, −r1], [−r2, 0, r0], [r1, −r0, 0]].
      Ju[0] = iz * 0 - u * iz * r1; Ju[1] = iz * r2 - u * iz * -r0; Ju[2] = iz * -r1 - u * iz * 0;
      Jv[0] = iz * -r2 - v * iz * r1; Jv[1] = iz * 0 - v * iz * -r0; Jv[2] = iz * r0 - v * iz * 0;
      Ju[3] = iz; Ju[4] = 0; Ju[5] = -u * iz;
      Jv[3] = 0; Jv[4] = iz; Jv[5] = -v * iz;
      for (let a = 0; a < 6; a++) {
        g[a]! -= Ju[a]! * eu + Jv[a]! * ev;
        for (let b = a; b < 6; b++) H[a * 6 + b]! += Ju[a]! * Ju[b]! + Jv[a]! * Jv[b]!;
      }
    }
    for (let a = 0; a < 6; a++) for (let b = 0; b < a; b++) H[a * 6 + b] = H[b * 6 + a]!;
    let accepted = false;
    for (let tries = 0; tries < 8 && !accepted; tries++) {
      const A = H.slice(), b = g.slice();
      for (let a = 0; a < 6; a++) A[a * 6 + a]! += lambda * Math.max(H[a * 6 + a]!, 1e-12);
      if (!solveSmall(A, b, 6)) { lambda *= 10; continue; }
      const Rn = matMul3(expSO3([b[0]!, b[1]!, b[2]!]), R);
      // Translation increment: t' = exp(ω) applied to the rotated part, so t moves by b[3..5] directly.
      const tn = [t[0]! + b[3]!, t[1]! + b[4]!, t[2]! + b[5]!];
      const nc = costOf(Rn, tn);
      if (nc < cost) {
        const rel = (cost - nc) / Math.max(cost, 1e-300);
        R = Rn; t = tn; cost = nc; lambda = Math.max(1e-12, lambda / 10); accepted = true;
        if (rel < 1e-12) it = iterations;
      } else lambda *= 10;
    }
    if (!accepted) break;
  }
  return { R, t };
}

/**
 * P3P inside LO-RANSAC, then LM refinement on the inliers. X: world points (3N), x: pixels (2N);
 * maxError: reprojection error in pixels.
 */
export function estimatePnP(X: Float64Array, x: Float64Array, cam: Camera, opts: RansacOptions): (RansacResult<null> & { R: number[]; t: number[] }) | null {
  const n = Math.min(X.length / 3, x.length / 2);
  if (n < 4) return null;
  const xn = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) { const p = unprojectPixel(cam, x[2 * i]!, x[2 * i + 1]!); xn[2 * i] = p[0]; xn[2 * i + 1] = p[1]; }
  const th = opts.maxError / meanFocal(cam);
  const Xs = new Float64Array(9), xs = new Float64Array(6);
  const res = loRansac<Pose>({
    n,
    sampleSize: 3,
    minimal: (idx) => {
      for (let k = 0; k < 3; k++) {
        const i = idx[k]!;
        Xs[3 * k] = X[3 * i]!; Xs[3 * k + 1] = X[3 * i + 1]!; Xs[3 * k + 2] = X[3 * i + 2]!;
        xs[2 * k] = xn[2 * i]!; xs[2 * k + 1] = xn[2 * i + 1]!;
      }
      return p3p(Xs, xs);
    },
    nonMinimal: (idx, from) => [refinePose(from, X, xn, idx, 5)],
    residuals: (pose, out) => reprojErrors(pose, X, xn, out),
  }, th * th, { ...opts, minIterations: opts.minIterations ?? 30 });
  if (!res) return null;
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (res.inliers[i]) idx.push(i);
  const pose = refinePose(res.model, X, xn, idx, 30);
  const err = new Float64Array(n);
  reprojErrors(pose, X, xn, err);
  const inliers = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) if (err[i]! < th * th) { inliers[i] = 1; count++; }
  return { model: null, inliers, numInliers: count, iterations: res.iterations, R: pose.R, t: pose.t };
}
