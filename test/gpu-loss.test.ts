import { describe, it, expect } from 'vitest';
import { getDevice } from '../src/gpu/device.js';
import { GpuImageLoss } from '../src/gpu/loss/image-loss.js';
import { photoLossAndGrad } from '../src/scene/train/image-loss.js';
import { rng } from '../src/scene/raster/random-scene.js';

const ctx = await getDevice();

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < b.length; i++) { m = Math.max(m, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return m / (s + 1e-30);
}

/** A smooth image plus noise (SSIM then has both flat and textured windows). */
function image(W: number, H: number, seed: number, noise: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) {
    out[(y * W + x) * 3 + c] = 0.5 + 0.3 * Math.sin(0.2 * x + 0.3 * c + seed) * Math.cos(0.15 * y - c) + noise * (r() - 0.5);
  }
  return out;
}

describe.skipIf(!ctx)('GPU image loss vs photoLossAndGrad', () => {
  let loss: GpuImageLoss;
  const get = async () => (loss ??= await GpuImageLoss.create(ctx!.device));

  for (const [W, H, lambda] of [[64, 48, 0.2], [37, 23, 0.2], [40, 30, 0]] as const) {
    it(`values and gradient within 1e-4 (${W}×${H}, λ=${lambda})`, async () => {
      const gl = await get();
      const pred = image(W, H, 1, 0.2), target = image(W, H, 2, 0.05);
      const ref = photoLossAndGrad(pred, target, W, H, lambda);
      const got = await gl.lossAndGrad(pred, target, W, H, lambda);
      expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(1e-4);
      expect(Math.abs(got.l1 - ref.l1) / ref.l1).toBeLessThan(1e-4);
      expect(Math.abs(got.ssim - ref.ssim)).toBeLessThan(1e-4);
      let se = 0;
      for (let i = 0; i < pred.length; i++) se += (pred[i]! - target[i]!) ** 2;
      expect(Math.abs(got.mse - se / pred.length) / (se / pred.length)).toBeLessThan(1e-4);
      expect(relErr(got.grad, ref.grad)).toBeLessThan(1e-4);
      // the SSIM part alone (the L1 part is ±0.8/n and would hide errors in it)
      if (lambda > 0) {
        const l1 = (i: number) => (0.8 * Math.sign(pred[i]! - target[i]!)) / pred.length;
        expect(relErr(got.grad.map((g, i) => g - l1(i)), ref.grad.map((g, i) => g - l1(i)))).toBeLessThan(1e-4);
      }
      // deterministic: a second run is bit-identical
      const again = await gl.lossAndGrad(pred, target, W, H, lambda);
      expect(again.loss).toBe(got.loss);
      expect(Array.from(again.grad)).toEqual(Array.from(got.grad));
    });
  }

  it('gradient entries match central finite differences of the loss', async () => {
    const gl = await get();
    const W = 16, H = 14;
    const pred = image(W, H, 3, 0.3), target = image(W, H, 4, 0.05);
    const got = await gl.lossAndGrad(pred, target, W, H, 0.2);
    const r = rng(9);
    const h = 1e-3;
    let checked = 0;
    while (checked < 12) {
      const i = Math.floor(r() * pred.length);
      if (Math.abs(pred[i]! - target[i]!) < 4 * h) continue; // keep away from the L1 kink
      // finite differences of the float64 reference loss: the f32 GPU loss is too coarse for them
      const at = (dx: number) => { const q = pred.slice(); q[i]! += dx; return { l: photoLossAndGrad(q, target, W, H, 0.2).loss, dx: q[i]! - pred[i]! }; };
      const a = at(h), b = at(-h);
      const fd = (a.l - b.l) / (a.dx - b.dx);
      expect(Math.abs(got.grad[i]! - fd), `entry ${i}`).toBeLessThan(1e-3 * Math.abs(fd) + 1e-7);
      checked++;
    }
  });
});
