import { describe, it, expect } from 'vitest';
import { getDevice } from '../src/gpu/device.js';
import { GpuRasterizer } from '../src/gpu/raster/rasterizer.js';
import { defaultRasterOptions, type RasterOptions } from '../src/core/raster.js';
import { rasterizeReference, rasterizeReferenceBackward } from '../src/scene/raster/reference.js';
import { randomScene, rng } from '../src/scene/raster/random-scene.js';

const ctx = await getDevice();

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** max |a−b| / (|b|max + tiny), per array: a relative error against the array's scale */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  return maxAbs(a, b) / (scale + 1e-12);
}

describe.skipIf(!ctx)('GPU rasterizer vs reference', () => {
  let r: GpuRasterizer;
  const get = async () => (r ??= await GpuRasterizer.create(ctx!));

  for (const [name, opts] of [
    ['plain', { ...defaultRasterOptions, background: [0.1, 0.2, 0.3] }],
    ['antialiased, SH degree 1', { ...defaultRasterOptions, antialiased: true, shDegree: 1, background: [0.5, 0.5, 0.5] }],
  ] as [string, RasterOptions][]) {
    it(`forward within 1e-4 and gradients within 1e-3 (${name})`, async () => {
      const rast = await get();
      const W = 64, H = 48;
      const { params, cam } = randomScene(600, W, H, { seed: 11, scale: 0.06 });
      const ref = rasterizeReference(params, cam, opts);
      const gpu = await rast.rasterize(params, cam, opts);
      expect(gpu.visible).toBe(ref.visible);
      expect(maxAbs(gpu.rgb, ref.rgb)).toBeLessThan(1e-4);
      expect(maxAbs(gpu.alpha, ref.alpha)).toBeLessThan(1e-4);
      expect(maxAbs(gpu.depth, ref.depth)).toBeLessThan(1e-4 * 5);
      const rr = rng(3);
      const up = { rgb: Float32Array.from({ length: W * H * 3 }, () => rr() - 0.5), alpha: Float32Array.from({ length: W * H }, () => rr() - 0.5), depth: Float32Array.from({ length: W * H }, () => 0.1 * (rr() - 0.5)) };
      const gr = rasterizeReferenceBackward(params, cam, opts, ref.ctx, up);
      const gg = await rast.backwardArrays(gpu.fwd, up);
      for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'means2dGradNorm', 'pose'] as const) {
        expect(relErr(gg[k], gr[k]), k).toBeLessThan(1e-3);
      }
      // deterministic: a second run is bit-identical
      const gpu2 = await rast.rasterize(params, cam, opts);
      expect(maxAbs(gpu2.rgb, gpu.rgb)).toBe(0);
      const gg2 = await rast.backwardArrays(gpu2.fwd, up);
      for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'pose'] as const) expect(maxAbs(gg2[k], gg[k]), k).toBe(0);
    });
  }

  it('the portable backward (no subgroups) matches and is bit-for-bit reproducible', async () => {
    process.env.R2S_NO_SUBGROUPS = '1';
    const portable = await GpuRasterizer.create(ctx!).finally(() => delete process.env.R2S_NO_SUBGROUPS);
    expect(portable.usesSubgroups).toBe(false);
    const W = 48, H = 32;
    const opts = { ...defaultRasterOptions, shDegree: 2 };
    const { params, cam } = randomScene(300, W, H, { seed: 5, scale: 0.06 });
    const ref = rasterizeReference(params, cam, opts);
    const rr = rng(8);
    const up = { rgb: Float32Array.from({ length: W * H * 3 }, () => rr() - 0.5) };
    const gr = rasterizeReferenceBackward(params, cam, opts, ref.ctx, up);
    const a = await portable.rasterize(params, cam, opts);
    expect(maxAbs(a.rgb, ref.rgb)).toBeLessThan(1e-4);
    const ga = await portable.backwardArrays(a.fwd, up);
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'pose'] as const) expect(relErr(ga[k], gr[k]), k).toBeLessThan(1e-3);
    const b = await portable.rasterize(params, cam, opts);
    const gb = await portable.backwardArrays(b.fwd, up);
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'pose'] as const) expect(maxAbs(ga[k], gb[k]), k).toBe(0);
    portable.destroy();
  });

  it('both forward variants (batched through workgroup memory, and simple) match the reference', async () => {
    const W = 40, H = 40;
    const opts = { ...defaultRasterOptions, background: [0.3, 0.1, 0.2] as [number, number, number] };
    // many overlapping Gaussians so lists exceed one 256-splat batch and pixels stop early
    const { params, cam } = randomScene(1500, W, H, { seed: 12, scale: 0.12 });
    const ref = rasterizeReference(params, cam, opts);
    expect(Math.max(...ref.ctx.tileLists.map((l) => l.length))).toBeGreaterThan(300);
    for (const v of ['batched', 'simple']) {
      process.env.R2S_RASTER_FWD = v;
      const rz = await GpuRasterizer.create(ctx!).finally(() => delete process.env.R2S_RASTER_FWD);
      expect(rz.batchedForward).toBe(v === 'batched');
      const out = await rz.rasterize(params, cam, opts);
      expect(maxAbs(out.rgb, ref.rgb), v).toBeLessThan(1e-4);
      expect(maxAbs(out.alpha, ref.alpha), v).toBeLessThan(1e-4);
      const up = { rgb: new Float32Array(W * H * 3).fill(0.3) };
      const gr = rasterizeReferenceBackward(params, cam, opts, ref.ctx, up);
      const gg = await rz.backwardArrays(out.fwd, up);
      expect(relErr(gg.means, gr.means), v).toBeLessThan(1e-3);
      rz.destroy();
    }
  });

  it('the atomic-add backward variant (R2S_RASTER_BWD=atomic) matches and agrees between runs to 1e-5', async () => {
    process.env.R2S_RASTER_BWD = 'atomic';
    const atomic = await GpuRasterizer.create(ctx!).finally(() => delete process.env.R2S_RASTER_BWD);
    const W = 48, H = 32;
    const opts = { ...defaultRasterOptions, shDegree: 3 };
    const { params, cam } = randomScene(300, W, H, { seed: 6, scale: 0.06 });
    const ref = rasterizeReference(params, cam, opts);
    const rr = rng(8);
    const up = { rgb: Float32Array.from({ length: W * H * 3 }, () => rr() - 0.5) };
    const gr = rasterizeReferenceBackward(params, cam, opts, ref.ctx, up);
    const a = await atomic.rasterize(params, cam, opts);
    const ga = await atomic.backwardArrays(a.fwd, up);
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'pose'] as const) expect(relErr(ga[k], gr[k]), k).toBeLessThan(1e-3);
    const b = await atomic.rasterize(params, cam, opts);
    const gb = await atomic.backwardArrays(b.fwd, up);
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'pose'] as const) expect(relErr(ga[k], gb[k]), k).toBeLessThan(1e-5);
    atomic.destroy();
  });

  it('rejects a stale forward result and unsupported options with clear errors', async () => {
    const rast = await get();
    const { params, cam } = randomScene(20, 32, 32, { seed: 1 });
    const first = await rast.rasterize(params, cam, defaultRasterOptions);
    await rast.rasterize(params, cam, defaultRasterOptions);
    await expect(rast.backwardArrays(first.fwd, { rgb: new Float32Array(32 * 32 * 3) })).rejects.toThrow(/stale/);
    await expect(rast.rasterize(params, cam, { ...defaultRasterOptions, tileSize: 8 })).rejects.toThrow(/tileSize 16/);
  });
});
