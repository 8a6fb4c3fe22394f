/**
 * Stage 3: geometric verification of each matched pair. Calibrated pairs (known or trusted focal)
 * get an essential matrix and a relative pose, others a fundamental matrix; a homography flags
 * planar scenes and pure rotations (bad initial pairs). Cached per pair in the SfM database, which
 * only the main thread writes; uncached pairs are verified on a pool of worker threads.
 */
import { hashString } from '../util/fsx.js';
import { Progress } from '../util/progress.js';
import { estimateEssential, estimateFundamental, estimateHomography } from '../geometry/ransac.js';
import { unprojectPixel } from '../geometry/camera-model.js';
import type { Camera } from '../core/camera.js';
import type { SfmDatabase } from './database.js';
import { pairId } from './pair-id.js';
import { defaultWorkerCount, runOnWorkers } from './worker-pool.js';
import { parallaxRatio } from './parallax.js';
import type { FeatureSet, ImagePair, TwoViewGeometry } from './types.js';

export interface VerifyOptions {
  /** RANSAC threshold, pixels at full resolution */
  maxError: number;
  minInliers: number;
  /** inlier ratio H/E above which a pair counts as planar / panoramic */
  homographyRatio: number;
  seed: number;
  silent?: boolean;
  /** threads for uncached pairs (default: defaultWorkerCount()) */
  workers?: number;
}

/** What verification reads of an image's features (all a verify worker is sent). */
export type VerifyFeatures = Pick<FeatureSet, 'kp'>;

export function gatherPoints(f: Pick<FeatureSet, 'kp'>, idx: ArrayLike<number>, stride: number, offset: number): Float64Array {
  const n = Math.floor(idx.length / stride);
  const out = new Float64Array(n * 2);
  for (let k = 0; k < n; k++) {
    const i = idx[k * stride + offset]!;
    out[k * 2] = f.kp[i * 4]!;
    out[k * 2 + 1] = f.kp[i * 4 + 1]!;
  }
  return out;
}

function selectInliers(m: Uint32Array, mask: Uint8Array): Uint32Array {
  let n = 0;
  for (let k = 0; k < mask.length; k++) if (mask[k]) n++;
  const out = new Uint32Array(n * 2);
  let o = 0;
  for (let k = 0; k < mask.length; k++) if (mask[k]) { out[o++] = m[k * 2]!; out[o++] = m[k * 2 + 1]!; }
  return out;
}

/** Median angle (degrees) between the two viewing rays of each inlier, for a relative pose (R, t). */
export function medianTriangulationAngle(cam1: Camera, cam2: Camera, x1: Float64Array, x2: Float64Array, R: number[], t: number[]): number {
  // camera 2 centre in camera 1's frame: c2 = -Rᵀ t
  const c = [-(R[0]! * t[0]! + R[3]! * t[1]! + R[6]! * t[2]!), -(R[1]! * t[0]! + R[4]! * t[1]! + R[7]! * t[2]!), -(R[2]! * t[0]! + R[5]! * t[1]! + R[8]! * t[2]!)];
  const angles: number[] = [];
  const n = x1.length / 2;
  const step = Math.max(1, Math.floor(n / 500));
  for (let k = 0; k < n; k += step) {
    const [a0, a1] = unprojectPixel(cam1, x1[k * 2]!, x1[k * 2 + 1]!);
    const [b0, b1] = unprojectPixel(cam2, x2[k * 2]!, x2[k * 2 + 1]!);
    // ray 2 in camera 1's frame: Rᵀ b
    const r2 = [R[0]! * b0 + R[3]! * b1 + R[6]!, R[1]! * b0 + R[4]! * b1 + R[7]!, R[2]! * b0 + R[5]! * b1 + R[8]!];
    // midpoint-free estimate: angle between rays from both centres to the closest point of ray 1
    const r1 = [a0, a1, 1];
    const X = closestOnRay1(r1, c, r2);
    if (!X) continue;
    const v1 = X, v2 = [X[0]! - c[0]!, X[1]! - c[1]!, X[2]! - c[2]!];
    const cos = (v1[0]! * v2[0]! + v1[1]! * v2[1]! + v1[2]! * v2[2]!) / (Math.hypot(v1[0]!, v1[1]!, v1[2]!) * Math.hypot(v2[0]!, v2[1]!, v2[2]!));
    angles.push((Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI);
  }
  if (angles.length === 0) return 0;
  angles.sort((a, b) => a - b);
  return angles[angles.length >> 1]!;
}

/** Midpoint of the shortest segment between ray o=0,d=r1 and ray o=c,d=r2 (null when parallel or behind). */
function closestOnRay1(r1: number[], c: number[], r2: number[]): number[] | null {
  const a = dot(r1, r1), b = dot(r1, r2), cc = dot(r2, r2);
  const w = [-c[0]!, -c[1]!, -c[2]!];
  const d = dot(r1, w), e = dot(r2, w);
  const den = a * cc - b * b;
  if (Math.abs(den) < 1e-14) return null;
  const s = (b * e - cc * d) / den, u = (a * e - b * d) / den;
  if (s <= 0 || u <= 0) return null;
  const p1 = [r1[0]! * s, r1[1]! * s, r1[2]! * s];
  const p2 = [c[0]! + r2[0]! * u, c[1]! + r2[1]! * u, c[2]! + r2[2]! * u];
  return [(p1[0]! + p2[0]!) / 2, (p1[1]! + p2[1]!) / 2, (p1[2]! + p2[2]!) / 2];
}

function dot(a: number[], b: number[]): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}

/**
 * The homography is fitted to the epipolar inliers only (a match the epipolar geometry rejects
 * cannot make a pair planar), where it only has to be found when it explains at least half of
 * them: 143 four-point samples find such a homography with probability 0.9999 (1 − (1 − 0.5⁴)¹⁴³).
 * One that explains fewer can neither make the pair planar (that takes homographyRatio = 0.8) nor
 * bring the parallax ratio near 1, so a worse fit there changes no decision downstream.
 */
const HOMOGRAPHY_ITERATIONS = 143;

/** Verify one pair; returns a degenerate geometry (no inliers) when it does not hold up. */
export function verifyPair(f1: VerifyFeatures, f2: VerifyFeatures, cam1: Camera, cam2: Camera, calibrated: boolean, m: Uint32Array, opts: VerifyOptions): TwoViewGeometry {
  const numMatches = m.length / 2;
  const none: TwoViewGeometry = { config: 'degenerate', inliers: new Uint32Array(0), numMatches };
  if (numMatches < opts.minInliers) return none;
  const x1 = gatherPoints(f1, m, 2, 0), x2 = gatherPoints(f2, m, 2, 1);
  // the adaptive stopping rule ends early on good pairs; the cap bounds the cost of hopeless ones
  const ropts = { maxError: opts.maxError, confidence: 0.9999, maxIterations: 1000, seed: opts.seed };
  if (calibrated) {
    const E = estimateEssential(x1, x2, cam1, cam2, ropts);
    if (!E || E.numInliers < opts.minInliers) return none;
    const inl = selectInliers(m, E.inliers);
    const y1 = gatherPoints(f1, inl, 2, 0), y2 = gatherPoints(f2, inl, 2, 1);
    const H = estimateHomography(y1, y2, { ...ropts, maxIterations: HOMOGRAPHY_ITERATIONS });
    const tri = medianTriangulationAngle(cam1, cam2, y1, y2, E.R, E.t);
    const planar = H !== null && H.numInliers > opts.homographyRatio * E.numInliers;
    const par = H ? parallaxRatio(y1, y2, cam1, cam2, E.model, H.model).ratio : Infinity;
    return {
      config: planar ? (tri < 1 ? 'panoramic' : 'planar') : 'calibrated',
      inliers: inl, numMatches, E: E.model, R: E.R, t: E.t, triAngleDeg: tri, parallaxRatio: Number.isFinite(par) ? par : 1e9, ...(H ? { H: H.model } : {}),
    };
  }
  const F = estimateFundamental(x1, x2, ropts);
  if (!F || F.numInliers < opts.minInliers) return none;
  const inl = selectInliers(m, F.inliers);
  const H = estimateHomography(gatherPoints(f1, inl, 2, 0), gatherPoints(f2, inl, 2, 1), { ...ropts, maxIterations: HOMOGRAPHY_ITERATIONS });
  const planar = H !== null && H.numInliers > opts.homographyRatio * F.numInliers;
  return { config: planar ? 'planar' : 'uncalibrated', inliers: inl, numMatches, F: F.model, ...(H ? { H: H.model } : {}) };
}

/** A batch of pairs for verifyBatch: image indices, whether both are calibrated, raw matches. */
interface PairJob { i: number; j: number; cal: boolean; m: Uint32Array }

/**
 * Verify a batch of pairs against the images' keypoints and cameras: the whole job of one verify
 * worker message (src/sfm/verify-worker.mjs), and of the main thread when it verifies alone.
 */
export function verifyBatch(feats: readonly VerifyFeatures[], cams: readonly Camera[], jobs: readonly PairJob[], opts: VerifyOptions): TwoViewGeometry[] {
  return jobs.map((q) => verifyPair(feats[q.i]!, feats[q.j]!, cams[q.i]!, cams[q.j]!, q.cal, q.m, opts));
}

/** A verify worker's reply: the batch's geometries in order, or the error. */
type VerifyReply = { ok: boolean; geoms: TwoViewGeometry[]; error?: string };

/**
 * Verify every pair (cached). `calibrated[i]` says whether image i's intrinsics are trusted.
 * Uncached pairs run on `opts.workers` threads (default: one per core, see defaultWorkerCount);
 * each worker gets every image's keypoints once, then batches of pairs. The result does not depend
 * on the number of workers: every pair is verified with the same seed by the same code.
 */
export async function verifyPairs(db: SfmDatabase, feats: FeatureSet[], cams: Camera[], calibrated: boolean[], pairs: ImagePair[], matches: Uint32Array[], opts: VerifyOptions): Promise<TwoViewGeometry[]> {
  const progress = new Progress('sfm: verification', pairs.length, { silent: opts.silent });
  const optKey = JSON.stringify({ e: opts.maxError, n: opts.minInliers, h: opts.homographyRatio, s: opts.seed, v: 5 });
  const out: TwoViewGeometry[] = new Array(pairs.length);
  const keys: string[] = new Array(pairs.length);
  const todo: number[] = [];
  let done = 0;
  const report = (p: number) => {
    const g = out[p]!, { i, j } = pairs[p]!;
    progress.update(++done, `${feats[i]!.name}–${feats[j]!.name}: ${g.inliers.length / 2}/${g.numMatches} ${g.config}`);
  };
  const job = (p: number): PairJob => ({ i: pairs[p]!.i, j: pairs[p]!.j, cal: calibrated[pairs[p]!.i]! && calibrated[pairs[p]!.j]!, m: matches[p]! });
  for (let p = 0; p < pairs.length; p++) {
    const { i, j } = pairs[p]!;
    const f1 = feats[i]!, f2 = feats[j]!;
    const cal = calibrated[i]! && calibrated[j]!;
    keys[p] = hashString(f1.key + f2.key + optKey + JSON.stringify([cams[i]!.model, cams[i]!.params, cams[j]!.model, cams[j]!.params, cal]) + hashString(Buffer.from(matches[p]!.buffer, matches[p]!.byteOffset, matches[p]!.byteLength).toString('base64')));
    const g = db.getGeometry(pairId(f1, f2), keys[p]!);
    if (g) { out[p] = g; report(p); } else todo.push(p);
  }
  const workers = Math.min(opts.workers ?? defaultWorkerCount(), Math.floor(todo.length / MIN_PAIRS_PER_WORKER));
  if (workers <= 1) {
    for (const p of todo) { out[p] = verifyBatch(feats, cams, [job(p)], opts)[0]!; report(p); }
  } else {
    // small batches (≤ 8 pairs, ~8 per worker at least) keep the workers' finishing times close
    const size = Math.max(1, Math.min(8, Math.floor(todo.length / (workers * 8))));
    const batches: number[][] = [];
    for (let k = 0; k < todo.length; k += size) batches.push(todo.slice(k, k + size));
    await runOnWorkers<number[], VerifyReply>(new URL('./verify-worker.mjs', import.meta.url), batches, workers, async (batch, ask) => {
      const r = await ask({ type: 'verify', jobs: batch.map(job), opts });
      if (!r.ok) throw new Error(`verification failed: ${r.error}`);
      batch.forEach((p, k) => { out[p] = r.geoms[k]!; report(p); });
    }, async (ask) => {
      // every image's keypoints once per worker (a copy: 80 KB per image at 5000 features)
      await ask({ type: 'init', feats: feats.map(({ kp }) => ({ kp })), cams });
    });
  }
  db.transaction(() => { for (const p of todo) db.putGeometry(pairId(feats[pairs[p]!.i]!, feats[pairs[p]!.j]!), keys[p]!, out[p]!); });
  progress.finish();
  return out;
}

/**
 * Uncached pairs each worker must have for a pool to be started: a worker costs ~1.1 s of CPU to
 * start (TypeScript loader and modules), a real pair 45–60 ms (fountain-P11, nerd_moldGoldCape),
 * so two workers pay from ~45 pairs on idle cores; 55 fountain pairs ran faster on the main thread.
 */
const MIN_PAIRS_PER_WORKER = 32;
