/**
 * MapState.reprojError inlines projectPoint (no arrays per call, issue 16): it must give exactly the
 * error of projecting with projectPoint, for every camera model and behind the camera.
 */
import { describe, expect, it } from 'vitest';
import type { Camera } from '../src/core/camera.js';
import { projectPoint } from '../src/geometry/camera-model.js';
import { MapState } from '../src/sfm/map-state.js';
import { defaultMapperOptions } from '../src/sfm/mapper-options.js';
import type { FeatureSet } from '../src/sfm/types.js';
import { mulberry32 } from '../src/util/rng.js';

const cameras: Camera[] = [
  { id: 1, model: 'SIMPLE_RADIAL', width: 640, height: 480, params: [500, 321, 242, -0.08] },
  { id: 2, model: 'PINHOLE', width: 640, height: 480, params: [510, 505, 318, 236] },
  { id: 3, model: 'OPENCV', width: 640, height: 480, params: [505, 498, 322, 239, -0.1, 0.02, 0.001, -0.002] },
  { id: 4, model: 'RADIAL', width: 640, height: 480, params: [495, 320, 240, 0.05, -0.01] },
];

describe('MapState.reprojError', () => {
  it('equals the projectPoint error bit for bit, and is Infinity behind the camera', () => {
    const rand = mulberry32(7);
    const feats: FeatureSet[] = cameras.map((c, i) => {
      const kp = new Float32Array(4 * 50);
      for (let k = 0; k < 50; k++) { kp[4 * k] = rand() * c.width; kp[4 * k + 1] = rand() * c.height; kp[4 * k + 2] = 2; }
      return { name: `${i}.jpg`, key: String(i), width: c.width, height: c.height, n: 50, kp, desc: new Uint32Array(0), words: 8 } as unknown as FeatureSet;
    });
    const s = new MapState({ feats, cameras, imageCamera: [0, 1, 2, 3], refine: cameras.map(() => ({ focal: false, principalPoint: false, distortion: false })), pairs: [], geoms: [] }, defaultMapperOptions);
    let behind = 0;
    for (let img = 0; img < 4; img++) {
      const a = 0.3 * rand(), ca = Math.cos(a), sa = Math.sin(a);
      s.R[img] = [ca, 0, sa, 0, 1, 0, -sa, 0, ca];
      s.t[img] = [rand() - 0.5, rand() - 0.5, 4];
      for (let f = 0; f < 50; f++) {
        const X = [4 * (rand() - 0.5), 4 * (rand() - 0.5), 12 * (rand() - 0.5)];
        const R = s.R[img]!, t = s.t[img]!;
        const Xc = [0, 1, 2].map((r) => R[3 * r]! * X[0]! + R[3 * r + 1]! * X[1]! + R[3 * r + 2]! * X[2]! + t[r]!);
        const p = projectPoint(cameras[img]!, Xc);
        const kp = feats[img]!.kp;
        const want = p ? Math.hypot(p[0] - kp[4 * f]!, p[1] - kp[4 * f + 1]!) : Infinity;
        if (!p) behind++;
        expect(s.reprojError(img, f, X)).toBe(want);
      }
    }
    expect(behind).toBeGreaterThan(0);
  });
});
