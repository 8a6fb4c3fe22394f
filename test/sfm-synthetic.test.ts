/**
 * Verification + incremental mapping on a synthetic scene with exact cameras: random 3D points seen
 * by 8 cameras on an arc, keypoints = exact projections (+ small noise), matches = the true
 * correspondences plus 10 % wrong ones. The recovered poses must match the truth to ≤ 0.01°.
 */
import { describe, expect, it } from 'vitest';
import type { Camera } from '../src/core/camera.js';
import type { SparseModel } from '../src/core/sparse-model.js';
import { matMul3, expSO3, matToQuat } from '../src/geometry/rotation.js';
import { verifyPair } from '../src/sfm/verify.js';
import { IncrementalMapper, defaultMapperOptions } from '../src/sfm/mapper.js';
import { evaluatePoses } from '../src/eval/poses.js';
import { scaleByCameraHeight, cameraCentre, alignToGps } from '../src/sfm/frame.js';
import { selectPairs } from '../src/sfm/pairs.js';
import { mulberry32 } from '../src/util/rng.js';
import type { FeatureSet, ImagePair, TwoViewGeometry } from '../src/sfm/types.js';

interface Scene {
  cam: Camera;
  R: number[][];
  t: number[][];
  feats: FeatureSet[];
  /** point id of each keypoint, per image */
  pointOf: number[][];
  points: number[][];
}

function lookAt(C: number[], target: number[]): { R: number[]; t: number[] } {
  // camera z towards the target, camera y along world -y (world y is up in these scenes)
  const z = norm([target[0]! - C[0]!, target[1]! - C[1]!, target[2]! - C[2]!]);
  const x = norm(cross([0, -1, 0], z));
  const y = cross(z, x);
  const R = [...x, ...y, ...z];
  const t = [-(R[0]! * C[0]! + R[1]! * C[1]! + R[2]! * C[2]!), -(R[3]! * C[0]! + R[4]! * C[1]! + R[5]! * C[2]!), -(R[6]! * C[0]! + R[7]! * C[1]! + R[8]! * C[2]!)];
  return { R, t };
}
const cross = (a: number[], b: number[]) => [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
const norm = (a: number[]) => { const n = Math.hypot(a[0]!, a[1]!, a[2]!); return [a[0]! / n, a[1]! / n, a[2]! / n]; };

function makeScene(nViews: number, nPoints: number, noisePx: number, seed: number, ground = false): Scene {
  const rng = mulberry32(seed);
  const cam: Camera = { id: 1, model: 'PINHOLE', width: 1024, height: 768, params: [900, 905, 515, 380] };
  const points: number[][] = [];
  for (let k = 0; k < nPoints; k++) {
    if (ground && k % 2 === 0) points.push([(rng() - 0.5) * 5, -1.5, rng() * 6 + 4]); // road 1.5 below the path (world y is up here)
    else points.push([(rng() - 0.5) * 6, (rng() - 0.5) * 3, (rng() - 0.5) * 4 + 8]);
  }
  const R: number[][] = [], t: number[][] = [];
  for (let v = 0; v < nViews; v++) {
    const a = ((v - (nViews - 1) / 2) * 7 * Math.PI) / 180;
    const C = [8 * Math.sin(a), 0.3 * Math.sin(v), 8 - 8 * Math.cos(a)];
    const p = lookAt(C, [0, 0, 8]);
    // a little roll so the cameras are not all level
    const Rr = matMul3(expSO3([0, 0, 0.02 * (rng() - 0.5)]), p.R);
    const tt = [-(Rr[0]! * C[0]! + Rr[1]! * C[1]! + Rr[2]! * C[2]!), -(Rr[3]! * C[0]! + Rr[4]! * C[1]! + Rr[5]! * C[2]!), -(Rr[6]! * C[0]! + Rr[7]! * C[1]! + Rr[8]! * C[2]!)];
    R.push(Rr); t.push(tt);
  }
  const feats: FeatureSet[] = [];
  const pointOf: number[][] = [];
  const [fx, fy, cx, cy] = cam.params as [number, number, number, number];
  for (let v = 0; v < nViews; v++) {
    const kp: number[] = [], ids: number[] = [];
    for (let k = 0; k < nPoints; k++) {
      const X = points[k]!, Rv = R[v]!, tv = t[v]!;
      const xc = Rv[0]! * X[0]! + Rv[1]! * X[1]! + Rv[2]! * X[2]! + tv[0]!;
      const yc = Rv[3]! * X[0]! + Rv[4]! * X[1]! + Rv[5]! * X[2]! + tv[1]!;
      const zc = Rv[6]! * X[0]! + Rv[7]! * X[1]! + Rv[8]! * X[2]! + tv[2]!;
      if (zc <= 0.1) continue;
      const u = fx * (xc / zc) + cx + noisePx * gauss(rng), w = fy * (yc / zc) + cy + noisePx * gauss(rng);
      if (u < 0 || w < 0 || u >= cam.width || w >= cam.height) continue;
      if (rng() < 0.15) continue; // not every point is detected everywhere
      kp.push(u, w, 4, 0);
      ids.push(k);
    }
    const n = ids.length;
    feats.push({ name: `view${String(v).padStart(2, '0')}.png`, key: `k${v}`, width: cam.width, height: cam.height, n, kp: Float32Array.from(kp), desc: new Uint32Array(0), words: 0, rgb: new Uint8Array(n * 3) });
    pointOf.push(ids);
  }
  return { cam, R, t, feats, pointOf, points };
}

function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
}

/** True correspondences between two views plus `outlierFrac` random wrong ones. */
function trueMatches(s: Scene, i: number, j: number, outlierFrac: number, rng: () => number): Uint32Array {
  const where = new Map<number, number>();
  s.pointOf[j]!.forEach((pid, f) => where.set(pid, f));
  const out: number[] = [];
  s.pointOf[i]!.forEach((pid, f) => { const g = where.get(pid); if (g !== undefined) out.push(f, g); });
  const nOut = Math.round((out.length / 2) * outlierFrac);
  for (let k = 0; k < nOut; k++) out.push(Math.floor(rng() * s.feats[i]!.n), Math.floor(rng() * s.feats[j]!.n));
  return Uint32Array.from(out);
}

function gtMap(s: Scene): Map<string, { R: number[]; t: number[] }> {
  const m = new Map<string, { R: number[]; t: number[] }>();
  s.feats.forEach((f, v) => m.set(f.name, { R: s.R[v]!, t: s.t[v]! }));
  return m;
}

function reconstruct(s: Scene, refine: boolean, seed = 3, keep: (p: ImagePair) => boolean = () => true) {
  const rng = mulberry32(seed);
  const pairs: ImagePair[] = selectPairs(s.feats.length, 'exhaustive').pairs.filter(keep);
  const cam0: Camera = refine ? { ...s.cam, model: 'SIMPLE_RADIAL', params: [s.cam.params[0]! * 1.1, s.cam.width / 2, s.cam.height / 2, 0] } : { ...s.cam, params: s.cam.params.slice() };
  const geoms: TwoViewGeometry[] = pairs.map(({ i, j }) => verifyPair(s.feats[i]!, s.feats[j]!, cam0, cam0, true, trueMatches(s, i, j, 0.1, rng), { maxError: 2, minInliers: 15, homographyRatio: 0.8, seed }));
  const mapper = new IncrementalMapper(
    { feats: s.feats, cameras: [cam0], imageCamera: s.feats.map(() => 0), refine: [{ focal: refine, principalPoint: refine, distortion: false }], pairs, geoms },
    { ...defaultMapperOptions, maxError: 2, seed, silent: true },
  );
  return mapper.run();
}

describe('sfm on a synthetic scene with exact cameras', () => {
  it('recovers every pose to ≤ 0.01° with known intrinsics (10 % wrong matches)', () => {
    const s = makeScene(8, 800, 0.1, 7);
    const res = reconstruct(s, false);
    expect(res.stats.registered).toBe(8);
    expect(res.failed).toEqual([]);
    expect(res.stats.points).toBeGreaterThan(500);
    expect(res.stats.meanReprojError).toBeLessThan(0.3);
    const ev = evaluatePoses(res.model, gtMap(s));
    expect(ev.registered).toBe(8);
    expect(ev.rotErrDeg.max).toBeLessThan(0.01);
    // every track element refers to an observation that names the point back
    const m: SparseModel = res.model;
    for (const p of [...m.points3D.values()].slice(0, 200)) {
      for (const el of p.track) expect(m.images.get(el.imageId)!.point3DIds[el.point2DIdx]).toBe(p.id);
    }
  });

  it('self-calibrates a focal length that starts 10 % off', () => {
    const s = makeScene(8, 800, 0.1, 11);
    const res = reconstruct(s, true);
    expect(res.stats.registered).toBe(8);
    const f = res.model.cameras.get(1)!.params[0]!;
    expect(Math.abs(f / 902.5 - 1)).toBeLessThan(0.01);
    const ev = evaluatePoses(res.model, gtMap(s));
    expect(ev.rotErrDeg.max).toBeLessThan(0.1);
  });

  it('scales the model so the cameras stand at the given height above the ground plane', () => {
    const s = makeScene(8, 1200, 0.1, 5, true);
    const res = reconstruct(s, false);
    expect(res.stats.registered).toBe(8);
    const frame = scaleByCameraHeight(res.model, 1.5, 1);
    expect(frame).not.toBeNull();
    expect(frame!.scale).toBe('metric');
    // metric now: distances between camera centres equal the truth
    const ims = [...res.model.images.values()].sort((a, b) => a.name.localeCompare(b.name));
    const c0 = cameraCentre(ims[0]!.qvec, ims[0]!.tvec), c7 = cameraCentre(ims[7]!.qvec, ims[7]!.tvec);
    const g0 = cameraCentre(matToQuat(s.R[0]!), s.t[0]!), g7 = cameraCentre(matToQuat(s.R[7]!), s.t[7]!);
    const d = Math.hypot(c0[0] - c7[0], c0[1] - c7[1], c0[2] - c7[2]), dg = Math.hypot(g0[0] - g7[0], g0[1] - g7[1], g0[2] - g7[2]);
    expect(Math.abs(d / dg - 1)).toBeLessThan(0.02);
    // up points away from the ground; the model frame is the first camera's, whose y axis is down
    expect(frame!.up[1]).toBeLessThan(-0.95);
  });

  it('aligns the model to GPS (ENU) positions with a robust similarity', () => {
    const s = makeScene(8, 800, 0.1, 9);
    const res = reconstruct(s, false);
    const rng = mulberry32(4);
    // ENU = true centres rotated about the vertical, shifted, with 5 cm noise; one wild outlier
    const Rz = expSO3([0, 0.7, 0]);
    const enu = new Map<string, [number, number, number]>();
    s.feats.forEach((f, v) => {
      const c = cameraCentre(matToQuat(s.R[v]!), s.t[v]!);
      const r = [Rz[0]! * c[0] + Rz[1]! * c[1] + Rz[2]! * c[2], Rz[3]! * c[0] + Rz[4]! * c[1] + Rz[5]! * c[2], Rz[6]! * c[0] + Rz[7]! * c[1] + Rz[8]! * c[2]];
      const out: [number, number, number] = [r[0]! + 100 + 0.05 * gauss(rng), r[1]! - 50 + 0.05 * gauss(rng), r[2]! + 0.05 * gauss(rng)];
      if (v === 3) out[0] += 40;
      enu.set(f.name, out);
    });
    const frame = alignToGps(res.model, enu, 1);
    expect(frame).not.toBeNull();
    expect(frame!.method).toBe('gps');
    expect(frame!.gpsInliers).toBe(7);
    for (const im of res.model.images.values()) {
      if (im.name === s.feats[3]!.name) continue;
      const c = cameraCentre(im.qvec, im.tvec), e = enu.get(im.name)!;
      expect(Math.hypot(c[0] - e[0], c[1] - e[1], c[2] - e[2])).toBeLessThan(0.2);
    }
  });

  it('reports a group of images that has no verified matches to the rest, and keeps the largest', () => {
    const s = makeScene(8, 800, 0.1, 13);
    const group = (v: number) => (v >= 6 ? 1 : 0);
    const res = reconstruct(s, false, 3, (p) => group(p.i) === group(p.j));
    expect(res.stats.groups).toEqual([6, 2]);
    expect(res.stats.registered).toBe(6);
    expect(res.failed.map((f) => f.name).sort()).toEqual([s.feats[6]!.name, s.feats[7]!.name]);
    for (const f of res.failed) expect(f.reason).toMatch(/separate group of 2 images/);
  });
});
