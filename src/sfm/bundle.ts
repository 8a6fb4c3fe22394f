/**
 * Bundle adjustment: Levenberg–Marquardt over camera poses, shared intrinsics and 3D points, with
 * the points eliminated by the Schur complement (reduced camera system solved by dense Cholesky for
 * small problems, by envelope Cholesky in a bandwidth-reducing image order for large ones:
 * schur-envelope.ts), analytic Jacobians, optional per-observation weights (1/σ²), and a robust
 * loss (Huber / Cauchy) on the weighted residual applied by iteratively reweighted least squares. Poses are world-to-camera (COLMAP): x_cam = R X + t;
 * rotations are updated on the left, R ← exp(δω) R.
 * The loops over observations and points (linearisation, point blocks, Schur elimination,
 * back-substitution, cost) are the phase functions of bundle-kernel.ts; on a large problem they run
 * in a fixed number of chunks of observations or points, on worker threads too (bundle-pool.ts),
 * whose camera-side sums are added in chunk order: the same bits on any number of threads (and the
 * same result as one range up to floating-point summation order). This file keeps the LM loop and
 * the camera-side solve.
 */
import type { CameraModelName } from '../core/camera.js';
import { MAX_PARAMS, refinedParams } from './projection-jacobian.js';
import { choleskySolve, envelopeCholesky, envelopeSolve } from '../geometry/linalg.js';
import { expSO3, matToQuat, quatToMat } from '../geometry/rotation.js';
import { schurLayout, type SchurSolver } from './schur-envelope.js';
import { BAPhase, kernelScratch, runPhase, type BAKernelContext, type BAPhaseCode, type CameraAccumulator } from './bundle-kernel.js';
import { BAPoolSession, baThreads, runClaimedChunks, type ChunkPlan } from './bundle-pool.js';
import { SharedArena } from './shared-arena.js';

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
  /**
   * threads (the calling one included) for a problem of at least PARALLEL_MIN_OBSERVATIONS
   * observations; default R2S_BA_THREADS, else one per core. Smaller problems use the calling thread.
   */
  threads?: number;
}
export interface BAReport {
  initialCost: number; finalCost: number; iterations: number; initialRmse: number; finalRmse: number; converged: boolean;
  /** per camera, per parameter: standard deviation (parameter units), NaN where not refined; with `intrinsicStd` */
  intrinsicStd?: Float64Array[];
}

/**
 * Smallest problem (observations) handed to the worker threads: a short problem gains little and
 * pays the per-call setup and a hand-off per phase. On the 2-core machine with other jobs running
 * (load ≈ 4), 5 000 instead made the mold mapping slower (32.4 s against 26.8 s, one run each).
 * The mapper's global and large local adjustments (most of its BA time) are above it.
 */
const PARALLEL_MIN_OBSERVATIONS = 20_000;
/** Shared memory of the adjustments that use the worker threads (one call holds it at a time). */
const sharedArena = new SharedArena();
/**
 * Chunks of a problem of at least PARALLEL_MIN_OBSERVATIONS, whatever the thread count (more: finer
 * balancing, but one accumulator each to clear and add). The chunks' sums are added in chunk order
 * on one thread as on sixteen, so a reconstruction is the same on every machine: the thread count
 * (it follows the cores and the free memory) changes the time only.
 */
const CHUNKS = 8;
/** Memory for the chunks' copies of the reduced camera system (a dense one of 500 images is 36 MB). */
const CHUNK_ACCUMULATOR_BYTES = 256 * 1024 * 1024;

/** Bounds of `parts` consecutive ranges of [0, n) with about equal shares of the prefix sums cum (length n + 1). */
function splitRanges(cum: ArrayLike<number>, n: number, parts: number): Int32Array {
  const b = new Int32Array(parts + 1);
  b[parts] = n;
  let i = 0;
  for (let t = 1; t < parts; t++) {
    const target = (cum[n]! * t) / parts;
    while (i < n && cum[i]! < target) i++;
    b[t] = i;
  }
  return b;
}

function addInto(a: Float64Array, b: Float64Array): void {
  for (let k = 0; k < a.length; k++) a[k]! += b[k]!;
}

export function bundleAdjust(problem: BAProblem, opts: BAOptions = {}): BAReport {
  const { cameras, images, points, observations } = problem;
  const maxIterations = opts.maxIterations ?? 100;
  const loss = opts.loss ?? 'trivial';
  const d2 = (opts.lossScale ?? 1) ** 2;
  const ftol = opts.functionTolerance ?? 1e-6;
  const nObs = observations.length, nPts = points.length / 3, nImg = images.length, nCams = cameras.length;
  // Index errors are programming errors of the caller: fail loudly rather than read garbage.
  for (const im of images) if (!(im.camera >= 0 && im.camera < nCams)) throw new Error(`bundleAdjust: image refers to camera ${im.camera} of ${nCams}`);
  for (const ob of observations) {
    if (!(ob.image >= 0 && ob.image < nImg && ob.point >= 0 && ob.point < nPts)) throw new Error(`bundleAdjust: observation (image ${ob.image}, point ${ob.point}) out of range (${nImg} images, ${nPts} points)`);
    if (ob.weight !== undefined && !(ob.weight > 0 && ob.weight < Infinity)) throw new Error(`bundleAdjust: observation weight ${ob.weight} is not positive and finite`);
  }
  for (const c of cameras) if (c.params.length > MAX_PARAMS) throw new Error(`bundleAdjust: camera with ${c.params.length} parameters (at most ${MAX_PARAMS})`);

  // ---- threads: what the kernel phases read or write lives on SharedArrayBuffers when workers share it
  const chunked = nObs >= PARALLEL_MIN_OBSERVATIONS;
  const threads = chunked ? baThreads(opts.threads) : 1;
  const shared = threads > 1;
  // (carved out of the reusable arena: fresh buffers per call pile up in the workers, shared-arena.ts)
  const arena = shared && sharedArena.acquire() ? sharedArena : null;
  const take = (bytes: number): [SharedArrayBuffer, number] => (arena ? arena.take(bytes) : [new SharedArrayBuffer(bytes), 0]);
  const f64 = (n: number) => (shared ? new Float64Array(...take(8 * n), n) : new Float64Array(n));
  const i32 = (n: number) => (shared ? new Int32Array(...take(4 * n), n) : new Int32Array(n));
  const u8 = (n: number) => (shared ? new Uint8Array(...take(n), n) : new Uint8Array(n));
  const i32Of = (a: Int32Array) => { if (!shared) return a; const b = i32(a.length); b.set(a); return b; };

  // ---- parameter layout on the camera side
  const R = f64(9 * nImg), T = f64(3 * nImg);
  images.forEach((im, i) => { R.set(quatToMat(Array.from(im.q)), 9 * i); T.set(im.t, 3 * i); });
  const poseSize = i32(nImg);
  images.forEach((im, i) => { if (!im.fixed) poseSize[i] = im.fixTranslationScale ? 5 : 6; });
  const camRefined = cameras.map(refinedParams);
  const camUsed = new Uint8Array(nCams);
  for (const ob of observations) camUsed[images[ob.image]!.camera] = 1;
  const camSize = Int32Array.from(camRefined, (r, c) => (camUsed[c] ? r.length : 0));
  // camera-side columns of one observation: the per-observation arrays below are strided by it, so
  // a problem refining no or few intrinsics does not allocate (and stream through) MAX_PARAMS columns
  const MAXC = 6 + camSize.reduce((m, k) => Math.max(m, k), 0);
  // Tangent bases for images whose translation norm is fixed.
  const tanB = f64(6 * nImg);
  const setTangent = (i: number) => {
    const t0 = T[3 * i]!, t1 = T[3 * i + 1]!, t2 = T[3 * i + 2]!, n = Math.hypot(t0, t1, t2) || 1;
    const e = [t0 / n, t1 / n, t2 / n];
    const aux = Math.abs(e[0]!) < 0.9 ? [1, 0, 0] : [0, 1, 0];
    let b1 = [e[1]! * aux[2]! - e[2]! * aux[1]!, e[2]! * aux[0]! - e[0]! * aux[2]!, e[0]! * aux[1]! - e[1]! * aux[0]!];
    const nb = Math.hypot(b1[0]!, b1[1]!, b1[2]!); b1 = b1.map((v) => v / nb);
    const b2 = [e[1]! * b1[2]! - e[2]! * b1[1]!, e[2]! * b1[0]! - e[0]! * b1[2]!, e[0]! * b1[1]! - e[1]! * b1[0]!];
    tanB.set([...b1, ...b2], 6 * i);
  };
  const camParams = f64(nCams * MAX_PARAMS), camParams2 = f64(nCams * MAX_PARAMS), camNParams = i32(nCams);
  const camRefinedIdx = i32(nCams * MAX_PARAMS), imgCam = i32(nImg);
  cameras.forEach((c, ci) => { camParams.set(c.params, ci * MAX_PARAMS); camNParams[ci] = c.params.length; camRefinedIdx.set(camRefined[ci]!, ci * MAX_PARAMS); });
  images.forEach((im, i) => { imgCam[i] = im.camera; });

  // ---- observations grouped by point (CSR)
  const obsImg = i32(nObs), obsPt = i32(nObs), obsXY = f64(2 * nObs);
  const obsW = f64(nObs); // 1 × anything is exact: unweighted problems solve bit-identically
  observations.forEach((ob, o) => { obsImg[o] = ob.image; obsPt[o] = ob.point; obsXY[2 * o] = ob.x; obsXY[2 * o + 1] = ob.y; obsW[o] = ob.weight ?? 1; });
  const ptStart = i32(nPts + 1);
  for (let o = 0; o < nObs; o++) ptStart[obsPt[o]! + 1]!++;
  for (let p = 0; p < nPts; p++) ptStart[p + 1]! += ptStart[p]!;
  const ptObs = i32(nObs), fill = ptStart.slice(0, nPts);
  for (let o = 0; o < nObs; o++) ptObs[fill[obsPt[o]!]!++] = o;
  const fixedPt = u8(nPts);
  if (problem.fixedPoints) fixedPt.set(problem.fixedPoints);
  let maxTrack = 1;
  for (let p = 0; p < nPts; p++) maxTrack = Math.max(maxTrack, ptStart[p + 1]! - ptStart[p]!);
  // Column layout of the reduced camera system: element (r, c ≤ r) of A and S lives at rowBase[r] + c.
  const layout = schurLayout(poseSize, imgCam, camSize, { ptStart, ptObs, obsImg }, opts.solver);
  const { nc, env } = layout, poseOff = i32Of(layout.poseOff), camOff = i32Of(layout.camOff);

  // ---- the kernel's context (bundle-kernel.ts): per-observation and per-point storage, both states
  const P = shared ? f64(points.length) : points;
  if (P !== points) P.set(points);
  const ctx: BAKernelContext = {
    nObs, nPts, MAXC, nc, loss, d2, maxTrack, nCams,
    camModel: cameras.map((c) => c.model), camNParams, camParams, camParams2, camRefined: camRefinedIdx, camNRefined: i32Of(camSize), imgCam,
    R, T, P, R2: f64(R.length), T2: f64(T.length), P2: f64(points.length), tanB, poseOff, poseSize, camOff, rowBase: i32Of(env.base),
    obsImg, obsPt, obsXY, obsW, ptStart, ptObs, fixedPt,
    res: f64(2 * nObs), wts: f64(nObs), Jc: f64(2 * MAXC * nObs), Jp: f64(6 * nObs), cols: i32(MAXC * nObs),
    ncol: u8(nObs), npose: u8(nObs), obsCam: i32(nObs), valid: u8(nObs), Wo: f64(3 * MAXC * nObs),
    Cp: f64(9 * nPts), gp: f64(3 * nPts), Cinv: f64(9 * nPts), diagC: f64(3 * nPts), dp: f64(3 * nPts), dc: f64(nc),
  };
  const { R2, T2, P2, gp, dp, dc, diagC } = ctx;
  const sc = kernelScratch(ctx), params = sc.camP, params2 = sc.camP2;

  // ---- chunks of a large problem: CHUNKS (fewer where their accumulators would exceed
  // CHUNK_ACCUMULATOR_BYTES), about equal observation counts each
  const nChunks = chunked ? Math.max(1, Math.min(CHUNKS, Math.floor(CHUNK_ACCUMULATOR_BYTES / (8 * (env.size + nc))))) : 0;
  const plan: ChunkPlan = {
    oB: Int32Array.from({ length: nChunks + 1 }, (_, c) => Math.round((nObs * c) / nChunks)),
    pB: splitRanges(ptStart, nPts, nChunks),
    accs: Array.from({ length: nChunks }, () => ({ M: f64(env.size), v: f64(nc) })),
    costs: f64(4 * nChunks),
    claim: i32(2),
  };
  const session = shared ? BAPoolSession.open(threads - 1, ctx, plan, sc, !arena || arena.overflowed) : null;
  const everything = { o0: 0, o1: nObs, p0: 0, p1: nPts };
  const costSums = new Float64Array(4);
  /**
   * Runs a phase over all observations or points, adding camera-side sums into acc after
   * `init` (which sets acc up): a large problem chunk by chunk (on the pool, or on this thread
   * alone when it has none: the same sums in the same order), a small one in one range straight
   * into acc.
   */
  const phase = (ph: BAPhaseCode, arg: number, acc: CameraAccumulator, init?: () => void): boolean => {
    if (!chunked) { init?.(); return runPhase(ctx, sc, ph, arg, everything, acc, costSums); }
    const ok = session ? session.run(ph, arg, init) : runChunksHere(ph, arg, init);
    if (ok && (ph === BAPhase.Linearize || ph === BAPhase.Reduce)) for (const a of plan.accs) { addInto(acc.M, a.M); addInto(acc.v, a.v); }
    if (ph === BAPhase.Cost) {
      costSums.fill(0);
      for (let k = 0; k < plan.costs.length; k++) costSums[k & 3]! += plan.costs[k]!;
    }
    return ok;
  };
  function runChunksHere(ph: BAPhaseCode, arg: number, init?: () => void): boolean {
    init?.();
    plan.claim[0] = 0; plan.claim[1] = 0;
    runClaimedChunks(ctx, sc, plan, ph, arg);
    return plan.claim[1] === 0;
  }
  try {
    return run();
  } finally {
    try { session?.close(); } finally { arena?.release(); }
  }

  function run(): BAReport {
    /** sq: squared residuals in px² (for the RMSE); sqW: weighted by obsW (for the residual variance) */
    const noAcc: CameraAccumulator = { M: new Float64Array(0), v: new Float64Array(0) };
    const cost = (candidate: boolean): { cost: number; sq: number; sqW: number; n: number } => {
      phase(BAPhase.Cost, candidate ? 1 : 0, noAcc);
      return { cost: costSums[0]!, sq: costSums[1]!, sqW: costSums[2]!, n: costSums[3]! };
    };

    // ---- normal equations pieces that do not depend on λ
    const A = new Float64Array(env.size), gc = new Float64Array(nc);
    const linearizeNormal = () => {
      phase(BAPhase.Linearize, 0, { M: A, v: gc }, () => { A.fill(0); gc.fill(0); });
      phase(BAPhase.PointNormal, 0, noAcc);
    };

    // ---- one damped solve: returns the step (camera part, point part) or null when not PD
    const S = new Float64Array(env.size), bc = new Float64Array(nc);
    const diagA = new Float64Array(nc);
    /** Reduced camera system S δc = bc at damping λ (points eliminated); false when a point block is singular. */
    const reduce = (lambda: number): boolean => phase(BAPhase.Reduce, lambda, { M: S, v: bc }, () => {
      S.set(A);
      for (let a = 0; a < nc; a++) { const dd = Math.min(Math.max(A[env.base[a]! + a]!, 1e-6), 1e32); diagA[a] = dd; S[env.base[a]! + a]! += lambda * dd; }
      for (let a = 0; a < nc; a++) bc[a] = -gc[a]!;
    });
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
      phase(BAPhase.BackSubstitute, 0, noAcc);
      return true;
    };

    // ---- candidate state
    const applyStep = () => {
      R2.set(R); T2.set(T); P2.set(P);
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
      for (let k = 0; k < P.length; k++) P2[k] = P[k]! + dp[k]!;
    };

    images.forEach((im, i) => { if (im.fixTranslationScale && !im.fixed) setTangent(i); });
    const c0 = cost(false);
    let curCost = c0.cost, curSq = c0.sq, curSqW = c0.sqW, curN = c0.n;
    let lambda = 1e-4, nu = 2, it = 0, converged = false;
    let dirty = true;
    for (; it < maxIterations; it++) {
      if (dirty) { linearizeNormal(); dirty = false; }
      // Gradient test: nothing left to do.
      let gmax = 0;
      for (let a = 0; a < nc; a++) gmax = Math.max(gmax, Math.abs(gc[a]!));
      for (let a = 0; a < gp.length; a++) gmax = Math.max(gmax, Math.abs(gp[a]!));
      if (gmax < 1e-10) { converged = true; break; }
      if (!solve(lambda)) { lambda *= nu; nu *= 2; if (lambda > 1e16) break; continue; }
      applyStep();
      const c1 = cost(true);
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
        R.set(R2); T.set(T2); P.set(P2);
        cameras.forEach((c, ci) => { c.params.set(params2[ci]!); params[ci]!.set(params2[ci]!); });
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
      linearizeNormal();
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
    if (P !== points) points.set(P);
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
}
