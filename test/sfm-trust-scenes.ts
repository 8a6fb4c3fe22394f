/**
 * Synthetic captures for the SfM trust tests: exact cameras and points, noisy keypoints, matches
 * with a share of wrong ones. A forward-facing capture (LLFF kind: a hand-held camera stepped over a
 * small grid, all looking at the same scene, baseline a few % of the depth) and a pure rotation
 * (every camera at one centre) — the two cases where a homography explains nearly every match.
 */
import type { Camera } from '../src/core/camera.js';
import { expSO3 } from '../src/geometry/rotation.js';
import { mulberry32 } from '../src/util/rng.js';
import { verifyPair } from '../src/sfm/verify.js';
import type { FeatureSet, ImagePair, TwoViewGeometry } from '../src/sfm/types.js';

export interface SynthCapture {
  /** the true camera (PINHOLE) */
  truth: Camera;
  R: number[][];
  t: number[][];
  feats: FeatureSet[];
  /** point id of each keypoint, per image */
  pointOf: number[][];
}

function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
}

export interface CaptureOptions {
  views: number;
  points: number;
  /** keypoint noise, px */
  noisePx: number;
  seed: number;
  /** camera-centre spread (world units; the scene lies 2.5–12 in front); 0 = pure rotation */
  baseline: number;
  /** camera-centre spread along the viewing direction, as a share of `baseline` (default 0.1) */
  depthJitter?: number;
  /** random rotation about each axis, radians */
  rotation: number;
  /** depth range of the scene in front of the cameras (default 2.5–12: a near object and a background) */
  near?: number;
  far?: number;
  /** true intrinsics: fx = fy, cx, cy on a width × height image */
  focal?: number;
  width?: number;
  height?: number;
  cx?: number;
  cy?: number;
}

/** Views on a grid of centres (spacing from `baseline`), looking down +z with small rotations. */
export function makeCapture(o: CaptureOptions): SynthCapture {
  const rng = mulberry32(o.seed);
  const width = o.width ?? 706, height = o.height ?? 529;
  const f = o.focal ?? 560, cx = o.cx ?? width / 2, cy = o.cy ?? height / 2;
  const truth: Camera = { id: 1, model: 'PINHOLE', width, height, params: [f, f, cx, cy] };
  // points in the common frustum, uniform in inverse depth (as image features spread over a scene)
  const near = o.near ?? 2.5, far = o.far ?? 12;
  const pts: number[][] = [];
  for (let k = 0; k < o.points; k++) {
    const z = 1 / (1 / far + (1 / near - 1 / far) * rng());
    pts.push([((rng() - 0.5) * width * z) / f, ((rng() - 0.5) * height * z) / f, z]);
  }
  const cols = Math.ceil(Math.sqrt(o.views * 1.33));
  const R: number[][] = [], t: number[][] = [];
  for (let v = 0; v < o.views; v++) {
    const gx = (v % cols) / Math.max(1, cols - 1) - 0.5, gy = Math.floor(v / cols) / Math.max(1, Math.ceil(o.views / cols) - 1) - 0.5;
    const C = [o.baseline * gx + 0.1 * o.baseline * gauss(rng), 0.75 * o.baseline * gy + 0.1 * o.baseline * gauss(rng), (o.depthJitter ?? 0.1) * o.baseline * gauss(rng)];
    const Rv = expSO3([o.rotation * (rng() * 2 - 1), o.rotation * (rng() * 2 - 1), o.rotation * (rng() * 2 - 1)]);
    R.push(Rv);
    t.push([0, 1, 2].map((r) => -(Rv[3 * r]! * C[0]! + Rv[3 * r + 1]! * C[1]! + Rv[3 * r + 2]! * C[2]!)));
  }
  const feats: FeatureSet[] = [], pointOf: number[][] = [];
  for (let v = 0; v < o.views; v++) {
    const kp: number[] = [], ids: number[] = [];
    const Rv = R[v]!, tv = t[v]!;
    for (let k = 0; k < pts.length; k++) {
      const X = pts[k]!;
      const xc = Rv[0]! * X[0]! + Rv[1]! * X[1]! + Rv[2]! * X[2]! + tv[0]!;
      const yc = Rv[3]! * X[0]! + Rv[4]! * X[1]! + Rv[5]! * X[2]! + tv[1]!;
      const zc = Rv[6]! * X[0]! + Rv[7]! * X[1]! + Rv[8]! * X[2]! + tv[2]!;
      if (zc < 0.5) continue;
      const u = f * (xc / zc) + cx + o.noisePx * gauss(rng), w = f * (yc / zc) + cy + o.noisePx * gauss(rng);
      if (u < 0 || w < 0 || u >= width || w >= height) continue;
      if (rng() < 0.15) continue; // not detected in this view
      kp.push(u, w, 4, 0);
      ids.push(k);
    }
    feats.push({ name: `view${String(v).padStart(2, '0')}.png`, key: `s${o.seed}v${v}`, width, height, n: ids.length, kp: Float32Array.from(kp), desc: new Uint32Array(0), words: 0, rgb: new Uint8Array(ids.length * 3) });
    pointOf.push(ids);
  }
  return { truth, R, t, feats, pointOf };
}

/** True correspondences between two views plus 10 % random wrong ones. */
export function synthMatches(s: SynthCapture, i: number, j: number, rng: () => number): Uint32Array {
  const where = new Map<number, number>();
  s.pointOf[j]!.forEach((pid, f) => where.set(pid, f));
  const out: number[] = [];
  s.pointOf[i]!.forEach((pid, f) => { const g = where.get(pid); if (g !== undefined) out.push(f, g); });
  const nOut = Math.round((out.length / 2) * 0.1);
  for (let k = 0; k < nOut; k++) out.push(Math.floor(rng() * s.feats[i]!.n), Math.floor(rng() * s.feats[j]!.n));
  return Uint32Array.from(out);
}

/**
 * Exhaustive pairs verified as r2s does for a self-calibrated camera (guessed focal, centred).
 * Yields now and then: a long synchronous stretch starves vitest's worker RPC on a loaded machine.
 */
export async function verifyAll(s: SynthCapture, guess: Camera): Promise<{ pairs: ImagePair[]; geoms: TwoViewGeometry[] }> {
  const rng = mulberry32(3);
  const n = s.feats.length, pairs: ImagePair[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push({ i, j });
  const geoms: TwoViewGeometry[] = [];
  for (const { i, j } of pairs) {
    geoms.push(verifyPair(s.feats[i]!, s.feats[j]!, guess, guess, true, synthMatches(s, i, j, rng), { maxError: 2, minInliers: 15, homographyRatio: 0.8, seed: 3 }));
    if (geoms.length % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  return { pairs, geoms };
}

/** The camera r2s starts from without known intrinsics: focal 1.2 × the long side, centred, k1 0. */
export function guessedCamera(width: number, height: number): Camera {
  return { id: 1, model: 'SIMPLE_RADIAL', width, height, params: [1.2 * Math.max(width, height), width / 2, height / 2, 0] };
}

/** Self-calibrated incremental mapping of a synthetic capture from a guessed camera (focal, pp, k1 refined). */
export async function reconstructSynthetic(s: SynthCapture) {
  const { IncrementalMapper, defaultMapperOptions } = await import('../src/sfm/mapper.js');
  const guess = guessedCamera(s.truth.width, s.truth.height);
  const { pairs, geoms } = await verifyAll(s, guess);
  const cam = { ...guess, params: guess.params.slice() };
  const res = new IncrementalMapper(
    { feats: s.feats, cameras: [cam], imageCamera: s.feats.map(() => 0), refine: [{ focal: true, principalPoint: true, distortion: true }], pairs, geoms },
    { ...defaultMapperOptions, seed: 1, silent: true },
  ).run();
  return { res, cam, pairs, geoms, guess };
}
