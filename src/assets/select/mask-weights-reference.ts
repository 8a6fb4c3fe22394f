/**
 * Reference (CPU, float64) of the mask-lift weights: for one view and a per-pixel mask m ∈ [0, 1],
 * per Gaussian i
 *   inside_i  = Σ_pixels m · αᵢTᵢ      outside_i = Σ_pixels (1 − m) · αᵢTᵢ
 * where αᵢTᵢ is Gaussian i's alpha-blending weight at the pixel (the reference rasterizer's
 * compositing rules: same order, alpha clamp, skip and stop rules). FlashSplat (2024) labels a
 * Gaussian by comparing these sums accumulated over the masked views. The GPU version is
 * src/gpu/assets/mask-weights.ts; test/mask-weights.test.ts compares them.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { ALPHA_MAX, ALPHA_MIN, T_MIN, type RasterCamera, type RasterOptions } from '../../core/raster.js';
import { rasterizeReference64 } from '../../scene/raster/reference.js';

export interface MaskWeights {
  /** per Gaussian Σ m·w */
  inside: Float64Array;
  /** per Gaussian Σ (1 − m)·w */
  outside: Float64Array;
}

export function maskWeightsReference(params: GaussianParams, camera: RasterCamera, mask: ArrayLike<number>, opts: RasterOptions): MaskWeights {
  const N = params.count;
  const inside = new Float64Array(N), outside = new Float64Array(N);
  // colour does not enter the weights: degree 0 keeps the forward pass cheap
  const { ctx } = rasterizeReference64(params, camera, { ...opts, shDegree: 0 });
  const { projected, tileLists, tilesX, tileSize: ts } = ctx;
  const W = camera.width, H = camera.height;
  if (mask.length !== W * H) throw new Error(`mask has ${mask.length} pixels, camera ${W}×${H}`);
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const pix = py * W + px;
      const n = ctx.last[pix]!;
      if (n === 0) continue;
      const m = mask[pix]!;
      const list = tileLists[Math.floor(py / ts) * tilesX + Math.floor(px / ts)]!;
      const x = px + 0.5, y = py + 0.5;
      let T = 1;
      for (let k = 0; k < n; k++) {
        const gi = list[k]!;
        const p = projected[gi]!;
        const dx = p.mx - x, dy = p.my - y;
        const power = -0.5 * (p.a * dx * dx + p.c * dy * dy) - p.b * dx * dy;
        if (power > 0) continue;
        const a = Math.min(ALPHA_MAX, p.opacity * Math.exp(power));
        if (a < ALPHA_MIN) continue;
        if (T * (1 - a) <= T_MIN) break;
        const w = a * T;
        inside[gi]! += m * w;
        outside[gi]! += (1 - m) * w;
        T *= 1 - a;
      }
    }
  }
  return { inside, outside };
}
