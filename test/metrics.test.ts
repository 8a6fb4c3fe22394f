import { describe, it, expect } from 'vitest';
import { psnr, mse, ssim } from '../src/scene/eval/metrics.js';
import { gaussianTaps, SSIM_C1, SSIM_C2 } from '../src/core/ssim.js';
import { photoLossAndGrad } from '../src/scene/train/image-loss.js';
import { Rng } from '../src/util/rng.js';

function img(W: number, H: number, f: (x: number, y: number, c: number) => number): Float32Array {
  const d = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) d[(y * W + x) * 3 + c] = f(x, y, c);
  return d;
}

describe('PSNR', () => {
  it('matches hand-computed values', () => {
    const a = new Float32Array(12).fill(0.5);
    const b = new Float32Array(12).fill(0.6); // mse 0.01 → 20 dB
    expect(mse(a, b)).toBeCloseTo(0.01, 6);
    expect(psnr(a, b)).toBeCloseTo(20, 4);
    const c = a.slice();
    c[0] = 0.5 + Math.sqrt(0.012); // one error of √0.012 over 12 values: mse 0.001 → 30 dB
    expect(psnr(a, c)).toBeCloseTo(30, 3);
    expect(psnr(a, a)).toBe(Infinity);
  });

  it('respects a pixel mask', () => {
    const a = img(2, 1, () => 0);
    const b = img(2, 1, (x) => (x === 0 ? 0.1 : 1));
    expect(psnr(a, b, Uint8Array.from([1, 0]))).toBeCloseTo(20, 4);
  });
});

describe('SSIM', () => {
  it('is 1 for identical images and the luminance term for two uniform images', () => {
    const rng = new Rng(1);
    const a = img(16, 14, () => rng.next());
    expect(ssim({ width: 16, height: 14, data: a }, { width: 16, height: 14, data: a })).toBeCloseTo(1, 10);
    const u = img(16, 14, () => 0.3), v = img(16, 14, () => 0.7);
    // uniform images: variances and covariance 0, so SSIM = (2ab + C1)/(a² + b² + C1)
    const want = (2 * 0.3 * 0.7 + SSIM_C1) / (0.3 * 0.3 + 0.7 * 0.7 + SSIM_C1);
    expect(ssim({ width: 16, height: 14, data: u }, { width: 16, height: 14, data: v })).toBeCloseTo(want, 6);
  });

  it('equals the textbook formula on a single 11×11 window computed directly', () => {
    const rng = new Rng(7);
    const a = img(11, 11, () => rng.next());
    const b = img(11, 11, (x, y, c) => 0.5 * a[(y * 11 + x) * 3 + c]! + 0.3 * rng.next());
    const taps = gaussianTaps();
    let total = 0;
    for (let c = 0; c < 3; c++) {
      let mx = 0, my = 0;
      for (let y = 0; y < 11; y++) for (let x = 0; x < 11; x++) {
        const w = taps[x]! * taps[y]!;
        mx += w * a[(y * 11 + x) * 3 + c]!; my += w * b[(y * 11 + x) * 3 + c]!;
      }
      let vx = 0, vy = 0, cxy = 0;
      for (let y = 0; y < 11; y++) for (let x = 0; x < 11; x++) {
        const w = taps[x]! * taps[y]!;
        const da = a[(y * 11 + x) * 3 + c]! - mx, db = b[(y * 11 + x) * 3 + c]! - my;
        vx += w * da * da; vy += w * db * db; cxy += w * da * db;
      }
      total += ((2 * mx * my + SSIM_C1) * (2 * cxy + SSIM_C2)) / ((mx * mx + my * my + SSIM_C1) * (vx + vy + SSIM_C2));
    }
    expect(ssim({ width: 11, height: 11, data: a }, { width: 11, height: 11, data: b })).toBeCloseTo(total / 3, 6);
  });

  it('training loss gradient matches finite differences', () => {
    const rng = new Rng(3);
    const W = 14, H = 13;
    const t = img(W, H, () => rng.next());
    const p = img(W, H, () => rng.next());
    const { loss, grad, ssim: s } = photoLossAndGrad(p, t, W, H, 0.2);
    expect(s).toBeCloseTo(ssim({ width: W, height: H, data: p }, { width: W, height: H, data: t }), 6);
    expect(loss).toBeGreaterThan(0);
    for (const i of [0, 17, 200, W * H * 3 - 1, 301]) {
      const h = 1e-3;
      const q = Float64Array.from(p);
      const up = Float32Array.from(q); up[i]! += h;
      const dn = Float32Array.from(q); dn[i]! -= h;
      const fd = (photoLossAndGrad(up, t, W, H, 0.2).loss - photoLossAndGrad(dn, t, W, H, 0.2).loss) / (2 * h);
      expect(grad[i]!).toBeCloseTo(fd, 5);
    }
  });
});
