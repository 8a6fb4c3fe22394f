/**
 * What the ADOP photometric model (scene/photometric.ts, its TypeScript/tfjs reference) and its
 * WGSL kernels (gpu/photometric/) share: the response curve's segment count, the learning rates,
 * and the model state the GPU copy is loaded from and written back to.
 */
import type { AdamState } from './optim.js';

/** Segments of the piecewise-linear camera response curve. */
export const RESPONSE_SEGMENTS = 16;

export interface PhotometricLrs {
  exposure: number;
  whiteBalance: number;
  vignetting: number;
  response: number;
  /** weight of the squared-distance-to-identity regulariser */
  regularization: number;
}

/** Initial rates; the trainer decays them ×0.01 over the run (exponentially, like positions). */
export const defaultPhotometricLrs: PhotometricLrs = { exposure: 5e-2, whiteBalance: 2e-2, vignetting: 2e-3, response: 2e-3, regularization: 1e-3 };

export type PhotometricKey = 'ev' | 'wb' | 'vig' | 'resp';
export const PHOTOMETRIC_KEYS: readonly PhotometricKey[] = ['ev', 'wb', 'vig', 'resp'];

/** One parameter group's Adam, as the GPU copy reads and writes it. */
export interface AdamGroup extends AdamState {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  load(s: AdamState): void;
}

/**
 * The photometric model's parameters (exposure per image, white balance per image, vignetting and
 * response per camera) and their Adam state: the scene's PhotometricModel satisfies it.
 */
export interface PhotometricState {
  readonly imageNames: readonly string[];
  readonly cameraIds: readonly number[];
  readonly referenceImage: number;
  readonly lrs: PhotometricLrs;
  ev: Float32Array;
  wb: Float32Array;
  vig: Float32Array;
  resp: Float32Array;
  readonly adam: Record<PhotometricKey, AdamGroup>;
}
