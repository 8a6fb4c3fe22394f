/**
 * Every kernel runs within WebGPU's default limits (issue 22): 8 storage buffers per stage,
 * 16 KiB of workgroup memory, 256 invocations per workgroup — where browsers and Apple GPUs sit.
 * A second device is requested with no raised limits at all; the rasterizer (forward with its
 * workgroup-memory variant, backward with its default-limits variant), the image loss and Adam are
 * built on it and must match their TypeScript references as they do on the full device.
 */
import { describe, it, expect } from 'vitest';
import { getDevice, type GpuContext } from '../src/gpu/device.js';
import { GpuRasterizer } from '../src/gpu/raster/rasterizer.js';
import { GpuImageLoss } from '../src/gpu/loss/image-loss.js';
import { GpuAdam, AdamGroupUniform } from '../src/gpu/optim/adam.js';
import { STORAGE, COPY_SRC, COPY_DST, readF32, upload } from '../src/gpu/buffers.js';
import { defaultRasterOptions } from '../src/core/raster.js';
import { rasterizeReference, rasterizeReferenceBackward } from '../src/scene/raster/reference.js';
import { randomScene, rng } from '../src/scene/raster/random-scene.js';
import { photoLossAndGrad } from '../src/scene/train/image-loss.js';
import { Adam } from '../src/scene/train/adam.js';

const shared = await getDevice();

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < b.length; i++) { m = Math.max(m, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return m / (s + 1e-30);
}

describe.skipIf(!shared)('kernels within WebGPU default limits', () => {
  it('a default-limits device runs the rasterizer, loss and Adam like the references', async () => {
    // a fresh adapter (the shared one is consumed by its device), the same GPU
    const adapter = (await (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }))!;
    expect(adapter.info.description).toBe(shared!.adapter.info.description);
    const features = (['subgroups', 'shader-f16'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredFeatures: features });
    expect(device.limits.maxStorageBuffersPerShaderStage).toBe(8);
    expect(device.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    device.pushErrorScope('validation');
    const ctx: GpuContext = { adapter, device, adapterName: shared!.adapterName, isSoftware: shared!.isSoftware };
    const W = 48, H = 40;
    const opts = { ...defaultRasterOptions, shDegree: 1, background: [0.2, 0.1, 0.3] as [number, number, number] };
    const { params, cam } = randomScene(300, W, H, { seed: 4, scale: 0.08 });
    const ref = rasterizeReference(params, cam, opts);
    const r = rng(2);
    const up = { rgb: Float32Array.from({ length: W * H * 3 }, () => r() - 0.5) };
    const gRef = rasterizeReferenceBackward(params, cam, opts, ref.ctx, up);
    // the batched forward is the one that uses workgroup memory (the simple one reads storage only)
    for (const variant of ['batched']) {
      process.env.R2S_RASTER_FWD = variant;
      const rast = await GpuRasterizer.create(ctx);
      const out = await rast.rasterize(params, cam, { ...opts, tileSize: 16 });
      expect(out.visible).toBe(ref.visible);
      expect(relErr(out.rgb, ref.rgb)).toBeLessThan(1e-4);
      const g = await rast.backwardArrays(out.fwd, up);
      for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) expect(relErr(g[k], gRef[k]), k).toBeLessThan(1e-3);
      rast.destroy();
    }
    delete process.env.R2S_RASTER_FWD;

    const loss = await GpuImageLoss.create(device);
    const pred = Float32Array.from({ length: W * H * 3 }, () => r());
    const target = Float32Array.from({ length: W * H * 3 }, () => r());
    const lg = await loss.lossAndGrad(pred, target, W, H, 0.2);
    const lr = photoLossAndGrad(pred, target, W, H, 0.2);
    expect(Math.abs(lg.loss - lr.loss) / lr.loss).toBeLessThan(1e-4);
    expect(relErr(lg.grad, lr.grad)).toBeLessThan(1e-3);

    const n = 1000;
    const adamK = await GpuAdam.create(device);
    const ref2 = new Adam(n, 1, 0.01);
    const p = Float32Array.from({ length: n }, () => r()), grad = Float32Array.from({ length: n }, () => r() - 0.5);
    const buf = (a: Float32Array) => { const b = device.createBuffer({ size: a.byteLength, usage: STORAGE | COPY_SRC | COPY_DST }); upload(device, b, a); return b; };
    const bp = buf(p), bm = buf(new Float32Array(n)), bv = buf(new Float32Array(n)), bg = buf(grad);
    const u = new AdamGroupUniform(device, 1);
    u.write(n, { lr: 0.01, beta1: ref2.beta1, beta2: ref2.beta2, eps: ref2.eps, t: 1 });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    adamK.encode(pass, u, { param: bp, m: bm, v: bv, grad: bg }, n);
    pass.end();
    device.queue.submit([enc.finish()]);
    const pRef = p.slice();
    ref2.step(pRef, grad);
    expect(relErr(await readF32(device, bp, n), pRef)).toBeLessThan(1e-5);
    const err = await device.popErrorScope();
    expect(err?.message ?? null).toBeNull();
    device.destroy();
  });
});
