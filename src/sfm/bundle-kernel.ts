/**
 * The per-observation and per-point loops of bundle adjustment (bundle.ts), as phase functions over
 * a context of typed arrays and an index range, so that the calling thread and the worker threads of
 * bundle-pool.ts run the same code on disjoint ranges. Per-point and per-observation outputs are
 * written in place (the ranges are disjoint); the sums over the camera side (the normal matrix A and
 * gradient gc, the reduced system S and right-hand side bc, the cost) go into an accumulator the
 * caller passes: its own for each thread, summed by bundle.ts in a fixed thread order.
 */
import type { CameraModelName } from '../core/camera.js';
import { invert3 } from '../geometry/linalg.js';
import { JAC_INTR, JAC_STRIDE, MAX_PARAMS, projectWithJacobian } from './projection-jacobian.js';

export type BALoss = 'trivial' | 'huber' | 'cauchy';

/**
 * Everything the phases read or write. Plain data (numbers, strings, typed arrays) so that it can be
 * posted to a worker; the arrays are on SharedArrayBuffers when a pool works on them.
 */
export interface BAKernelContext {
  nObs: number; nPts: number; MAXC: number; nc: number; loss: BALoss; d2: number;
  /** longest track, cameras count: sizes of the per-thread scratch of reducePoints */
  maxTrack: number; nCams: number;
  /** per camera: model, parameter count, parameters (MAX_PARAMS stride; current and candidate) */
  camModel: CameraModelName[]; camNParams: Int32Array; camParams: Float64Array; camParams2: Float64Array;
  /** per camera: refined parameter indices (MAX_PARAMS stride), their count (0: camera not in the system) */
  camRefined: Int32Array; camNRefined: Int32Array;
  imgCam: Int32Array;
  /** poses (R row-major 9, t 3 per image) and points, current and candidate */
  R: Float64Array; T: Float64Array; P: Float64Array; R2: Float64Array; T2: Float64Array; P2: Float64Array;
  /** tangent basis of images with a fixed translation norm */
  tanB: Float64Array;
  poseOff: Int32Array; poseSize: Int32Array; camOff: Int32Array;
  /** element (r, c ≤ r) of A and S lives at rowBase[r] + c */
  rowBase: Int32Array;
  obsImg: Int32Array; obsPt: Int32Array; obsXY: Float64Array; obsW: Float64Array;
  /** observations of point p: ptObs[ptStart[p] .. ptStart[p+1]), in increasing order */
  ptStart: Int32Array; ptObs: Int32Array; fixedPt: Uint8Array;
  // per observation (strided by MAXC camera-side columns)
  res: Float64Array; wts: Float64Array; Jc: Float64Array; Jp: Float64Array; cols: Int32Array;
  ncol: Uint8Array; npose: Uint8Array; obsCam: Int32Array; valid: Uint8Array;
  /** Jcᵀ w Jp per observation (ncol × 3) */
  Wo: Float64Array;
  // per point
  Cp: Float64Array; gp: Float64Array; Cinv: Float64Array; diagC: Float64Array; dp: Float64Array;
  /** the camera step (read by backSubstitute) */
  dc: Float64Array;
}

/** A share of the camera-side sums: the lower envelope of A or S, and gc or bc. */
export interface CameraAccumulator { M: Float64Array; v: Float64Array }

/** The phases of one LM iteration, each a loop over observations or points. */
export const BAPhase = { Linearize: 1, PointNormal: 2, Reduce: 3, BackSubstitute: 4, Cost: 5 } as const;
export type BAPhaseCode = (typeof BAPhase)[keyof typeof BAPhase];

/** Index ranges of one piece of work: observations [o0, o1) and points [p0, p1). */
export interface KernelRange { o0: number; o1: number; p0: number; p1: number }

/**
 * Runs `phase` on range r: Linearize adds into acc (A, gc), Reduce into acc (S, bc) at λ = arg, Cost
 * writes costOut (state: arg = 1 the candidate). False when a point block was singular (Reduce).
 */
export function runPhase(ctx: BAKernelContext, sc: KernelScratch, phase: BAPhaseCode, arg: number, r: KernelRange, acc: CameraAccumulator, costOut: Float64Array): boolean {
  switch (phase) {
    case BAPhase.Linearize: linearizeRange(ctx, sc, r.o0, r.o1, acc); return true;
    case BAPhase.PointNormal: pointNormalRange(ctx, r.p0, r.p1); return true;
    case BAPhase.Reduce: return reducePoints(ctx, sc, arg, r.p0, r.p1, acc);
    case BAPhase.BackSubstitute: backSubstitute(ctx, r.p0, r.p1); return true;
    case BAPhase.Cost: costRange(ctx, sc, arg === 1, r.o0, r.o1, costOut); return true;
  }
}

/** ρ(s) of the squared residual norm s, scale² d2. */
function rho(loss: BALoss, d2: number, s: number): number {
  if (loss === 'huber') return s <= d2 ? s : 2 * Math.sqrt(d2 * s) - d2;
  if (loss === 'cauchy') return d2 * Math.log1p(s / d2);
  return s;
}
/** IRLS weight ρ'(s). */
function rhoWeight(loss: BALoss, d2: number, s: number): number {
  if (loss === 'huber') return s <= d2 ? 1 : Math.sqrt(d2 / s);
  if (loss === 'cauchy') return 1 / (1 + s / d2);
  return 1;
}

/** Per-thread scratch of the phases (never shared). */
export interface KernelScratch {
  jac: Float64Array; camP: Float64Array[]; camP2: Float64Array[];
  Cd: Float64Array; trackCams: Int32Array; camSlot: Int32Array; Wsum: Float64Array; Vsum: Float64Array;
  /** V = W C⁻¹ of the current point's observations (the point's track position replaces the observation index) */
  Vo: Float64Array;
}
export function kernelScratch(ctx: BAKernelContext): KernelScratch {
  const view = (a: Float64Array) => Array.from({ length: ctx.nCams }, (_, c) => a.subarray(c * MAX_PARAMS, c * MAX_PARAMS + ctx.camNParams[c]!));
  return {
    jac: new Float64Array(2 + 2 * JAC_STRIDE), camP: view(ctx.camParams), camP2: view(ctx.camParams2),
    Cd: new Float64Array(9), trackCams: new Int32Array(ctx.maxTrack), camSlot: new Int32Array(ctx.nCams).fill(-1),
    Wsum: new Float64Array(ctx.maxTrack * 3 * MAX_PARAMS), Vsum: new Float64Array(ctx.maxTrack * 3 * MAX_PARAMS),
    Vo: new Float64Array(3 * ctx.MAXC * ctx.maxTrack),
  };
}

/**
 * Robust cost of observations [o0, o1) at the current (candidate = false) or candidate state, added
 * into out[0..3] = ½ Σρ, Σ squared residual (px²), Σ weighted squared residual, count.
 */
export function costRange(ctx: BAKernelContext, sc: KernelScratch, candidate: boolean, o0: number, o1: number, out: Float64Array): void {
  const { obsImg, obsPt, obsXY, obsW, imgCam, camModel, loss, d2 } = ctx;
  const Rm = candidate ? ctx.R2 : ctx.R, Tm = candidate ? ctx.T2 : ctx.T, P = candidate ? ctx.P2 : ctx.P, params = candidate ? sc.camP2 : sc.camP;
  const jac = sc.jac;
  let c = 0, sq = 0, sqW = 0, n = 0;
  for (let o = o0; o < o1; o++) {
    const i = obsImg[o]!, ci = imgCam[i]!;
    if (!projectWithJacobian(camModel[ci]!, params[ci]!, Rm, Tm, P, 3 * obsPt[o]!, jac, 9 * i, 3 * i)) continue;
    const du = jac[0]! - obsXY[2 * o]!, dv = jac[1]! - obsXY[2 * o + 1]!, s = du * du + dv * dv;
    const sw = obsW[o]! * s;
    sq += s; sqW += sw; n++;
    c += rho(loss, d2, sw);
  }
  out[0] = 0.5 * c; out[1] = sq; out[2] = sqW; out[3] = n;
}

/**
 * Linearises observations [o0, o1) at the current state (residual, IRLS weight, camera and point
 * Jacobians, W = Jcᵀ w Jp) and adds their Jcᵀ w Jc and Jcᵀ w r into acc (lower triangle of A, gc).
 */
export function linearizeRange(ctx: BAKernelContext, sc: KernelScratch, o0: number, o1: number, acc: CameraAccumulator): void {
  const { obsImg, obsPt, obsXY, obsW, imgCam, camModel, loss, d2, MAXC, R, T, P, poseOff, poseSize, camOff, tanB, camRefined, camNRefined, rowBase } = ctx;
  const { res, wts, Jc, Jp, cols, ncol, npose, obsCam, valid, Wo } = ctx;
  const jac = sc.jac, params = sc.camP, A = acc.M, gc = acc.v;
  for (let o = o0; o < o1; o++) {
    const i = obsImg[o]!, ci = imgCam[i]!;
    valid[o] = projectWithJacobian(camModel[ci]!, params[ci]!, R, T, P, 3 * obsPt[o]!, jac, 9 * i, 3 * i) ? 1 : 0;
    if (!valid[o]) { ncol[o] = 0; npose[o] = 0; wts[o] = 0; continue; }
    const du = jac[0]! - obsXY[2 * o]!, dv = jac[1]! - obsXY[2 * o + 1]!;
    res[2 * o] = du; res[2 * o + 1] = dv;
    const w = (wts[o] = obsW[o]! * rhoWeight(loss, d2, obsW[o]! * (du * du + dv * dv)));
    const base = 2 * MAXC * o, cb = MAXC * o;
    let k = 0;
    const po = poseOff[i]!;
    if (po >= 0) {
      for (let j = 0; j < 3; j++) { Jc[base + k] = jac[2 + j]!; Jc[base + MAXC + k] = jac[2 + JAC_STRIDE + j]!; cols[cb + k] = po + j; k++; }
      if (poseSize[i] === 6) {
        for (let j = 0; j < 3; j++) { Jc[base + k] = jac[5 + j]!; Jc[base + MAXC + k] = jac[5 + JAC_STRIDE + j]!; cols[cb + k] = po + 3 + j; k++; }
      } else {
        for (let j = 0; j < 2; j++) {
          const b0 = tanB[6 * i + 3 * j]!, b1 = tanB[6 * i + 3 * j + 1]!, b2 = tanB[6 * i + 3 * j + 2]!;
          Jc[base + k] = jac[5]! * b0 + jac[6]! * b1 + jac[7]! * b2;
          Jc[base + MAXC + k] = jac[5 + JAC_STRIDE]! * b0 + jac[6 + JAC_STRIDE]! * b1 + jac[7 + JAC_STRIDE]! * b2;
          cols[cb + k] = po + 3 + j; k++;
        }
      }
    }
    npose[o] = k;
    const co = camOff[ci]!;
    if (co >= 0) {
      const nr = camNRefined[ci]!, rb = ci * MAX_PARAMS;
      for (let j = 0; j < nr; j++) {
        const r = camRefined[rb + j]!;
        Jc[base + k] = jac[2 + JAC_INTR + r]!; Jc[base + MAXC + k] = jac[2 + JAC_STRIDE + JAC_INTR + r]!;
        cols[cb + k] = co + j; k++;
      }
    }
    ncol[o] = k;
    obsCam[o] = ci;
    for (let j = 0; j < 3; j++) { Jp[6 * o + j] = jac[8 + j]!; Jp[6 * o + 3 + j] = jac[8 + JAC_STRIDE + j]!; }
    // normal equations, camera side
    const ru = du * w, rv = dv * w;
    for (let a = 0; a < k; a++) {
      const ja = Jc[base + a]!, jb = Jc[base + MAXC + a]!, ga = cols[cb + a]!;
      gc[ga]! += ja * ru + jb * rv;
      const wa = w * ja, wb = w * jb, row = rowBase[ga]!;
      // Columns of one observation increase with b: (ga, gb ≤ ga) is the lower triangle.
      for (let b = 0; b <= a; b++) A[row + cols[cb + b]!]! += wa * Jc[base + b]! + wb * Jc[base + MAXC + b]!;
      // W = Jcᵀ w Jp
      for (let j = 0; j < 3; j++) Wo[3 * cb + 3 * a + j] = wa * Jp[6 * o + j]! + wb * Jp[6 * o + 3 + j]!;
    }
  }
}

/** Point blocks C = Jpᵀ w Jp and gradients gp of points [p0, p1) (after linearizeRange over all observations). */
export function pointNormalRange(ctx: BAKernelContext, p0: number, p1: number): void {
  const { ptStart, ptObs, fixedPt, valid, wts, res, Jp, Cp, gp } = ctx;
  Cp.fill(0, 9 * p0, 9 * p1); gp.fill(0, 3 * p0, 3 * p1);
  for (let p = p0; p < p1; p++) {
    if (fixedPt[p]) continue;
    for (let q = ptStart[p]!; q < ptStart[p + 1]!; q++) {
      const o = ptObs[q]!;
      if (!valid[o]) continue;
      const w = wts[o]!, ru = res[2 * o]! * w, rv = res[2 * o + 1]! * w;
      for (let a = 0; a < 3; a++) {
        const pa = Jp[6 * o + a]!, pb = Jp[6 * o + 3 + a]!;
        gp[3 * p + a]! += pa * ru + pb * rv;
        for (let b = 0; b < 3; b++) Cp[9 * p + 3 * a + b]! += w * (pa * Jp[6 * o + b]! + pb * Jp[6 * o + 3 + b]!);
      }
    }
  }
}

/**
 * Eliminates points [p0, p1) at damping λ: stores each damped C⁻¹ (and C's damping diagonal) and
 * subtracts W C⁻¹ Wᵀ from acc.M (lower triangle of S), adds W C⁻¹ gp to acc.v (bc). False when a
 * point block is singular.
 */
export function reducePoints(ctx: BAKernelContext, sc: KernelScratch, lambda: number, p0: number, p1: number, acc: CameraAccumulator): boolean {
  const { ptStart, ptObs, fixedPt, Cp, gp, Cinv, diagC, ncol, npose, cols, obsCam, Wo, MAXC, camNRefined, camOff, rowBase } = ctx;
  const { Cd, trackCams, camSlot, Wsum, Vsum, Vo } = sc;
  const S = acc.M, bc = acc.v;
  /** S[r][c] −= v on the lower triangle (Cholesky reads only that); `mirror`: the transposed term exists too. */
  const subLower = (r: number, c: number, v: number, mirror: boolean) => {
    if (r > c) S[rowBase[r]! + c]! -= v;
    else if (r < c) { if (mirror) S[rowBase[c]! + r]! -= v; }
    else S[rowBase[r]! + r]! -= mirror ? 2 * v : v;
  };
  for (let p = p0; p < p1; p++) {
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
      const o = ptObs[q]!, k = ncol[o]!, np = npose[o]!, cb = MAXC * o, vq = 3 * MAXC * (q - s0);
      for (let a = 0; a < np; a++) {
        const wb = 3 * cb + 3 * a, w0 = Wo[wb]!, w1 = Wo[wb + 1]!, w2 = Wo[wb + 2]!;
        const v0 = w0 * c0 + w1 * c3 + w2 * c6, v1 = w0 * c1 + w1 * c4 + w2 * c7, v2 = w0 * c2 + w1 * c5 + w2 * c8;
        Vo[vq + 3 * a] = v0; Vo[vq + 3 * a + 1] = v1; Vo[vq + 3 * a + 2] = v2;
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
      const cam = trackCams[m]!, kc = camNRefined[cam]!, co = camOff[cam]!, sb = m * 3 * MAX_PARAMS;
      for (let a = 0; a < kc; a++) {
        const x = sb + 3 * a, w0 = Wsum[x]!, w1 = Wsum[x + 1]!, w2 = Wsum[x + 2]!;
        const v0 = w0 * c0 + w1 * c3 + w2 * c6, v1 = w0 * c1 + w1 * c4 + w2 * c7, v2 = w0 * c2 + w1 * c5 + w2 * c8;
        Vsum[x] = v0; Vsum[x + 1] = v1; Vsum[x + 2] = v2;
        bc[co + a]! += v0 * g0 + v1 * g1 + v2 * g2;
      }
    }
    // Pose–pose blocks over unordered observation pairs (each also stands for its transpose).
    for (let q = s0; q < s1; q++) {
      const o = ptObs[q]!, np = npose[o]!, cb = MAXC * o, vq = 3 * MAXC * (q - s0);
      if (!np) continue;
      const po = cols[cb]!;
      for (let q2 = s0; q2 <= q; q2++) {
        const o2 = ptObs[q2]!, np2 = npose[o2]!, cb2 = MAXC * o2;
        if (!np2) continue;
        const po2 = cols[cb2]!, same = q2 === q;
        for (let a = 0; a < np; a++) {
          const vb = vq + 3 * a, v0 = Vo[vb]!, v1 = Vo[vb + 1]!, v2 = Vo[vb + 2]!;
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
        const cam = trackCams[m]!, kc = camNRefined[cam]!, co = camOff[cam]!, sb = m * 3 * MAX_PARAMS;
        for (let b = 0; b < kc; b++) {
          const x = sb + 3 * b, w0 = Wsum[x]!, w1 = Wsum[x + 1]!, w2 = Wsum[x + 2]!, row = rowBase[co + b]! + po;
          for (let a = 0; a < np; a++) { const vb = vq + 3 * a; S[row + a]! -= Vo[vb]! * w0 + Vo[vb + 1]! * w1 + Vo[vb + 2]! * w2; }
        }
      }
    }
    // Intrinsics–intrinsics blocks.
    for (let m = 0; m < nCams; m++) {
      const cam = trackCams[m]!, kc = camNRefined[cam]!, co = camOff[cam]!, sb = m * 3 * MAX_PARAMS;
      for (let m2 = 0; m2 <= m; m2++) {
        const cam2 = trackCams[m2]!, kc2 = camNRefined[cam2]!, co2 = camOff[cam2]!, sb2 = m2 * 3 * MAX_PARAMS;
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
}

/** Back-substitution for points [p0, p1): δp = C⁻¹ (−gp − Σ Wᵀ δc) (after reducePoints and the camera solve). */
export function backSubstitute(ctx: BAKernelContext, p0: number, p1: number): void {
  const { ptStart, ptObs, fixedPt, gp, Cinv, dp, dc, ncol, cols, Wo, MAXC } = ctx;
  for (let p = p0; p < p1; p++) {
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
}
