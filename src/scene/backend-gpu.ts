/**
 * The WGSL rasterizer (src/gpu/raster/) behind the RasterBackend interface. Returns null when no
 * usable adapter exists, so callers fall back to the reference backend.
 */
import type { RasterBackend } from './backend.js';

export async function createGpuBackend(_force: boolean): Promise<RasterBackend | null> {
  // Not wired yet: the GPU rasterizer's buffer-level API is still being written.
  return null;
}
