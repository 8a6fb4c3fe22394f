import { describe, it, expect } from 'vitest';
import { getDevice } from '../src/gpu/device.js';
import { GpuMaskWeights } from '../src/gpu/assets/mask-weights.js';
import { defaultRasterOptions, type RasterOptions } from '../src/core/raster.js';
import { maskWeightsReference } from '../src/assets/select/mask-weights-reference.js';
import { rasterizeReference } from '../src/scene/raster/reference.js';
import { randomScene, rng } from '../src/scene/raster/random-scene.js';

const ctx = await getDevice();

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return m / (scale + 1e-12);
}

describe('mask weights: reference', () => {
  it('inside + outside is each Gaussian\'s total blending weight; Σ over Gaussians is the rendered alpha', () => {
    const W = 40, H = 32;
    const { params, cam } = randomScene(200, W, H, { seed: 4, scale: 0.08 });
    const opts: RasterOptions = { ...defaultRasterOptions, shDegree: 0 };
    const r = rng(2);
    const mask = Float32Array.from({ length: W * H }, () => (r() < 0.5 ? 1 : 0));
    const w = maskWeightsReference(params, cam, mask, opts);
    const ones = maskWeightsReference(params, cam, new Float32Array(W * H).fill(1), opts);
    const alpha = rasterizeReference(params, cam, opts).alpha;
    let sumAlpha = 0, sumIn = 0, sumOnes = 0;
    for (const a of alpha) sumAlpha += a;
    for (let i = 0; i < params.count; i++) {
      sumIn += w.inside[i]! + w.outside[i]!;
      sumOnes += ones.inside[i]!;
      expect(ones.outside[i]).toBe(0);
      expect(Math.abs(w.inside[i]! + w.outside[i]! - ones.inside[i]!)).toBeLessThan(1e-9);
    }
    expect(Math.abs(sumIn - sumAlpha) / sumAlpha).toBeLessThan(1e-5);
    expect(Math.abs(sumOnes - sumAlpha) / sumAlpha).toBeLessThan(1e-5);
  });
});

describe.skipIf(!ctx)('mask weights: GPU vs reference', () => {
  for (const [name, opts] of [
    ['plain', { ...defaultRasterOptions, shDegree: 0 }],
    ['antialiased', { ...defaultRasterOptions, shDegree: 0, antialiased: true }],
  ] as [string, RasterOptions][]) {
    it(`per-Gaussian inside/outside sums within 1e-4 relative, bit-reproducible (${name})`, async () => {
      const mw = await GpuMaskWeights.create(ctx!);
      const W = 64, H = 48;
      const { params, cam } = randomScene(600, W, H, { seed: 11, scale: 0.06 });
      const r = rng(7);
      // a soft mask: a disc with a ramp, plus noise
      const mask = Float32Array.from({ length: W * H }, (_, p) => {
        const x = p % W, y = Math.floor(p / W);
        const d = Math.hypot(x - 30, y - 20) - 14;
        return Math.min(1, Math.max(0, 0.5 - d / 6 + 0.1 * (r() - 0.5)));
      });
      const ref = maskWeightsReference(params, cam, mask, opts);
      const gpu = await mw.weights(params, cam, mask, opts);
      expect(relErr(gpu.inside, ref.inside)).toBeLessThan(1e-4);
      expect(relErr(gpu.outside, ref.outside)).toBeLessThan(1e-4);
      const again = await mw.weights(params, cam, mask, opts);
      expect(Buffer.from(again.inside.buffer).equals(Buffer.from(gpu.inside.buffer))).toBe(true);
      expect(Buffer.from(again.outside.buffer).equals(Buffer.from(gpu.outside.buffer))).toBe(true);
      // accumulation over two views equals the sum of the single views
      const cam2 = { ...cam, cx: cam.cx + 3 };
      const ref2 = maskWeightsReference(params, cam2, mask, opts);
      mw.setScene(params);
      await mw.addView(cam, mask, opts);
      await mw.addView(cam2, mask, opts);
      const both = await mw.read();
      const sum = ref.inside.map((v, i) => v + ref2.inside[i]!);
      expect(relErr(both.inside, sum)).toBeLessThan(1e-4);
      mw.destroy();
    });
  }
});
