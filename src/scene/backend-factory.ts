/**
 * Pick the rasterizer backend (the only module that knows every implementation). 'auto' and 'gpu'
 * use the WGSL rasterizer when any WebGPU adapter exists (lavapipe included: faster than the
 * reference), the reference otherwise; R2S_RASTER=reference|gpu overrides 'auto' callers.
 */
import type { BackendChoice, RasterBackend } from './backend.js';
import { ReferenceBackend } from './backend-reference.js';
import { warnOnce } from '../util/log.js';

export async function createBackend(choice: BackendChoice = 'auto'): Promise<RasterBackend> {
  const env = process.env.R2S_RASTER as BackendChoice | undefined;
  const want = env && env !== 'auto' ? env : choice;
  if (want === 'reference') return new ReferenceBackend();
  // dynamic: the reference path never loads Dawn
  const { createGpuBackend } = await import('./backend-gpu.js');
  const gpu = await createGpuBackend();
  if (gpu) return gpu;
  if (want === 'gpu') warnOnce('no-gpu-raster', 'no WebGPU adapter for --backend gpu; using the reference rasterizer');
  return new ReferenceBackend();
}

export type { BackendChoice, RasterBackend };
export { ReferenceBackend };
