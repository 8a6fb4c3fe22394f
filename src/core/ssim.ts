/**
 * SSIM constants (Wang et al. 2004: 11×11 Gaussian window, σ = 1.5, C1 = 0.01², C2 = 0.03²) shared
 * by the TypeScript metrics and loss and the WGSL loss kernel.
 */

export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
export const SSIM_C1 = 0.01 ** 2;
export const SSIM_C2 = 0.03 ** 2;

/** Normalised 1D Gaussian taps; the 2D window is their outer product. */
export function gaussianTaps(size = SSIM_WINDOW, sigma = SSIM_SIGMA): Float64Array {
  const taps = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    taps[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += taps[i]!;
  }
  for (let i = 0; i < size; i++) taps[i]! /= sum;
  return taps;
}
