/**
 * Image quality metrics on plain H×W×3 float images in [0, 1]: PSNR and SSIM (Wang et al. 2004,
 * 11×11 Gaussian window, σ = 1.5, C1 = 0.01², C2 = 0.03²). SSIM uses "valid" windows only (no
 * padding), so a window never sees made-up border pixels; the training loss (losses.ts) uses the
 * same definition, so train and eval measure the same thing.
 */
import { SSIM_C1, SSIM_C2, SSIM_WINDOW, gaussianTaps } from '../../core/ssim.js';

export interface ImageF32 {
  width: number;
  height: number;
  /** H×W×3, row-major, values nominally in [0, 1] */
  data: Float32Array;
}

/** Mean squared error over the pixels where `mask` (H×W, optional) is non-zero, all channels. */
export function mse(a: Float32Array, b: Float32Array, mask?: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`mse: size mismatch ${a.length} vs ${b.length}`);
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask && !mask[Math.floor(i / 3)]) continue;
    const d = a[i]! - b[i]!;
    s += d * d;
    n++;
  }
  return n > 0 ? s / n : 0;
}

/** PSNR in dB for images with peak 1. Identical images give Infinity. */
export function psnr(a: Float32Array, b: Float32Array, mask?: Uint8Array): number {
  const m = mse(a, b, mask);
  return m > 0 ? -10 * Math.log10(m) : Infinity;
}

/**
 * Mean SSIM over all valid 11×11 windows and the three channels. `x0..x1` restricts the window
 * centres to a column range (eval scores the right half of an image).
 */
export function ssim(a: ImageF32, b: ImageF32, opts: { x0?: number; x1?: number } = {}): number {
  const { width: W, height: H } = a;
  if (b.width !== W || b.height !== H) throw new Error('ssim: size mismatch');
  const k = SSIM_WINDOW;
  const r = (k - 1) / 2;
  if (W < k || H < k) throw new Error(`ssim: image ${W}×${H} smaller than the ${k}×${k} window`);
  const taps = gaussianTaps();
  const x0 = Math.max(r, opts.x0 ?? r);
  const x1 = Math.min(W - r, opts.x1 ?? W - r);
  // Separable filtering: horizontal pass into 5 moment images, then vertical pass per centre.
  const n = W * H;
  let total = 0;
  let count = 0;
  for (let c = 0; c < 3; c++) {
    const hx = new Float64Array(n), hy = new Float64Array(n), hxx = new Float64Array(n), hyy = new Float64Array(n), hxy = new Float64Array(n);
    for (let y = 0; y < H; y++) {
      for (let x = r; x < W - r; x++) {
        let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (let t = 0; t < k; t++) {
          const i = (y * W + x - r + t) * 3 + c;
          const va = a.data[i]!, vb = b.data[i]!, w = taps[t]!;
          sx += w * va; sy += w * vb; sxx += w * va * va; syy += w * vb * vb; sxy += w * va * vb;
        }
        const o = y * W + x;
        hx[o] = sx; hy[o] = sy; hxx[o] = sxx; hyy[o] = syy; hxy[o] = sxy;
      }
    }
    for (let y = r; y < H - r; y++) {
      for (let x = x0; x < x1; x++) {
        let mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
        for (let t = 0; t < k; t++) {
          const o = (y - r + t) * W + x, w = taps[t]!;
          mx += w * hx[o]!; my += w * hy[o]!; exx += w * hxx[o]!; eyy += w * hyy[o]!; exy += w * hxy[o]!;
        }
        total += ssimFormula(mx, my, exx - mx * mx, eyy - my * my, exy - mx * my);
        count++;
      }
    }
  }
  return count > 0 ? total / count : 1;
}

/** The SSIM of one window from its moments. */
export function ssimFormula(mx: number, my: number, vx: number, vy: number, cxy: number): number {
  return ((2 * mx * my + SSIM_C1) * (2 * cxy + SSIM_C2)) / ((mx * mx + my * my + SSIM_C1) * (vx + vy + SSIM_C2));
}
