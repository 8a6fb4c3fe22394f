/**
 * Points from known poses (COLMAP's point_triangulator): a synthetic capture rendered from exact
 * cameras, written as a workspace, its model stripped of points; the triangulator must bring back
 * points that reproject within a pixel, sit on the rendered surfaces (depth agrees with the
 * renderer's), are seen from every image, and leave cameras and poses untouched.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { captureToModel, writeSyntheticWorkspace } from '../src/synthetic/workspace.js';
import { essentialFromPoses, sampsonSq, selectPosePairs, triangulateKnownPoses } from '../src/sfm/point-triangulator.js';
import { quatToMat, matVec3, cameraCenter, expSO3 } from '../src/geometry/rotation.js';
import { projectPoint } from '../src/geometry/camera-model.js';
import { readColmapModel, writeColmapModel } from '../src/io/colmap.js';
import { setQuiet } from '../src/util/log.js';

setQuiet(true);

describe('epipolar geometry from known poses', () => {
  it('exact correspondences have zero Sampson distance, shifted ones about their offset', () => {
    const R1 = expSO3([0.1, -0.2, 0.05]), t1 = [0.3, -0.1, 2];
    const R2 = expSO3([-0.05, 0.3, 0.1]), t2 = [-0.6, 0.2, 2.2];
    const E = essentialFromPoses(R1, t1, R2, t2)!;
    for (const X of [[0.1, 0.2, 0.3], [-0.4, 0.1, -0.2], [0.3, -0.3, 0.5]]) {
      const a = matVec3(R1, X), b = matVec3(R2, X);
      const x1 = [(a[0] + t1[0]!) / (a[2] + t1[2]!), (a[1] + t1[1]!) / (a[2] + t1[2]!)];
      const x2 = [(b[0] + t2[0]!) / (b[2] + t2[2]!), (b[1] + t2[1]!) / (b[2] + t2[2]!)];
      expect(sampsonSq(E, x1[0]!, x1[1]!, x2[0]!, x2[1]!)).toBeLessThan(1e-20);
      // a 0.01 shift off the epipolar line is seen (up to the line's direction)
      expect(Math.sqrt(sampsonSq(E, x1[0]!, x1[1]!, x2[0]! + 0.01, x2[1]! - 0.01))).toBeGreaterThan(1e-3);
    }
    expect(essentialFromPoses(R1, t1, R2, matVec3(matMulT(R2, R1), t1))).toBeNull(); // same centre
  });

  it('picks neighbouring, similarly-looking views for large sets and every pair for small ones', () => {
    // 60 cameras on a circle looking at its centre
    const views = Array.from({ length: 60 }, (_, i) => {
      const a = (2 * Math.PI * i) / 60;
      const R = expSO3([0, -a, 0]);
      const C = [-Math.sin(a) * 4, 0, -Math.cos(a) * 4]; // camera z = (sin a, 0, cos a) points inwards
      return { R, C };
    });
    const near = selectPosePairs(views, { pairs: 'auto', exhaustiveUpTo: 40, neighbours: 4, maxViewAngleDeg: 70 });
    for (const { i, j } of near) expect(Math.min(Math.abs(i - j), 60 - Math.abs(i - j))).toBeLessThanOrEqual(2);
    expect(near.length).toBe(120);
    expect(selectPosePairs(views.slice(0, 10), { pairs: 'auto', exhaustiveUpTo: 40, neighbours: 4, maxViewAngleDeg: 70 })).toHaveLength(45);
  });
});

describe('triangulateKnownPoses', () => {
  it('restores points on a synthetic capture whose model has none', async () => {
    const cap = renderSyntheticCapture({ views: 12, size: 256, seed: 3 });
    const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'r2s-pointtri-')), 'ws');
    await writeSyntheticWorkspace(root, cap);
    // the model as an importer sees it: cameras and poses, no points, no 2D observations
    const bare = captureToModel(cap, 'truth');
    bare.points3D.clear();
    for (const im of bare.images.values()) { im.xys = new Float64Array(0); im.point3DIds = []; }
    await writeColmapModel(path.join(root, 'bare'), bare);
    const model = await readColmapModel(path.join(root, 'bare'));
    expect(model.points3D.size).toBe(0);

    const out = await triangulateKnownPoses(model, path.join(root, 'images'), { silent: true, database: path.join(root, 'sfm.db') });
    expect(out.points3D.size).toBeGreaterThan(250);
    const cam = out.cameras.get(1)!;
    expect(cam).toEqual(model.cameras.get(1));
    let errSum = 0, nObs = 0;
    const depthRel: number[] = [];
    for (const im of out.images.values()) {
      const before = model.images.get(im.id)!;
      expect(im.qvec).toEqual(before.qvec);
      expect(im.tvec).toEqual(before.tvec);
      expect(im.point3DIds.length).toBeGreaterThanOrEqual(30);
      const R = quatToMat(im.qvec);
      const truth = cap.images.find((c) => c.name === im.name)!;
      im.point3DIds.forEach((pid, k) => {
        const p = out.points3D.get(pid)!;
        expect(p.track.some((t) => t.imageId === im.id && t.point2DIdx === k)).toBe(true);
        const Xc = matVec3(R, p.xyz).map((v, a) => v + im.tvec[a]!);
        const uv = projectPoint(cam, Xc)!;
        errSum += Math.hypot(uv[0] - im.xys[2 * k]!, uv[1] - im.xys[2 * k + 1]!);
        nObs++;
        // the renderer's depth at the keypoint: points lie on what the images show
        const d = truth.depth[Math.floor(im.xys[2 * k + 1]!) * cam.width + Math.floor(im.xys[2 * k]!)]!;
        if (d > 0) depthRel.push(Math.abs(Xc[2]! - d) / d);
      });
    }
    expect(errSum / nObs).toBeLessThan(1);
    depthRel.sort((a, b) => a - b);
    expect(depthRel[depthRel.length >> 1]!).toBeLessThan(0.02);
    // every point is in front of every camera that sees it
    for (const p of out.points3D.values()) {
      for (const t of p.track) {
        const im = out.images.get(t.imageId)!;
        const C = cameraCenter(quatToMat(im.qvec), im.tvec);
        const z = matVec3(quatToMat(im.qvec), p.xyz)[2] + im.tvec[2];
        expect(z).toBeGreaterThan(0);
        expect(Math.hypot(p.xyz[0] - C[0], p.xyz[1] - C[1], p.xyz[2] - C[2])).toBeGreaterThan(0);
      }
    }
  });
});

function matMulT(a: number[], b: number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[3 * r + c]! += a[3 * r + k]! * b[3 * c + k]!;
  return out;
}
