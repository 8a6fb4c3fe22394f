import { describe, it, expect } from 'vitest';
import { defaultRasterOptions, type RasterCamera, type RasterOptions } from '../src/core/raster.js';
import { rasterizeReference, rasterizeReference64, rasterizeReferenceBackward64, rasterizeReferenceBackward, type RasterGradients64 } from '../src/scene/raster/reference.js';
import type { ParamsLike } from '../src/scene/raster/projection.js';
import { randomScene, rng } from '../src/scene/raster/random-scene.js';
import { expSO3, matMul3, matVec3 } from '../src/geometry/rotation.js';

type Field = 'means' | 'logScales' | 'quats' | 'opacityLogits' | 'sh';

function to64(p: ParamsLike): { count: number; means: Float64Array; logScales: Float64Array; quats: Float64Array; opacityLogits: Float64Array; sh: Float64Array } {
  return { count: p.count, means: Float64Array.from(p.means), logScales: Float64Array.from(p.logScales), quats: Float64Array.from(p.quats), opacityLogits: Float64Array.from(p.opacityLogits), sh: Float64Array.from(p.sh) };
}

/** loss = Σ wr·rgb + Σ wa·alpha + Σ wd·depth */
function makeLoss(W: number, H: number, seed: number) {
  const r = rng(seed);
  const wr = Float64Array.from({ length: W * H * 3 }, () => r() - 0.5);
  const wa = Float64Array.from({ length: W * H }, () => r() - 0.5);
  const wd = Float64Array.from({ length: W * H }, () => 0.2 * (r() - 0.5));
  const loss = (p: ParamsLike, cam: RasterCamera, opts: RasterOptions) => {
    const o = rasterizeReference64(p, cam, opts);
    let s = 0;
    for (let i = 0; i < wr.length; i++) s += wr[i]! * o.rgb[i]!;
    for (let i = 0; i < wa.length; i++) s += wa[i]! * o.alpha[i]! + wd[i]! * o.depth[i]!;
    return s;
  };
  return { wr, wa, wd, loss };
}

function perturbPose(cam: RasterCamera, k: number, h: number): RasterCamera {
  const w = [0, 0, 0], v = [0, 0, 0];
  if (k < 3) w[k] = h; else v[k - 3] = h;
  const E = expSO3(w);
  const R = matMul3(E, Array.from(cam.R));
  const t = matVec3(E, Array.from(cam.t)).map((x, i) => x + v[i]!);
  return { ...cam, R, t };
}

function checkFiniteDifferences(opts: RasterOptions, seed: number) {
  const W = 32, H = 24;
  const { params, cam } = randomScene(12, W, H, { seed, scale: 0.15, radius: 0.6 });
  const p = to64(params);
  const { wr, wa, wd, loss } = makeLoss(W, H, seed + 100);
  const fwd = rasterizeReference64(p, cam, opts);
  expect(fwd.visible).toBeGreaterThan(5);
  const g: RasterGradients64 = rasterizeReferenceBackward64(p, cam, opts, fwd.ctx, { rgb: wr, alpha: wa, depth: wd });
  const h = 1e-6;
  let checked = 0, bad: string[] = [];
  const fields: [Field, number][] = [['means', 3], ['logScales', 3], ['quats', 4], ['opacityLogits', 1], ['sh', 48]];
  for (let i = 0; i < p.count; i++) {
    for (const [f, dim] of fields) {
      const idxs = f === 'sh' ? [0, 1, 2, 4, 7, 11, 14, 20, 29, 33, 40, 47] : Array.from({ length: dim }, (_, k) => k);
      for (const k of idxs) {
        const arr = p[f];
        const j = i * dim + k;
        const v0 = arr[j]!;
        arr[j] = v0 + h; const lp = loss(p, cam, opts);
        arr[j] = v0 - h; const lm = loss(p, cam, opts);
        arr[j] = v0;
        const fd = (lp - lm) / (2 * h);
        const an = g[f][j]!;
        checked++;
        if (Math.abs(fd - an) > 1e-4 * Math.max(1, Math.abs(fd))) bad.push(`${f}[${i}][${k}] fd=${fd} an=${an}`);
      }
    }
  }
  for (let k = 0; k < 6; k++) {
    const fd = (loss(p, perturbPose(cam, k, h), opts) - loss(p, perturbPose(cam, k, -h), opts)) / (2 * h);
    checked++;
    if (Math.abs(fd - g.pose[k]!) > 1e-4 * Math.max(1, Math.abs(fd))) bad.push(`pose[${k}] fd=${fd} an=${g.pose[k]}`);
  }
  // a crossing of the 1/255 or 0.99 thresholds inside ±h can spoil a rare entry; allow none here
  expect(bad, bad.join('\n')).toEqual([]);
  expect(checked).toBeGreaterThan(250);
}

describe('reference rasterizer', () => {
  it('gradients match finite differences (plain)', () => {
    checkFiniteDifferences({ ...defaultRasterOptions, background: [0.2, 0.4, 0.7] }, 3);
  });
  it('gradients match finite differences (antialiased, SH degree 2)', () => {
    checkFiniteDifferences({ ...defaultRasterOptions, antialiased: true, shDegree: 2, background: [0.5, 0.1, 0.3] }, 7);
  });

  it('composites front to back: a near opaque Gaussian hides one behind it', () => {
    const W = 16, H = 16;
    const cam: RasterCamera = { width: W, height: H, fx: 20, fy: 20, cx: 8.5, cy: 8.5, R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] };
    const sh = new Float32Array(96);
    sh[0] = 1.5; // red-ish front
    sh[48 + 2] = 1.5; // blue-ish back
    const params = {
      count: 2,
      means: Float32Array.from([0, 0, 2, 0, 0, 3]),
      logScales: Float32Array.from([0, 0, 0, 0, 0, 0]).map(() => Math.log(0.5)),
      quats: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0]),
      opacityLogits: Float32Array.from([8, 8]),
      sh,
    };
    // list the back one first: order must come from depth, not index
    const swapped = { ...params, means: Float32Array.from([0, 0, 3, 0, 0, 2]), sh: Float32Array.from([...sh.slice(48), ...sh.slice(0, 48)]) };
    const opts = { ...defaultRasterOptions, shDegree: 0 };
    for (const p of [params, swapped]) {
      const o = rasterizeReference(p, cam, opts);
      const c = (8 * W + 8) * 3;
      expect(o.rgb[c]!).toBeGreaterThan(0.8); // front colour 0.5 + 1.5·C0 ≈ 0.92
      expect(o.rgb[c + 2]!).toBeLessThan(0.6);
      expect(o.alpha[8 * W + 8]!).toBeCloseTo(0.99 + 0.01 * 0.99, 4);
      expect(o.visible).toBe(2);
    }
  });

  it('runs 5k Gaussians at 64×64 quickly enough for tests', () => {
    const { params, cam } = randomScene(5000, 64, 64, { seed: 5 });
    const opts = defaultRasterOptions;
    const o = rasterizeReference(params, cam, opts);
    expect(o.visible).toBeGreaterThan(4000);
    const g = rasterizeReferenceBackward(params, cam, opts, o.ctx, { rgb: new Float32Array(64 * 64 * 3).fill(1) });
    expect(g.means.some((x) => x !== 0)).toBe(true);
    expect(g.means.every(Number.isFinite)).toBe(true);
  });
});
