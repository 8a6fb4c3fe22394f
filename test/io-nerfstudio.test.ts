import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTransforms, writeTransforms, modelToTransforms, flipCameraAxes, type TransformsJson } from '../src/io/nerfstudio.js';
import { readColmapModel } from '../src/io/colmap.js';
import { type SparseModel, emptyModel } from '../src/core/sparse-model.js';
import { pinholeOf } from '../src/core/camera.js';
import { quatToMat, matMul3, matVec3, transpose3, rotationAngleDeg, cameraCenter, type Mat3, type Vec3 } from '../src/geometry/rotation.js';
import { UserError } from '../src/util/errors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fox = path.resolve(repoRoot, '../shared/datasets/ingp_fox/gt');
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'r2s-ns-'));

/** Eigenvector of the largest eigenvalue of a symmetric 4×4 matrix (cyclic Jacobi). */
function topEigenvector4(a: number[][]): number[] {
  const A = a.map((r) => r.slice());
  const V: number[][] = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 50; sweep++) {
    for (let p = 0; p < 3; p++) for (let q = p + 1; q < 4; q++) {
      if (Math.abs(A[p]![q]!) < 1e-300) continue;
      const th = 0.5 * Math.atan2(2 * A[p]![q]!, A[q]![q]! - A[p]![p]!);
      const c = Math.cos(th), s = Math.sin(th);
      for (let k = 0; k < 4; k++) {
        const akp = A[k]![p]!, akq = A[k]![q]!;
        A[k]![p] = c * akp - s * akq; A[k]![q] = s * akp + c * akq;
      }
      for (let k = 0; k < 4; k++) {
        const apk = A[p]![k]!, aqk = A[q]![k]!;
        A[p]![k] = c * apk - s * aqk; A[q]![k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 4; k++) {
        const vkp = V[k]![p]!, vkq = V[k]![q]!;
        V[k]![p] = c * vkp - s * vkq; V[k]![q] = s * vkp + c * vkq;
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (A[i]![i]! > A[best]![best]!) best = i;
  return V.map((r) => r[best]!);
}

/** Similarity y ≈ s·R·x + t between point sets (Horn's closed form). */
function alignSimilarity(x: Vec3[], y: Vec3[]): { s: number; R: Mat3; t: Vec3 } {
  const mean = (p: Vec3[]): Vec3 => p.reduce<Vec3>((m, v) => [m[0] + v[0] / p.length, m[1] + v[1] / p.length, m[2] + v[2] / p.length], [0, 0, 0]);
  const mx = mean(x), my = mean(y);
  const S = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  let vx = 0, vy = 0;
  x.forEach((p, k) => {
    const a = [p[0] - mx[0], p[1] - mx[1], p[2] - mx[2]], b = [y[k]![0] - my[0], y[k]![1] - my[1], y[k]![2] - my[2]];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) S[i * 3 + j]! += a[i]! * b[j]!;
    vx += a[0]! ** 2 + a[1]! ** 2 + a[2]! ** 2; vy += b[0]! ** 2 + b[1]! ** 2 + b[2]! ** 2;
  });
  const [Sxx, Sxy, Sxz, Syx, Syy, Syz, Szx, Szy, Szz] = S as [number, number, number, number, number, number, number, number, number];
  const N = [
    [Sxx + Syy + Szz, Syz - Szy, Szx - Sxz, Sxy - Syx],
    [Syz - Szy, Sxx - Syy - Szz, Sxy + Syx, Szx + Sxz],
    [Szx - Sxz, Sxy + Syx, -Sxx + Syy - Szz, Syz + Szy],
    [Sxy - Syx, Szx + Sxz, Syz + Szy, -Sxx - Syy + Szz],
  ];
  const R = quatToMat(topEigenvector4(N));
  const s = Math.sqrt(vy / vx);
  const Rm = matVec3(R, mx);
  return { s, R, t: [my[0] - s * Rm[0], my[1] - s * Rm[1], my[2] - s * Rm[2]] };
}

function byName(m: SparseModel): Map<string, { R: Mat3; t: Vec3; C: Vec3; cam: ReturnType<typeof pinholeOf> }> {
  const out = new Map();
  for (const im of m.images.values()) {
    const R = quatToMat(im.qvec);
    out.set(im.name, { R, t: im.tvec, C: cameraCenter(R, im.tvec), cam: pinholeOf(m.cameras.get(im.cameraId)!) });
  }
  return out;
}

function expectSamePoses(a: SparseModel, b: SparseModel, tolDeg = 1e-9, tolT = 1e-9): void {
  const A = byName(a), B = byName(b);
  expect([...B.keys()].sort()).toEqual([...A.keys()].sort());
  for (const [name, p] of A) {
    const q = B.get(name)!;
    expect(rotationAngleDeg(p.R, q.R)).toBeLessThan(tolDeg);
    for (let k = 0; k < 3; k++) expect(Math.abs(p.t[k]! - q.t[k]!)).toBeLessThan(tolT);
  }
}

describe('transforms.json (nerfstudio / instant-ngp)', () => {
  it('the axis flip is its own inverse and turns OpenGL "look down −z" into OpenCV "look down +z"', () => {
    const R: Mat3 = quatToMat([0.9, 0.1, -0.3, 0.2]);
    expect(flipCameraAxes(flipCameraAxes(R))).toEqual(R);
    // an OpenGL camera at the origin with identity c2w looks along −z (world)
    const cv = flipCameraAxes([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(matVec3(cv, [0, 0, 1]).map((v) => v + 0)).toEqual([0, 0, -1]);
  });

  it('ingp_fox: transforms.json matches gt/colmap_text and cameras_w2c.json', async (ctx) => {
    if (!existsSync(fox)) return ctx.skip();
    const { model } = await readTransforms(path.join(fox, 'transforms.json'));
    const ref = await readColmapModel(path.join(fox, 'colmap_text'));
    expect(model.images.size).toBe(67);
    expect(ref.images.size).toBe(67);
    const A = byName(model), B = byName(ref);
    // align camera centres by a similarity (in case the frames differ), then compare
    const names = [...B.keys()].sort();
    const sim = alignSimilarity(names.map((n) => A.get(n)!.C), names.map((n) => B.get(n)!.C));
    const extent = Math.max(...[0, 1, 2].map((k) => Math.max(...names.map((n) => B.get(n)!.C[k]!)) - Math.min(...names.map((n) => B.get(n)!.C[k]!))));
    let maxRot = 0, maxC = 0;
    for (const n of names) {
      const a = A.get(n)!, b = B.get(n)!;
      // world-to-camera of a in b's frame: R_a · Simᵀ
      maxRot = Math.max(maxRot, rotationAngleDeg(matMul3(a.R, transpose3(sim.R)), b.R));
      const c = matVec3(sim.R, a.C);
      maxC = Math.max(maxC, Math.hypot(sim.s * c[0] + sim.t[0] - b.C[0], sim.s * c[1] + sim.t[1] - b.C[1], sim.s * c[2] + sim.t[2] - b.C[2]));
      // intrinsics: the pinhole part equals the reference, distortion comes from the json
      expect(a.cam).toEqual(b.cam);
    }
    // The file's matrices are orthonormal only to 1.2e-6 (≈7e-5° of ambiguity); the reference
    // quaternions and ours are both projections of them onto rotations.
    expect(maxRot).toBeLessThan(1e-5);
    expect(maxC / extent).toBeLessThan(1e-6);
    // the conversion is the plain axis flip: no scale, rotation or offset is left to align
    expect(Math.abs(sim.s - 1)).toBeLessThan(1e-6);
    expect(rotationAngleDeg(sim.R, [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1e-5);
    const cam = [...model.cameras.values()];
    expect(cam.length).toBe(1);
    expect(cam[0]!.model).toBe('OPENCV');
    expect(cam[0]!.params).toEqual([1375.52, 1374.49, 554.558, 965.268, 0.0578421, -0.0805099, -0.000980296, 0.00015575]);
    // and R, t equal cameras_w2c.json
    const gt = JSON.parse(readFileSync(path.join(fox, 'cameras_w2c.json'), 'utf8')) as { images: Record<string, { R: number[][]; t: number[] }> };
    for (const [n, p] of A) {
      const g = gt.images[n]!;
      const M = g.R.flat();
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) expect(p.R[i * 3 + j]!).toBeCloseTo(M[i * 3 + j]!, 5);
        expect(p.t[i]!).toBeCloseTo(g.t[i]!, 5);
      }
      // ours is the rotation nearest to the file's matrix: never farther than the reference's
      const dist = (R: Mat3): number => Math.hypot(...R.map((v, k) => v - M[k]!));
      expect(dist(p.R)).toBeLessThanOrEqual(dist(B.get(n)!.R) + 1e-15);
    }
  });

  it('write → read round trip keeps ids, names, poses and intrinsics (shared and per-frame cameras)', async () => {
    const m = emptyModel();
    m.cameras.set(1, { id: 1, model: 'OPENCV', width: 800, height: 600, params: [700, 710, 401.5, 299.25, 0.01, -0.02, 0.001, -0.0005] });
    m.cameras.set(2, { id: 2, model: 'PINHOLE', width: 640, height: 480, params: [500, 500, 320, 240] });
    for (let i = 0; i < 5; i++) {
      const q = [0.5 + i, 0.1 * i, -0.2, 0.3];
      const n = Math.hypot(...q);
      m.images.set(7 + i, { id: 7 + i, cameraId: 1 + (i % 2), name: `f${i}.png`, qvec: q.map((v) => v / n) as [number, number, number, number], tvec: [i, -2 * i, 3.5], xys: new Float64Array(0), point3DIds: [] });
    }
    const dir = tmp();
    await writeTransforms(path.join(dir, 'transforms.json'), m);
    const json = JSON.parse(readFileSync(path.join(dir, 'transforms.json'), 'utf8')) as TransformsJson;
    expect(json.fl_x).toBeUndefined(); // two cameras → per-frame intrinsics
    expect(json.frames[0]!.file_path).toBe('images/f0.png');
    const back = (await readTransforms(path.join(dir, 'transforms.json'))).model;
    expect([...back.images.keys()].sort()).toEqual([...m.images.keys()].sort());
    expectSamePoses(m, back, 1e-6, 1e-12);
    for (const [id, im] of m.images) {
      const b = back.images.get(id)!;
      expect(b.name).toBe(im.name);
      const ca = m.cameras.get(im.cameraId)!, cb = back.cameras.get(b.cameraId)!;
      expect([cb.model, cb.width, cb.height, cb.params]).toEqual([ca.model, ca.width, ca.height, ca.params]);
    }
    // one camera → global intrinsics
    for (const im of m.images.values()) im.cameraId = 1;
    const shared = modelToTransforms(m);
    expect(shared.fl_x).toBe(700);
    expect(shared.frames[0]!.fl_x).toBeUndefined();
  });

  it('undoes nerfstudio applied_transform and derives intrinsics from camera_angle_x and the image size', async () => {
    const m = emptyModel();
    m.cameras.set(1, { id: 1, model: 'PINHOLE', width: 800, height: 800, params: [1111, 1111, 400, 400] });
    m.images.set(1, { id: 1, cameraId: 1, name: 'r_0.png', qvec: [0.8, 0.2, -0.4, 0.4].map((v) => v / Math.hypot(0.8, 0.2, -0.4, 0.4)) as [number, number, number, number], tvec: [0.5, -1, 4], xys: new Float64Array(0), point3DIds: [] });
    const json = modelToTransforms(m, { imagePrefix: './train/' });
    // what ns-process-data does: permute axes, then (here) also scale by 2 and shift
    const A = [[0, 2, 0, 1], [0, 0, 2, -3], [2, 0, 0, 0.5]];
    for (const fr of json.frames) {
      const T = fr.transform_matrix;
      fr.transform_matrix = [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => A[i]![0]! * T[0]![j]! + A[i]![1]! * T[1]![j]! + A[i]![2]! * T[2]![j]! + (j === 3 ? A[i]![3]! : 0)));
      // rotation columns must stay unit: divide out the scale
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) fr.transform_matrix[i]![j]! /= 2;
      fr.file_path = fr.file_path.replace(/\.png$/, '');
    }
    json.applied_transform = A;
    const angle = json.camera_angle_x!;
    for (const k of ['fl_x', 'fl_y', 'cx', 'cy', 'w', 'h', 'camera_angle_y'] as const) delete json[k];
    json.camera_angle_x = angle;
    const dir = tmp();
    const file = path.join(dir, 'transforms.json');
    writeFileSync(file, JSON.stringify(json));
    const sizes: string[] = [];
    const back = (await readTransforms(file, { imageSize: async (p) => { sizes.push(p); return { width: 800, height: 800 }; } })).model;
    expect(sizes).toEqual(['./train/r_0']);
    expect(back.images.get(1)!.name).toBe('r_0'); // import appends the extension of the file it finds
    back.images.get(1)!.name = 'r_0.png';
    expectSamePoses(m, back, 1e-6, 1e-12);
    const cam = back.cameras.get(1)!;
    expect(cam.model).toBe('PINHOLE');
    cam.params.forEach((v, k) => expect(v).toBeCloseTo(m.cameras.get(1)!.params[k]!, 9));
  });

  it('reports a bad file as a user error naming it', async () => {
    const dir = tmp();
    const file = path.join(dir, 'transforms.json');
    writeFileSync(file, '{"frames": [{"file_path": "a.png", "transform_matrix": [[1,0,0]]}], "fl_x": 1, "w": 2, "h": 2}');
    await expect(readTransforms(file)).rejects.toThrow(/transforms\.json: frame 0 \(a\.png\): "transform_matrix" must be/);
    writeFileSync(file, '{"frames": [{"file_path": "a.png", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,0]]}]}');
    await expect(readTransforms(file)).rejects.toThrow(/no image size/);
    writeFileSync(file, '{"frames": ');
    await expect(readTransforms(file)).rejects.toBeInstanceOf(UserError);
  });
});
