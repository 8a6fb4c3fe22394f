/**
 * The WGSL rasterizer (src/gpu/raster/) behind the RasterBackend interface, through its CPU-array
 * API: parameters are uploaded and the image and gradients read back per render. The trainer uses
 * this for camera passes, evaluation and its CPU-array path; its GPU-resident path
 * (train/gpu-resident.ts) drives `resident` (the same rasterizer) on buffers that stay on the device.
 */
import type { RasterBackend, RenderPass } from './backend.js';
import type { GaussianParams } from '../core/gaussians.js';
import type { RasterCamera, RasterOptions } from '../core/raster.js';
import { getDevice } from '../gpu/device.js';
import { GpuRasterizer } from '../gpu/raster/rasterizer.js';
import { warnOnce } from '../util/log.js';

export class GpuBackend implements RasterBackend {
  readonly name: string;
  readonly resident: GpuRasterizer;
  constructor(readonly raster: GpuRasterizer, adapterName: string) {
    this.name = `gpu (${adapterName})`;
    this.resident = raster;
  }

  async render(params: GaussianParams, cam: RasterCamera, opts: RasterOptions): Promise<RenderPass> {
    const out = await this.raster.rasterize(params, cam, { ...opts, tileSize: 16 });
    return {
      out,
      backward: (u) => this.raster.backwardArrays(out.fwd, u),
      dispose: () => {},
    };
  }
}

/**
 * The GPU backend whenever an adapter exists — even lavapipe beats the float64 reference
 * (measured 100 vs 161 ms per training step at 128×96 with 2.4k Gaussians on 2 cores); null when
 * there is no adapter or the rasterizer fails to start.
 */
export async function createGpuBackend(): Promise<GpuBackend | null> {
  const ctx = await getDevice();
  if (!ctx) return null;
  try {
    return new GpuBackend(await GpuRasterizer.create(ctx), ctx.adapterName);
  } catch (e) {
    warnOnce('gpu-raster', `GPU rasterizer failed to start (${(e as Error).message.split('\n')[0]}); using the reference rasterizer`);
    return null;
  }
}
