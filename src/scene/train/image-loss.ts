/**
 * The training loss 0.8·L1 + 0.2·(1 − SSIM) and its gradient in plain TypeScript. Same definition
 * as losses.ts (tfjs) and metrics.ts; it exists because tfjs's cpu backend spent more time on the
 * SSIM convolutions' gradients than the rasterizer on small images (measured: 146 ms vs ~10 ms
 * here for 64×48), and test/photometric.test.ts checks both give the same gradient.
 *
 * SSIM gradient: with per-window moments μx, μy, Sxx = E[x²], Syy, Sxy = E[xy],
 *   S = (2μxμy + C1)(2(Sxy − μxμy) + C2) / ((μx² + μy² + C1)(Sxx − μx² + Syy − μy² + C2)),
 * ∂S/∂x(p) = Σ_windows w(p − c)·(∂S/∂μx + 2x(p)·∂S/∂Sxx + y(p)·∂S/∂Sxy), i.e. three maps over
 * window centres scattered back through the same separable Gaussian.
 *
 * ssimWindowTerms() writes those derivatives with the denominators B1·B2 only (never A1 or A2,
 * which reach 0 for anti-correlated or opposite-signed windows: S/A2 was 0/0 there), so they are
 * finite wherever S is; the WGSL loss kernel uses the same expressions (src/gpu/loss/image-loss.ts).
 */
import { gaussianTaps, SSIM_C1, SSIM_C2, SSIM_WINDOW } from '../../core/ssim.js';

export interface LossResult {
  loss: number;
  l1: number;
  ssim: number;
  /** dLoss/dPred, H×W×3 */
  grad: Float32Array;
}

const taps = gaussianTaps();

/** SSIM of one window and ∂S/∂μx, ∂S/∂Sxx, ∂S/∂Sxy from its moments (see the header). */
export function ssimWindowTerms(ux: number, uy: number, exx: number, eyy: number, exy: number): { S: number; dMu: number; dXX: number; dXY: number } {
  const A1 = 2 * ux * uy + SSIM_C1, A2 = 2 * (exy - ux * uy) + SSIM_C2;
  const B1 = ux * ux + uy * uy + SSIM_C1, B2 = exx - ux * ux + eyy - uy * uy + SSIM_C2;
  const D = B1 * B2;
  const S = (A1 * A2) / D;
  return {
    S,
    // S·(2μy/A1 − 2μy/A2 − 2μx/B1 + 2μx/B2) with S/A1 = A2/D and S/A2 = A1/D
    dMu: (2 * uy * (A2 - A1) - 2 * ux * S * (B2 - B1)) / D,
    dXX: -S / B2,
    dXY: (2 * A1) / D,
  };
}

export function photoLossAndGrad(pred: Float32Array, target: Float32Array, W: number, H: number, lambda = 0.2): LossResult {
  const n = W * H * 3;
  const grad = new Float32Array(n);
  let l1 = 0;
  for (let i = 0; i < n; i++) {
    const d = pred[i]! - target[i]!;
    l1 += Math.abs(d);
    grad[i] = ((1 - lambda) * Math.sign(d)) / n;
  }
  l1 /= n;
  if (lambda === 0) return { loss: l1, l1, ssim: 1, grad };
  const k = SSIM_WINDOW, r = (k - 1) / 2;
  const Wv = W - 2 * r, Hv = H - 2 * r;
  if (Wv <= 0 || Hv <= 0) throw new Error(`image ${W}×${H} smaller than the SSIM window`);
  const nw = Wv * Hv * 3;
  let ssimSum = 0;
  const px = new Float64Array(W * H), py = new Float64Array(W * H);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < W * H; i++) { px[i] = pred[i * 3 + c]!; py[i] = target[i * 3 + c]!; }
    const mx = blurValid(px, null, W, H), my = blurValid(py, null, W, H);
    const sxx = blurValid(px, px, W, H), syy = blurValid(py, py, W, H), sxy = blurValid(px, py, W, H);
    const gMu = new Float64Array(Wv * Hv), gXX = new Float64Array(Wv * Hv), gXY = new Float64Array(Wv * Hv);
    for (let j = 0; j < Wv * Hv; j++) {
      const t = ssimWindowTerms(mx[j]!, my[j]!, sxx[j]!, syy[j]!, sxy[j]!);
      ssimSum += t.S;
      gMu[j] = t.dMu;
      gXX[j] = t.dXX;
      gXY[j] = t.dXY;
    }
    const bMu = scatter(gMu, W, H), bXX = scatter(gXX, W, H), bXY = scatter(gXY, W, H);
    const scale = -lambda / nw;
    for (let i = 0; i < W * H; i++) grad[i * 3 + c]! += scale * (bMu[i]! + 2 * px[i]! * bXX[i]! + py[i]! * bXY[i]!);
  }
  const ssim = ssimSum / nw;
  return { loss: (1 - lambda) * l1 + lambda * (1 - ssim), l1, ssim, grad };
}

/** Gaussian-weighted window sums of a·b (or a) over valid window centres, (W−2r)×(H−2r). */
function blurValid(a: Float64Array, b: Float64Array | null, W: number, H: number): Float64Array {
  const k = SSIM_WINDOW, r = (k - 1) / 2, Wv = W - 2 * r, Hv = H - 2 * r;
  const h = new Float64Array(Wv * H);
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < Wv; x++) {
      let s = 0;
      for (let t = 0; t < k; t++) {
        const i = row + x + t;
        s += taps[t]! * (b ? a[i]! * b[i]! : a[i]!);
      }
      h[y * Wv + x] = s;
    }
  }
  const out = new Float64Array(Wv * Hv);
  for (let y = 0; y < Hv; y++) {
    for (let x = 0; x < Wv; x++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += taps[t]! * h[(y + t) * Wv + x]!;
      out[y * Wv + x] = s;
    }
  }
  return out;
}

/** Transpose of blurValid (without the product): spread window-centre values back to pixels. */
function scatter(g: Float64Array, W: number, H: number): Float64Array {
  const k = SSIM_WINDOW, r = (k - 1) / 2, Wv = W - 2 * r, Hv = H - 2 * r;
  const v = new Float64Array(Wv * H);
  for (let y = 0; y < Hv; y++) {
    for (let x = 0; x < Wv; x++) {
      const val = g[y * Wv + x]!;
      if (val === 0) continue;
      for (let t = 0; t < k; t++) v[(y + t) * Wv + x]! += taps[t]! * val;
    }
  }
  const out = new Float64Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < Wv; x++) {
      const val = v[y * Wv + x]!;
      if (val === 0) continue;
      for (let t = 0; t < k; t++) out[y * W + x + t]! += taps[t]! * val;
    }
  }
  return out;
}
