import { describe, it, expect } from 'vitest';
import { getDevice } from '../src/gpu/device.js';
import { COPY_DST, COPY_SRC, STORAGE, readF32, upload } from '../src/gpu/buffers.js';
import { AdamGroupUniform, GpuAdam } from '../src/gpu/optim/adam.js';
import { GpuGradStats } from '../src/gpu/optim/accumulate.js';
import { Adam } from '../src/scene/train/adam.js';
import { GradStats } from '../src/scene/train/densify.js';
import { gaussianRandom, rng } from '../src/scene/raster/random-scene.js';

const ctx = await getDevice();

/** max |a−b| / max |b|: error against the array's scale */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < b.length; i++) { m = Math.max(m, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return m / (s + 1e-30);
}

describe.skipIf(!ctx)('GPU optimiser kernels vs TypeScript', () => {
  const buffer = (d: GPUDevice, data: Float32Array) => {
    const b = d.createBuffer({ size: Math.max(16, data.byteLength), usage: STORAGE | COPY_SRC | COPY_DST });
    upload(d, b, data);
    return b;
  };

  for (const [name, rowSize, colScale] of [
    ['plain rows of 3', 3, undefined],
    ['SH rows of 48 with higher bands at lr/20', 48, new Float32Array(48).map((_, c) => (c < 3 ? 1 : 1 / 20))],
  ] as [string, number, Float32Array | undefined][]) {
    it(`Adam: 6 steps equal Adam.step (${name})`, async () => {
      const d = ctx!.device;
      const rows = 1000, n = rows * rowSize;
      const r = rng(17);
      const param = Float32Array.from({ length: n }, () => gaussianRandom(r));
      const ref = new Adam(n, rowSize, 1e-3);
      if (colScale) ref.colScale = colScale;
      const gpu = await GpuAdam.create(d);
      const u = new AdamGroupUniform(d, rowSize, colScale);
      const bp = buffer(d, param), bm = buffer(d, new Float32Array(n)), bv = buffer(d, new Float32Array(n)), bg = buffer(d, new Float32Array(n));
      const cpu = param.slice();
      for (let s = 0; s < 6; s++) {
        // gradients of mixed magnitudes, some exactly zero (culled Gaussians)
        const grad = Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : gaussianRandom(r) * 10 ** (-(i % 5))));
        ref.lr = 1e-3 * (1 + s); // the trainer changes the means' lr every step
        ref.step(cpu, grad);
        upload(d, bg, grad);
        u.write(n, { lr: ref.lr, beta1: ref.beta1, beta2: ref.beta2, eps: ref.eps, t: ref.t });
        const enc = d.createCommandEncoder();
        const pass = enc.beginComputePass();
        gpu.encode(pass, u, { param: bp, m: bm, v: bv, grad: bg }, n);
        pass.end();
        d.queue.submit([enc.finish()]);
      }
      const [p, m, v] = await Promise.all([readF32(d, bp, n), readF32(d, bm, n), readF32(d, bv, n)]);
      expect(relErr(m, ref.m)).toBeLessThan(1e-6);
      expect(relErr(v, ref.v)).toBeLessThan(1e-6);
      // the parameters to 1e-6; the update itself (param − initial) to 1e-4 of its scale — it is
      // ~100× smaller than the parameters, so their f32 rounding (1 ulp at |param| ≈ 3) shows there
      expect(relErr(p.map((x, i) => x - param[i]!), cpu.map((x, i) => x - param[i]!))).toBeLessThan(1e-4);
      expect(relErr(p, cpu)).toBeLessThan(1e-6);
      for (const b of [bp, bm, bv, bg]) b.destroy();
      u.destroy();
    });
  }

  it('grad-stat accumulation equals GradStats.add', async () => {
    const d = ctx!.device;
    const n = 5000, W = 64, H = 48;
    const ref = new GradStats(n);
    const gpu = await GpuGradStats.create(d);
    const sum = buffer(d, new Float32Array(n)), count = buffer(d, new Float32Array(n)), gn = buffer(d, new Float32Array(n));
    const r = rng(4);
    for (let s = 0; s < 4; s++) {
      const g = Float32Array.from({ length: n }, () => (r() < 0.3 ? 0 : r() * 1e-3));
      ref.add(g, W, H);
      upload(d, gn, g);
      const enc = d.createCommandEncoder();
      const pass = enc.beginComputePass();
      gpu.encode(pass, { gradNorm: gn, sum, count }, n, W, H);
      pass.end();
      d.queue.submit([enc.finish()]);
    }
    const [s, c] = await Promise.all([readF32(d, sum, n), readF32(d, count, n)]);
    expect(Array.from(c)).toEqual(Array.from(ref.count));
    expect(relErr(s, ref.sum)).toBeLessThan(1e-6);
    for (const b of [sum, count, gn]) b.destroy();
    gpu.destroy();
  });
});
