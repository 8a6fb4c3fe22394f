import { describe, it, expect } from 'vitest';
import type { Camera, CameraModelName } from '../src/core/camera.js';
import { emptyModel } from '../src/core/sparse-model.js';
import {
  distortToPixel, hasDistortion, lensAt, pixelToNormalized, remapImage, remapNearest, undistortMap, undistortion, type Lens,
} from '../src/geometry/undistort.js';
import { buildTrainData } from '../src/scene/dataset.js';

/** Every model SfM and import produce, barrel and pincushion, with tangential terms where the model has them. */
const W = 96, H = 72;
const cases: [string, CameraModelName, number[]][] = [
  ['SIMPLE_RADIAL barrel', 'SIMPLE_RADIAL', [80, 48.3, 35.6, -0.12]],
  ['SIMPLE_RADIAL pincushion', 'SIMPLE_RADIAL', [80, 47.5, 36.2, 0.15]],
  // strong barrel: the photo's corners lie beyond the fold of r(1 + k r²) (no ray maps there)
  ['SIMPLE_RADIAL folded corners', 'SIMPLE_RADIAL', [75, 48, 36, -0.25]],
  ['RADIAL', 'RADIAL', [82, 48, 36, -0.1, 0.02]],
  ['OPENCV', 'OPENCV', [85, 83, 47.1, 37.3, 0.06, -0.08, -0.004, 0.003]],
  ['OPENCV barrel', 'OPENCV', [70, 71, 49, 35, -0.2, 0.04, 0.001, -0.002]],
  ['OPENCV_FISHEYE', 'OPENCV_FISHEYE', [45, 45, 48, 36, 0.05, 0.01, -0.002, 0.0005]],
  ['FULL_OPENCV', 'FULL_OPENCV', [80, 80, 48, 36, -0.25, 0.08, 0.001, 0.002, -0.01, 0.02, 0.005, 0]],
];

const cam = (model: CameraModelName, params: number[], id = 1): Camera => ({ id, model, width: W, height: H, params });

/** output pixel (i, j) centre → its ray in normalised coordinates */
const rayOf = (ph: { fx: number; fy: number; cx: number; cy: number }, i: number, j: number): [number, number] => [(i + 0.5 - ph.cx) / ph.fx, (j + 0.5 - ph.cy) / ph.fy];

describe('undistortion to a pinhole (geometry/undistort)', () => {
  for (const [label, model, params] of cases) {
    it(`${label}: the crop holds only valid pixels, is not needlessly small, and distort∘undistort is the identity within 1e-3 px`, () => {
      const lens = lensAt(cam(model, params));
      expect(hasDistortion(lens)).toBe(true);
      // focal kept when no size cap applies
      const u = undistortion(lens, { maxSide: 100000 });
      const ph = u.pinhole;
      expect(ph.fx).toBeCloseTo(lens.fx, 9);
      expect(ph.fy).toBeCloseTo(lens.fy, 9);
      expect(ph.width * ph.height).toBeGreaterThan(0.3 * W * H);
      // every output pixel samples inside the photo's pixel centres, on the lens's main branch,
      // and the map is the forward model (recomputed here independently of the map)
      const d = [0, 0];
      let worst = 0, mapErr = 0, outside = 0, lost = 0;
      for (let j = 0; j < ph.height; j++) {
        for (let i = 0; i < ph.width; i++) {
          const [x, y] = rayOf(ph, i, j);
          distortToPixel(lens, x, y, d);
          const o = (j * ph.width + i) * 2;
          mapErr = Math.max(mapErr, Math.abs(u.map[o]! - d[0]!), Math.abs(u.map[o + 1]! - d[1]!));
          if (d[0]! < 0.5 - 1e-3 || d[0]! > W - 0.5 + 1e-3 || d[1]! < 0.5 - 1e-3 || d[1]! > H - 0.5 + 1e-3) outside++;
          // undistort the distorted position back to the pinhole pixel
          const back = pixelToNormalized(lens, d[0]!, d[1]!);
          if (!back) { lost++; continue; }
          worst = Math.max(worst, Math.hypot((back[0] - x) * ph.fx, (back[1] - y) * ph.fy));
        }
      }
      expect(mapErr).toBeLessThan(1e-3);
      expect(outside).toBe(0);
      expect(lost).toBe(0);
      expect(worst).toBeLessThan(1e-3);
      // and the other way round: photo pixels whose ray falls in the crop come back to themselves
      let n = 0, worstBack = 0;
      for (let v = 0.5; v < H; v += 3) {
        for (let uu = 0.5; uu < W; uu += 3) {
          const r = pixelToNormalized(lens, uu, v);
          if (!r) continue;
          const pi = r[0] * ph.fx + ph.cx, pj = r[1] * ph.fy + ph.cy;
          if (pi < 0 || pj < 0 || pi > ph.width || pj > ph.height) continue;
          distortToPixel(lens, r[0], r[1], d);
          worstBack = Math.max(worstBack, Math.hypot(d[0]! - uu, d[1]! - v));
          n++;
        }
      }
      expect(worstBack).toBeLessThan(1e-3);
      expect(n).toBeGreaterThan(100);
      // maximal: a crop 2 px wider on any side (same focal) would take an invalid pixel
      const valid = (x: number, y: number) => {
        distortToPixel(lens, x, y, d);
        return d[0]! >= 0.5 && d[0]! <= W - 0.5 && d[1]! >= 0.5 && d[1]! <= H - 0.5;
      };
      const grow = 2 + 0.03 * Math.max(ph.width, ph.height);
      const sides = {
        left: () => Array.from({ length: ph.height }, (_, j) => rayOf(ph, -grow, j)),
        right: () => Array.from({ length: ph.height }, (_, j) => rayOf(ph, ph.width - 1 + grow, j)),
        top: () => Array.from({ length: ph.width }, (_, i) => rayOf(ph, i, -grow)),
        bottom: () => Array.from({ length: ph.width }, (_, i) => rayOf(ph, i, ph.height - 1 + grow)),
      };
      const blocked = Object.entries(sides).filter(([, pts]) => pts().some(([x, y]) => !valid(x, y) || !pixelToNormalized(lens, d[0]!, d[1]!)));
      expect(blocked.length, `sides that cannot grow: ${blocked.map(([k]) => k).join(' ')}`).toBeGreaterThanOrEqual(2);
    });
  }

  it('a long-side cap scales the pinhole (focal and size) and keeps the crop valid', () => {
    const lens = lensAt(cam('OPENCV', [70, 71, 49, 35, -0.2, 0.04, 0.001, -0.002]));
    const free = undistortion(lens, { maxSide: 100000 }).pinhole;
    expect(Math.max(free.width, free.height)).toBeGreaterThan(W); // barrel: the crop is wider than the photo at its focal
    const u = undistortion(lens);
    expect(Math.max(u.pinhole.width, u.pinhole.height)).toBeLessThanOrEqual(W);
    expect(u.pinhole.fx / lens.fx).toBeCloseTo(u.pinhole.fy / lens.fy, 6);
    expect(u.pinhole.fx).toBeLessThan(lens.fx);
    for (let p = 0; p < u.pinhole.width * u.pinhole.height; p++) {
      expect(u.map[2 * p]!).toBeGreaterThanOrEqual(0.5 - 1e-4);
      expect(u.map[2 * p]!).toBeLessThanOrEqual(W - 0.5 + 1e-4);
    }
  });

  it('a camera without distortion is left as it is', () => {
    for (const c of [cam('PINHOLE', [80, 81, 48, 36]), cam('SIMPLE_PINHOLE', [80, 48, 36]), cam('OPENCV', [80, 81, 48, 36, 0, 0, 0, 0])]) {
      expect(hasDistortion(c)).toBe(false);
      const u = undistortion(lensAt(c));
      expect(u.pinhole).toEqual({ width: W, height: H, fx: c.params[0], fy: c.model === 'SIMPLE_PINHOLE' ? c.params[0] : c.params[1], cx: 48, cy: 36 });
      expect(u.map[0]).toBeCloseTo(0.5, 9);
      expect(u.map[(W * H - 1) * 2 + 1]).toBeCloseTo(H - 0.5, 9);
    }
  });

  it('resampling a distorted photo of a smooth pattern gives the pattern on the pinhole grid (bicubic closer than bilinear); masks by nearest', () => {
    const lens: Lens = lensAt(cam('OPENCV', [70, 71, 49, 35, -0.2, 0.04, 0.001, -0.002]));
    // the "scene": a smooth colour pattern over rays; the photo sees it through the lens
    const g = (x: number, y: number, c: number) => 0.5 + 0.4 * Math.sin(9 * x + c) * Math.cos(8 * y - c);
    const photo = new Float32Array(W * H * 3);
    const mask = new Uint8Array(W * H);
    for (let v = 0; v < H; v++) {
      for (let uu = 0; uu < W; uu++) {
        const r = pixelToNormalized(lens, uu + 0.5, v + 0.5);
        for (let c = 0; c < 3; c++) photo[(v * W + uu) * 3 + c] = r ? g(r[0], r[1], c) : 0;
        mask[v * W + uu] = r && r[0] > 0.1 ? 255 : 0;
      }
    }
    const u = undistortion(lens);
    const ph = u.pinhole;
    // RMS over the pinhole image (the Catmull-Rom taps repeat the edge pixel within 2 px of the border)
    const err = (img: Float32Array) => {
      let s = 0, n = 0;
      for (let j = 0; j < ph.height; j++) {
        for (let i = 0; i < ph.width; i++) {
          const [x, y] = rayOf(ph, i, j);
          for (let c = 0; c < 3; c++) { s += (img[(j * ph.width + i) * 3 + c]! - g(x, y, c)) ** 2; n++; }
        }
      }
      return Math.sqrt(s / n);
    };
    const cubic = err(remapImage(photo, W, H, 3, u.map, ph.width, ph.height));
    const linear = err(remapImage(photo, W, H, 3, u.map, ph.width, ph.height, { kernel: 'bilinear' }));
    expect(cubic).toBeLessThan(0.01);
    expect(linear).toBeLessThan(0.03);
    expect(cubic).toBeLessThan(linear);
    // ignoring the lens (identity map at the photo's own size) is far off
    const ident = undistortMap(lensAt(cam('PINHOLE', [70, 71, 49, 35])), { width: W, height: H, fx: 70, fy: 71, cx: 49, cy: 35 });
    let naive = 0;
    const same = remapImage(photo, W, H, 3, ident, W, H);
    for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) naive += (same[(j * W + i) * 3]! - g((i + 0.5 - 49) / 70, (j + 0.5 - 35) / 71, 0)) ** 2;
    expect(Math.sqrt(naive / (W * H))).toBeGreaterThan(5 * cubic);
    // the mask follows the same map, labels kept (nearest), wrong only along the edge x = 0.1
    const m = remapNearest(mask, W, H, u.map, ph.width, ph.height);
    let wrong = 0;
    for (let j = 0; j < ph.height; j++) {
      for (let i = 0; i < ph.width; i++) {
        const x = rayOf(ph, i, j)[0];
        if (m[j * ph.width + i] !== 0 && m[j * ph.width + i] !== 255) wrong += 1000;
        if ((m[j * ph.width + i] === 255) !== x > 0.1) wrong++;
      }
    }
    expect(wrong).toBeLessThanOrEqual(ph.height);
  });
});

describe('training data honours lenses (scene/dataset)', () => {
  const model = (c: Camera) => {
    const m = emptyModel();
    m.cameras.set(c.id, c);
    for (let i = 0; i < 3; i++) m.images.set(i + 1, { id: i + 1, cameraId: c.id, name: `im${i}.png`, qvec: [1, 0, 0, 0], tvec: [0, 0, i], xys: new Float64Array(0), point3DIds: [] });
    return m;
  };
  const photo = (w: number, h: number) => { const d = new Float32Array(w * h * 3); d.forEach((_, i) => { d[i] = (i % 97) / 97; }); return d; };

  it('a distorted camera trains on undistorted photos with the pinhole of the crop; a pinhole camera is untouched', async () => {
    const c = cam('OPENCV', [85, 83, 47.1, 37.3, 0.06, -0.08, -0.004, 0.003]);
    // loaded at half size: the lens is scaled with the photo
    const load = async (_: string, s: { width: number; height: number }) => ({ width: s.width / 2, height: s.height / 2, data: photo(s.width / 2, s.height / 2) });
    const data = await buildTrainData(model(c), load);
    const want = undistortion(lensAt(c, W / 2, H / 2)).pinhole;
    for (const v of data.views) {
      expect({ width: v.width, height: v.height, fx: v.fx, fy: v.fy, cx: v.cx, cy: v.cy }).toEqual(want);
      expect(v.target.length).toBe(want.width * want.height * 3);
    }
    expect(want.width).toBeLessThan(W / 2); // cropped: the distorted photo's edge is not a straight line
    // the previous behaviour, kept for comparisons: distortion ignored
    const ignored = await buildTrainData(model(c), load, { undistort: false });
    expect(ignored.views[0]).toMatchObject({ width: W / 2, height: H / 2, fx: 42.5, fy: 41.5, cx: 47.1 / 2, cy: 37.3 / 2 });
    // pinhole: the loaded pixels themselves, intrinsics scaled
    const p = await buildTrainData(model(cam('PINHOLE', [85, 83, 47.1, 37.3])), load);
    expect(p.views[0]).toMatchObject({ width: W / 2, height: H / 2, fx: 42.5, fy: 41.5, cx: 47.1 / 2, cy: 37.3 / 2 });
  });
});
