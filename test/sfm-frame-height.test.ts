/**
 * Camera-height scale on a dashcam-like model (samples/dashcam): 8 frames one unit apart along a
 * road 0.1 below the path, few points on the road (lane paint), many on a roadside slope beside it,
 * and far points triangulated at small angles scattered up to 50× the camera height below. The old
 * fit took the median drop (dragged up by the far points) and the plane with most points (the
 * slope), and scaled such a model by 25 or, with the plane tilted through the path, by 976.
 */
import { describe, expect, it } from 'vitest';
import type { SparseModel } from '../src/core/sparse-model.js';
import { matToQuat } from '../src/geometry/rotation.js';
import { cameraCentre, scaleByCameraHeight } from '../src/sfm/frame.js';
import { mulberry32 } from '../src/util/rng.js';

function dashcamModel(seed: number): SparseModel {
  const rng = mulberry32(seed);
  const model: SparseModel = { cameras: new Map(), images: new Map(), points3D: new Map() };
  model.cameras.set(1, { id: 1, model: 'PINHOLE', width: 480, height: 270, params: [400, 400, 240, 135] });
  // world y up; camera x right (world −x), y down, z forward (world +z)
  const R = [-1, 0, 0, 0, -1, 0, 0, 0, 1];
  for (let v = 0; v < 8; v++) {
    const C = [0, 0.002 * v, v];
    const t = [0, 1, 2].map((r) => -(R[3 * r]! * C[0]! + R[3 * r + 1]! * C[1]! + R[3 * r + 2]! * C[2]!));
    model.images.set(v + 1, { id: v + 1, cameraId: 1, name: `f${v}.jpg`, qvec: matToQuat(R), tvec: [t[0]!, t[1]!, t[2]!], xys: new Float64Array(0), point3DIds: [] });
  }
  let id = 1;
  const add = (x: number, y: number, z: number) => { model.points3D.set(id, { id, xyz: [x, y, z], rgb: [0, 0, 0], error: 0.5, track: [] }); id++; };
  const n = () => (rng() - 0.5) * 0.004;
  for (let k = 0; k < 40; k++) add((rng() - 0.5) * 0.5, -0.1 + n(), rng() * 8); // road: lane paint
  for (let k = 0; k < 150; k++) { const x = 0.4 + rng() * 0.45; add(x, -0.1 + 0.2 * (x - 0.4) + n() / 4, rng() * 8); } // roadside slope
  for (let k = 0; k < 120; k++) { const z = 12 + rng() * 40; add((rng() - 0.5) * 20, -(0.5 + rng() * 5), z); } // far, noisy
  for (let k = 0; k < 200; k++) add((rng() - 0.5) * 10, rng() * 3, rng() * 30); // above the cameras: trees, signs
  return model;
}

describe('camera-height scale on forward (dashcam) footage', () => {
  it.each([1, 2, 3])('takes the road under the path, not the roadside slope or the far points (seed %i)', (seed) => {
    const model = dashcamModel(seed);
    const frame = scaleByCameraHeight(model, 1.4, 1);
    expect(frame).not.toBeNull();
    // 0.1 units below the path = 1.4 m: a scale of 14 (the old fit: ≈ 25, or a plane through the path)
    expect(frame!.scaleFactor).toBeGreaterThan(14 * 0.9);
    expect(frame!.scaleFactor).toBeLessThan(14 * 1.1);
    expect(frame!.up[1]).toBeGreaterThan(0.95);
    const c = [...model.images.values()].map((im) => cameraCentre(im.qvec, im.tvec));
    expect(Math.hypot(c[7]![0] - c[0]![0], c[7]![1] - c[0]![1], c[7]![2] - c[0]![2])).toBeCloseTo(7 * frame!.scaleFactor, 0);
  });
});
