/**
 * Bundle adjustment: Levenberg–Marquardt over camera poses, shared intrinsics and 3D points, with
 * the points eliminated by the Schur complement (reduced camera system solved by dense Cholesky for
 * small problems, by envelope Cholesky in a bandwidth-reducing image order for large ones:
 * schur-envelope.ts), analytic Jacobians, optional per-observation weights (1/σ²), and a robust
 * loss (Huber / Cauchy) on the weighted residual applied by iteratively reweighted least squares. Poses are world-to-camera (COLMAP): x_cam = R X + t;
 * rotations are updated on the left, R ← exp(δω) R.
 * (Over 400 lines on purpose: one LM solver whose normal-equation build, Schur elimination and
 * covariance share index layouts; the projection Jacobians are already in projection-jacobian.ts.)
 */
import type { CameraModelName } from '../core/camera.js';
import { JAC_INTR, JAC_STRIDE, MAX_PARAMS, projectWithJacobian, refinedParams } from './projection-jacobian.js';
import { choleskySolve, envelopeCholesky, envelopeSolve, invert3 } from '../geometry/linalg.js';
import { expSO3, matToQuat, quatToMat } from '../geometry/rotation.js';
import { schurLayout, type SchurSolver } from './schur-envelope.js';

export { JAC_STRIDE, projectWithJacobian } from './projection-jacobian.js';

export interface BACamera { model: CameraModelName; params: Float64Array; refineFocal: boolean; refinePrincipalPoint: boolean; refineDistortion: boolean }
export interface BAImage { camera: number; q: Float64Array /* wxyz w2c */; t: Float64Array; fixed: boolean; fixTranslationScale?: boolean }
export interface BAObservation {
  image: number; point: number; x: number; y: number;
  /**
   * information weight 1/σ² (σ in units of a reference keypoint's): multiplies the squared residual
   * before the robust loss, so the loss scale is in pixels of a weight-1 observation; default 1
   */
  weight?: number;
}
export interface BAProblem { cameras: BACamera[]; images: BAImage[]; points: Float64Array /* 3N */; fixedPoints?: Uint8Array; observations: BAObservation[] }
export interface BAOptions {
  maxIterations?: number; loss?: 'trivial' | 'huber' | 'cauchy'; lossScale?: number /* px */; functionTolerance?: number; onIteration?: (it: number, cost: number) => void;
  /** also report the standard deviation of each refined intrinsic at the solution (poses and points marginalised) */
  intrinsicStd?: boolean;
  /** reduced camera system solver; 'auto' (default) picks by size and sparsity — same solution either way */
  solver?: SchurSolver;
}
export interface BAReport {
  initialCost: number; finalCost: number; iterations: number; initialRmse: number; finalRmse: number; converged: boolean;
  /** per camera, per parameter: standard deviation (parameter units), NaN where not refined; with `intrinsicStd` */
  intrinsicStd?: Float64Array[];
}

/** ρ(s) of the squared residual norm s, scale² d2. */
function rho(loss: 'trivial' | 'huber' | 'cauchy', d2: number, s: number): number {
  if (loss === 'huber') return s <= d2 ? s : 2 * Math.sqrt(d2 * s) - d2;
  if (loss === 'cauchy') return d2 * Math.log1p(s / d2);
  return s;
}
/** IRLS weight ρ'(s). */
function rhoWeight(loss: 'trivial' | 'huber' | 'cauchy', d2: number, s: number): number {
  if (loss === 'huber') return s <= d2 ? 1 : Math.sqrt(d2 / s);
  if (loss === 'cauchy') return 1 / (1 + s / d2);
  return 1;
}


export function bundleAdjust(problem: BAProblem, opts: BAOptions = {}): BAReport {
  const { cameras, images, points, observations } = problem;
  const maxIterations = opts.maxIterations ?? 100;
  const loss = opts.loss ?? 'trivial';
  const d2 = (opts.lossScale ?? 1) ** 2;
  const ftol = opts.functionTolerance ?? 1e-6;
  const nObs = observations.length, nPts = points.length / 3, nImg = images.length;
  // Index errors are programming errors of the caller: fail loudly rather than read garbage.
  for (const im of images) if (!(im.camera >= 0 && im.camera < cameras.length)) throw new Error(`bundleAdjust: image refers to camera ${im.camera} of ${cameras.length}`);
  for (const ob of observations) {
    if (!(ob.image >= 0 && ob.image < nImg && ob.point >= 0 && ob.point < nPts)) throw new Error(`bundleAdjust: observation (image ${ob.image}, point ${ob.point}) out of range (${nImg} images, ${nPts} points)`);
    if (ob.weight !== undefined && !(ob.weight > 0 && ob.weight < Infinity)) throw new Error(`bundleAdjust: observation weight ${ob.weight} is not positive and finite`);
  }

  // ---- parameter layout on the camera side
  const R = new Float64Array(9 * nImg), T = new Float64Array(3 * nImg);
  images.forEach((im, i) => { R.set(quatToMat(Array.from(im.q)), 9 * i); T.set(im.t, 3 * i); });
  const poseSize = new Int32Array(nImg);
  images.forEach((im, i) => { if (!im.fixed) poseSize[i] = im.fixTranslationScale ? 5 : 6; });
  const camRefined = cameras.map(refinedParams);
  const camUsed = new Uint8Array(cameras.length);
  for (const ob of observations) camUsed[images[ob.image]!.camera] = 1;
  const camSize = Int32Array.from(camRefined, (r, c) => (camUsed[c] ? r.length : 0));
  // camera-side columns of one observation: the per-observation arrays below are strided by it, so
  // a problem refining no or few intrinsics does not allocate (and stream through) MAX_PARAMS columns
  const MAXC = 6 + camSize.reduce((m, k) => Math.max(m, k), 0);
  // Tangent bases for images whose translation norm is fixed.
  const tanB = new Float64Array(6 * nImg);
  const setTangent = (i: number) => {
    const t0 = T[3 * i]!, t1 = T[3 * i + 1]!, t2 = T[3 * i + 2]!, n = Math.hypot(t0, t1, t2) || 1;
    const e = [t0 / n, t1 / n, t2 / n];
    const aux = Math.abs(e[0]!) < 0.9 ? [1, 0, 0] : [0, 1, 0];
    let b1 = [e[1]! * aux[2]! - e[2]! * aux[1]!, e[2]! * aux[0]! - e[0]! * aux[2]!, e[0]! * aux[1]! - e[1]! * aux[0]!];
    const nb = Math.hypot(b1[0]!, b1[1]!, b1[2]!); b1 = b1.map((v) => v / nb);
    const b2 = [e[1]! * b1[2]! - e[2]! * b1[1]!, e[2]! * b1[0]! - e[0]! * b1[2]!, e[0]! * b1[1]! - e[1]! * b1[0]!];
    tanB.set([...b1, ...b2], 6 * i);
  };

  // ---- observations grouped by point (CSR)
  const obsImg = new Int32Array(nObs), obsPt = new Int32Array(nObs), obsXY = new Float64Array(2 * nObs);
  const obsW = new Float64Array(nObs); // 1 × anything is exact: unweighted problems solve bit-identically
  observations.forEach((ob, o) => { obsImg[o] = ob.image; obsPt[o] = ob.point; obsXY[2 * o] = ob.x; obsXY[2 * o + 1] = ob.y; obsW[o] = ob.weight ?? 1; });
  const ptStart = new Int32Array(nPts + 1);
  for (let o = 0; o < nObs; o++) ptStart[obsPt[o]! + 1]!++;
  for (let p = 0; p < nPts; p++) ptStart[p + 1]! += ptStart[p]!;
  const ptObs = new Int32Array(nObs), fill = ptStart.slice(0, nPts);
  for (let o = 0; o < nObs; o++) ptObs[fill[obsPt[o]!]!++] = o;
  const fixedPt = problem.fixedPoints ?? new Uint8Array(nPts);
  // Column layout of the reduced camera system: element (r, c ≤ r) of A and S lives at rowBase[r] + c.
  const layout = schurLayout(poseSize, Int32Array.from(images, (im) => im.camera), camSize, { ptStart, ptObs, obsImg }, opts.solver);
  const { poseOff, camOff, nc, env } = layout, rowBase = env.base;

  // ---- per-observation storage
  const res = new Float64Array(2 * nObs), wts = new Float64Array(nObs);
  const Jc = new Float64Array(2 * MAXC * nObs), Jp = new Float64Array(6 * nObs);
  const cols = new Int32Array(MAXC * nObs), ncol = new Uint8Array(nObs), npose = new Uint8Array(nObs), obsCam = new Int32Array(nObs);
  const valid = new Uint8Array(nObs);
  const jac = new Float64Array(2 + 2 * JAC_STRIDE);

  /** sq: squared residuals in px² (for the RMSE); sqW: weighted by obsW (for the residual variance) */
  const cost = (Rm: Float64Array, Tm: Float64Array, P: Float64Array, params: Float64Array[]): { cost: number; sq: number; sqW: number; n: number } => {
    let c = 0, sq = 0, sqW = 0, n = 0;
    for (let o = 0; o < nObs; o++) {
      const i = obsImg[o]!, cam = cameras[images[i]!.camera]!;
      if (!projectWithJacobian(cam.model, params[images[i]!.camera]!, Rm, Tm, P, 3 * obsPt[o]!, jac, 9 * i, 3 * i)) continue;
      const du = jac[0]! - obsXY[2 * o]!, dv = jac[1]! - obsXY[2 * o + 1]!, s = du * du + dv * dv;
      const sw = obsW[o]! * s;
      sq += s; sqW += sw; n++;
      c += rho(loss, d2, sw);
    }
    return { cost: 0.5 * c, sq, sqW, n };
  };

  const linearize = () => {
    for (let o = 0; o < nObs; o++) {
      const i = obsImg[o]!, ci = images[i]!.camera, cam = cameras[ci]!;
      valid[o] = projectWithJacobian(cam.model, cam.params, R, T, points, 3 * obsPt[o]!, jac, 9 * i, 3 * i) ? 1 : 0;
      if (!valid[o]) { ncol[o] = 0; npose[o] = 0; wts[o] = 0; continue; }
      const du = jac[0]! - obsXY[2 * o]!, dv = jac[1]! - obsXY[2 * o + 1]!;
      res[2 * o] = du; res[2 * o + 1] = dv;
      wts[o] = obsW[o]! * rhoWeight(loss, d2, obsW[o]! * (du * du + dv * dv));
      const base = 2 * MAXC * o;
      let k = 0;
      const po = poseOff[i]!;
      if (po >= 0) {
        for (let j = 0; j < 3; j++) { Jc[base + k] = jac[2 + j]!; Jc[base + MAXC + k] = jac[2 + JAC_STRIDE + j]!; cols[MAXC * o + k] = po + j; k++; }
        if (poseSize[i] === 6) {
          for (let j = 0; j < 3; j++) { Jc[base + k] = jac[5 + j]!; Jc[base + MAXC + k] = jac[5 + JAC_STRIDE + j]!; cols[MAXC * o + k] = po + 3 + j; k++; }
        } else {
          for (let j = 0; j < 2; j++) {
            const b0 = tanB[6 * i + 3 * j]!, b1 = tanB[6 * i + 3 * j + 1]!, b2 = tanB[6 * i + 3 * j + 2]!;
            Jc[base + k] = jac[5]! * b0 + jac[6]! * b1 + jac[7]! * b2;
            Jc[base + MAXC + k] = jac[5 + JAC_STRIDE]! * b0 + jac[6 + JAC_STRIDE]! * b1 + jac[7 + JAC_STRIDE]! * b2;
            cols[MAXC * o + k] = po + 3 + j; k++;
          }
        }
      }
      npose[o] = k;
      const co = camOff[ci]!;
      if (co >= 0) {
        const rp = camRefined[ci]!;
        for (let j = 0; j < rp.length; j++) {
          Jc[base + k] = jac[2 + JAC_INTR + rp[j]!]!; Jc[base + MAXC + k] = jac[2 + JAC_STRIDE + JAC_INTR + rp[j]!]!;
          cols[MAXC * o + k] = co + j; k++;
        }
      }
      ncol[o] = k;
      obsCam[o] = ci;
      for (let j = 0; j < 3; j++) { Jp[6 * o + j] = jac[8 + j]!; Jp[6 * o + 3 + j] = jac[8 + JAC_STRIDE + j]!; }
    }
  };

  // ---- normal equations pieces that do not depend on λ
  const A = new Float64Array(env.size), gc = new Float64Array(nc);
  const Cp = new Float64Array(9 * nPts), gp = new Float64Array(3 * nPts);
  const Wo = new Float64Array(3 * MAXC * nObs); // Jcᵀ w Jp per observation (ncol × 3)
  const buildNormal = () => {
    A.fill(0); gc.fill(0); Cp.fill(0); gp.fill(0);
    for (let o = 0; o < nObs; o++) {
      if (!valid[o]) continue;
      const w = wts[o]!, k = ncol[o]!, base = 2 * MAXC * o, cb = MAXC * o;
      const ru = res[2 * o]! * w, rv = res[2 * o + 1]! * w;
      for (let a = 0; a < k; a++) {
        const ja = Jc[base + a]!, jb = Jc[base + MAXC + a]!, ga = cols[cb + a]!;
        gc[ga]! += ja * ru + jb * rv;
        const wa = w * ja, wb = w * jb, row = rowBase[ga]!;
        // Columns of one observation increase with b: (ga, gb ≤ ga) is the lower triangle.
        for (let b = 0; b <= a; b++) A[row + cols[cb + b]!]! += wa * Jc[base + b]! + wb * Jc[base + MAXC + b]!;
        // W = Jcᵀ w Jp
        for (let j = 0; j < 3; j++) Wo[3 * cb + 3 * a + j] = wa * Jp[6 * o + j]! + wb * Jp[6 * o + 3 + j]!;
      }
      const p = obsPt[o]!;
      if (fixedPt[p]) continue;
      for (let a = 0; a < 3; a++) {
        const pa = Jp[6 * o + a]!, pb = Jp[6 * o + 3 + a]!;
        gp[3 * p + a]! += pa * ru + pb * rv;
        for (let b = 0; b < 3; b++) Cp[9 * p + 3 * a + b]! += w * (pa * Jp[6 * o + b]! + pb * Jp[6 * o + 3 + b]!);
      }
    }
  };

  // ---- one damped solve: returns the step (camera part, point part) or null when not PD
  const S = new Float64Array(env.size), bc = new Float64Array(nc);
  const Cinv = new Float64Array(9 * nPts), Cd = new Float64Array(9), Vo = new Float64Array(3 * MAXC * nObs);
  const dc = new Float64Array(nc), dp = new Float64Array(3 * nPts);
  const diagA = new Float64Array(nc), diagC = new Float64Array(3 * nPts);
  // Per-point scratch: distinct cameras of the track with their summed intrinsic W and W C⁻¹.
  let maxTrack = 1;
  for (let p = 0; p < nPts; p++) maxTrack = Math.max(maxTrack, ptStart[p + 1]! - ptStart[p]!);
  const trackCams = new Int32Array(maxTrack), camSlot = new Int32Array(cameras.length).fill(-1);
  const Wsum = new Float64Array(maxTrack * 3 * MAX_PARAMS), Vsum = new Float64Array(maxTrack * 3 * MAX_PARAMS);
  /** S[r][c] −= v on the lower triangle (Cholesky reads only that); `mirror`: the transposed term exists too. */
  const subLower = (r: number, c: number, v: number, mirror: boolean) => {
    if (r > c) S[rowBase[r]! + c]! -= v;
    else if (r < c) { if (mirror) S[rowBase[c]! + r]! -= v; }
    else S[rowBase[r]! + r]! -= mirror ? 2 * v : v;
  };
  /** Reduced camera system S δc = bc at damping λ (points eliminated); false when a point block is singular. */
  const reduce = (lambda: number): boolean => {
    S.set(A);
    for (let a = 0; a < nc; a++) { const dd = Math.min(Math.max(A[rowBase[a]! + a]!, 1e-6), 1e32); diagA[a] = dd; S[rowBase[a]! + a]! += lambda * dd; }
    for (let a = 0; a < nc; a++) bc[a] = -gc[a]!;
    for (let p = 0; p < nPts; p++) {
      const s0 = ptStart[p]!, s1 = ptStart[p + 1]!;
      if (fixedPt[p] || s0 === s1) continue;
      for (let j = 0; j < 9; j++) Cd[j] = Cp[9 * p + j]!;
      for (let j = 0; j < 3; j++) { const dd = Math.min(Math.max(Cp[9 * p + 4 * j]!, 1e-6), 1e32); diagC[3 * p + j] = dd; Cd[4 * j]! += lambda * dd; }
      const ci = Cinv.subarray(9 * p, 9 * p + 9);
      if (!invert3(Cd, ci)) return false;
      const c0 = ci[0]!, c1 = ci[1]!, c2 = ci[2]!, c3 = ci[3]!, c4 = ci[4]!, c5 = ci[5]!, c6 = ci[6]!, c7 = ci[7]!, c8 = ci[8]!;
      const g0 = gp[3 * p]!, g1 = gp[3 * p + 1]!, g2 = gp[3 * p + 2]!;
      let nCams = 0;
      // V = W C⁻¹ for the pose rows of each observation; intrinsic rows summed per camera first.
      for (let q = s0; q < s1; q++) {
        const o = ptObs[q]!, k = ncol[o]!, np = npose[o]!, cb = MAXC * o;
        for (let a = 0; a < np; a++) {
          const wb = 3 * cb + 3 * a, w0 = Wo[wb]!, w1 = Wo[wb + 1]!, w2 = Wo[wb + 2]!;
          const v0 = w0 * c0 + w1 * c3 + w2 * c6, v1 = w0 * c1 + w1 * c4 + w2 * c7, v2 = w0 * c2 + w1 * c5 + w2 * c8;
          Vo[wb] = v0; Vo[wb + 1] = v1; Vo[wb + 2] = v2;
          bc[cols[cb + a]!]! += v0 * g0 + v1 * g1 + v2 * g2;
        }
        if (k > np) {
          const cam = obsCam[o]!;
          let slot = camSlot[cam]!;
          if (slot < 0) { slot = camSlot[cam] = nCams; trackCams[nCams++] = cam; Wsum.fill(0, slot * 3 * MAX_PARAMS, (slot + 1) * 3 * MAX_PARAMS); }
          const sb = slot * 3 * MAX_PARAMS;
          for (let a = np; a < k; a++) {
            const wb = 3 * cb + 3 * a, x = sb + 3 * (a - np);
            Wsum[x]! += Wo[wb]!; Wsum[x + 1]! += Wo[wb + 1]!; Wsum[x + 2]! += Wo[wb + 2]!;
          }
        }
      }
      for (let m = 0; m < nCams; m++) {
        const cam = trackCams[m]!, kc = camRefined[cam]!.length, co = camOff[cam]!, sb = m * 3 * MAX_PARAMS;
        for (let a = 0; a < kc; a++) {
          const x = sb + 3 * a, w0 = Wsum[x]!, w1 = Wsum[x + 1]!, w2 = Wsum[x + 2]!;
          const v0 = w0 * c0 + w1 * c3 + w2 * c6, v1 = w0 * c1 + w1 * c4 + w2 * c7, v2 = w0 * c2 + w1 * c5 + w2 * c8;
          Vsum[x] = v0; Vsum[x + 1] = v1; Vsum[x + 2] = v2;
          bc[co + a]! += v0 * g0 + v1 * g1 + v2 * g2;
        }
      }
      // Pose–pose blocks over unordered observation pairs (each also stands for its transpose).
      for (let q = s0; q < s1; q++) {
        const o = ptObs[q]!, np = npose[o]!, cb = MAXC * o;
        if (!np) continue;
        const po = cols[cb]!;
        for (let q2 = s0; q2 <= q; q2++) {
          const o2 = ptObs[q2]!, np2 = npose[o2]!, cb2 = MAXC * o2;
          if (!np2) continue;
          const po2 = cols[cb2]!, same = q2 === q;
          for (let a = 0; a < np; a++) {
            const vb = 3 * cb + 3 * a, v0 = Vo[vb]!, v1 = Vo[vb + 1]!, v2 = Vo[vb + 2]!;
            const bEnd = same ? a + 1 : np2;
            if (po > po2 || same) {
              // (same: b ≤ a, the diagonal block's lower triangle)
              const row = rowBase[po + a]! + po2;
              for (let b = 0; b < bEnd; b++) { const wb = 3 * cb2 + 3 * b; S[row + b]! -= v0 * Wo[wb]! + v1 * Wo[wb + 1]! + v2 * Wo[wb + 2]!; }
            } else if (po < po2) {
              // the block lies above the diagonal: its transpose is the lower one
              const col = po + a;
              for (let b = 0; b < bEnd; b++) { const wb = 3 * cb2 + 3 * b; S[rowBase[po2 + b]! + col]! -= v0 * Wo[wb]! + v1 * Wo[wb + 1]! + v2 * Wo[wb + 2]!; }
            } else {
              for (let b = 0; b < bEnd; b++) { const wb = 3 * cb2 + 3 * b; subLower(po + a, po2 + b, v0 * Wo[wb]! + v1 * Wo[wb + 1]! + v2 * Wo[wb + 2]!, !same); }
            }
          }
        }
        // Pose–intrinsics blocks: intrinsic columns come after all pose columns, so (K, P) is the lower one.
        for (let m = 0; m < nCams; m++) {
          const cam = trackCams[m]!, kc = camRefined[cam]!.length, co = camOff[cam]!, sb = m * 3 * MAX_PARAMS;
          for (let b = 0; b < kc; b++) {
            const x = sb + 3 * b, w0 = Wsum[x]!, w1 = Wsum[x + 1]!, w2 = Wsum[x + 2]!, row = rowBase[co + b]! + po;
            for (let a = 0; a < np; a++) { const vb = 3 * cb + 3 * a; S[row + a]! -= Vo[vb]! * w0 + Vo[vb + 1]! * w1 + Vo[vb + 2]! * w2; }
          }
        }
      }
      // Intrinsics–intrinsics blocks.
      for (let m = 0; m < nCams; m++) {
        const cam = trackCams[m]!, kc = camRefined[cam]!.length, co = camOff[cam]!, sb = m * 3 * MAX_PARAMS;
        for (let m2 = 0; m2 <= m; m2++) {
          const cam2 = trackCams[m2]!, kc2 = camRefined[cam2]!.length, co2 = camOff[cam2]!, sb2 = m2 * 3 * MAX_PARAMS;
          for (let a = 0; a < kc; a++) {
            const x = sb + 3 * a;
            for (let b = 0; b < (m2 === m ? a + 1 : kc2); b++) {
              const y = sb2 + 3 * b;
              subLower(co + a, co2 + b, Vsum[x]! * Wsum[y]! + Vsum[x + 1]! * Wsum[y + 1]! + Vsum[x + 2]! * Wsum[y + 2]!, m2 !== m);
            }
          }
        }
      }
      for (let m = 0; m < nCams; m++) camSlot[trackCams[m]!] = -1;
    }
    return true;
  };
  /** Factors S in place and solves S x = b (b overwritten). */
  const factorSolve = (M: Float64Array, b: Float64Array): boolean => {
    if (!layout.envelope) return choleskySolve(M, nc, b);
    if (!envelopeCholesky(M, env)) return false;
    envelopeSolve(M, env, b);
    return true;
  };
  const solve = (lambda: number): boolean => {
    if (!reduce(lambda)) return false;
    dc.set(bc);
    if (nc > 0 && !factorSolve(S, dc)) return false;
    // Back-substitution: δp = C⁻¹ (−gp − Σ Wᵀ δc).
    for (let p = 0; p < nPts; p++) {
      const s0 = ptStart[p]!, s1 = ptStart[p + 1]!;
      if (fixedPt[p] || s0 === s1) { dp[3 * p] = dp[3 * p + 1] = dp[3 * p + 2] = 0; continue; }
      let r0 = -gp[3 * p]!, r1 = -gp[3 * p + 1]!, r2 = -gp[3 * p + 2]!;
      for (let q = s0; q < s1; q++) {
        const o = ptObs[q]!, k = ncol[o]!, cb = MAXC * o;
        for (let a = 0; a < k; a++) {
          const x = dc[cols[cb + a]!]!, wb = 3 * cb + 3 * a;
          r0 -= Wo[wb]! * x; r1 -= Wo[wb + 1]! * x; r2 -= Wo[wb + 2]! * x;
        }
      }
      const ci = Cinv.subarray(9 * p, 9 * p + 9);
      dp[3 * p] = ci[0]! * r0 + ci[1]! * r1 + ci[2]! * r2;
      dp[3 * p + 1] = ci[3]! * r0 + ci[4]! * r1 + ci[5]! * r2;
      dp[3 * p + 2] = ci[6]! * r0 + ci[7]! * r1 + ci[8]! * r2;
    }
    return true;
  };

  // ---- candidate state
  const R2 = new Float64Array(R.length), T2 = new Float64Array(T.length), P2 = new Float64Array(points.length);
  const params = cameras.map((c) => c.params);
  const params2 = cameras.map((c) => Float64Array.from(c.params));
  const applyStep = () => {
    R2.set(R); T2.set(T); P2.set(points);
    for (let i = 0; i < nImg; i++) {
      const po = poseOff[i]!;
      if (po < 0) continue;
      const Ri = Array.from(R.subarray(9 * i, 9 * i + 9));
      const dR = expSO3([dc[po]!, dc[po + 1]!, dc[po + 2]!]);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) R2[9 * i + 3 * r + c] = dR[3 * r]! * Ri[c]! + dR[3 * r + 1]! * Ri[3 + c]! + dR[3 * r + 2]! * Ri[6 + c]!;
      if (poseSize[i] === 6) for (let j = 0; j < 3; j++) T2[3 * i + j] = T[3 * i + j]! + dc[po + 3 + j]!;
      else {
        const n0 = Math.hypot(T[3 * i]!, T[3 * i + 1]!, T[3 * i + 2]!);
        const v = [0, 1, 2].map((j) => T[3 * i + j]! + dc[po + 3]! * tanB[6 * i + j]! + dc[po + 4]! * tanB[6 * i + 3 + j]!);
        const n1 = Math.hypot(v[0]!, v[1]!, v[2]!) || 1;
        for (let j = 0; j < 3; j++) T2[3 * i + j] = (v[j]! * n0) / n1;
      }
    }
    cameras.forEach((c, ci) => {
      params2[ci]!.set(c.params);
      const co = camOff[ci]!;
      if (co < 0) return;
      camRefined[ci]!.forEach((pi, j) => { params2[ci]![pi] = c.params[pi]! + dc[co + j]!; });
    });
    for (let k = 0; k < points.length; k++) P2[k] = points[k]! + dp[k]!;
  };

  images.forEach((im, i) => { if (im.fixTranslationScale && !im.fixed) setTangent(i); });
  const c0 = cost(R, T, points, params);
  let curCost = c0.cost, curSq = c0.sq, curSqW = c0.sqW, curN = c0.n;
  let lambda = 1e-4, nu = 2, it = 0, converged = false;
  let dirty = true;
  for (; it < maxIterations; it++) {
    if (dirty) { linearize(); buildNormal(); dirty = false; }
    // Gradient test: nothing left to do.
    let gmax = 0;
    for (let a = 0; a < nc; a++) gmax = Math.max(gmax, Math.abs(gc[a]!));
    for (let a = 0; a < gp.length; a++) gmax = Math.max(gmax, Math.abs(gp[a]!));
    if (gmax < 1e-10) { converged = true; break; }
    if (!solve(lambda)) { lambda *= nu; nu *= 2; if (lambda > 1e16) break; continue; }
    applyStep();
    const c1 = cost(R2, T2, P2, params2);
    // Predicted reduction of the (reweighted) quadratic model: ½ δᵀ(λ D δ − g).
    let pred = 0;
    for (let a = 0; a < nc; a++) pred += dc[a]! * (lambda * diagA[a]! * dc[a]! - gc[a]!);
    for (let p = 0; p < nPts; p++) {
      if (fixedPt[p] || ptStart[p] === ptStart[p + 1]) continue;
      for (let j = 0; j < 3; j++) pred += dp[3 * p + j]! * (lambda * diagC[3 * p + j]! * dp[3 * p + j]! - gp[3 * p + j]!);
    }
    pred *= 0.5;
    const actual = curCost - c1.cost;
    if (actual > 0 && Number.isFinite(c1.cost)) {
      const rho = pred > 0 ? actual / pred : 1;
      R.set(R2); T.set(T2); points.set(P2);
      cameras.forEach((c, ci) => c.params.set(params2[ci]!));
      images.forEach((im, i) => { if (im.fixTranslationScale && !im.fixed) setTangent(i); });
      const rel = actual / Math.max(curCost, 1e-300);
      curCost = c1.cost; curSq = c1.sq; curSqW = c1.sqW; curN = c1.n;
      lambda *= Math.max(1 / 3, 1 - (2 * rho - 1) ** 3);
      lambda = Math.max(lambda, 1e-12);
      nu = 2;
      dirty = true;
      opts.onIteration?.(it + 1, curCost);
      if (rel < ftol) { converged = true; it++; break; }
    } else {
      lambda *= nu; nu *= 2;
      if (lambda > 1e16) { converged = true; break; }
    }
  }
  // Marginal covariance of the intrinsics: the intrinsic diagonal of S⁻¹ (S is the undamped reduced
  // system, i.e. JᵀWJ with poses kept and points eliminated) scaled by the residual variance. It says
  // how well the views pin each parameter down; the gauge is fixed by the caller's fixed images.
  let intrinsicStd: Float64Array[] | undefined;
  if (opts.intrinsicStd) {
    intrinsicStd = cameras.map((c) => new Float64Array(c.params.length).fill(NaN));
    linearize(); buildNormal();
    const sigma2 = curSqW / Math.max(1, 2 * curN);
    if (nc > 0 && reduce(0)) {
      const Sc = new Float64Array(env.size), e = new Float64Array(nc);
      cameras.forEach((_, ci) => {
        const co = camOff[ci]!;
        if (co < 0) return;
        camRefined[ci]!.forEach((pi, j) => {
          Sc.set(S); e.fill(0); e[co + j] = 1;
          if (factorSolve(Sc, e)) intrinsicStd![ci]![pi] = Math.sqrt(Math.max(0, sigma2 * e[co + j]!));
          else intrinsicStd![ci]![pi] = Infinity;
        });
      });
    }
  }
  // Write back.
  images.forEach((im, i) => { im.q.set(matToQuat(Array.from(R.subarray(9 * i, 9 * i + 9)))); im.t.set(T.subarray(3 * i, 3 * i + 3)); });
  return {
    initialCost: c0.cost,
    finalCost: curCost,
    iterations: it,
    initialRmse: Math.sqrt(c0.sq / Math.max(1, c0.n)),
    finalRmse: Math.sqrt(curSq / Math.max(1, curN)),
    converged,
    ...(intrinsicStd ? { intrinsicStd } : {}),
  };
}
