/**
 * The rasterizer as the trainer sees it (the interface only: this module never imports an
 * implementation). Render a view, then — once the image-space loss gradient is known — run the
 * backward pass of that same render. Implementations: backend-reference.ts (the TypeScript
 * reference rasterizer), backend-gpu.ts (the WGSL rasterizer); backend-factory.ts picks one.
 * The interface is asynchronous because a GPU backward reads results back asynchronously; the
 * trainer therefore composes render → image loss → backward itself rather than through a
 * synchronous tf.customGrad (same gradients: the rasterizer is the first op of the graph).
 */
import type { GaussianParams } from '../core/gaussians.js';
import type { RasterCamera, RasterGradients, RasterOptions, RasterOutput, RasterUpstream } from '../core/raster.js';
import type { GpuRasterizer } from '../gpu/raster/rasterizer.js';

export interface RenderPass {
  out: RasterOutput;
  backward(upstream: RasterUpstream): Promise<RasterGradients>;
  /** free per-render buffers when backward will not be called */
  dispose(): void;
}

export interface RasterBackend {
  readonly name: string;
  /**
   * The GPU rasterizer whose buffers the GPU-resident training path (train/gpu-resident.ts) may drive
   * directly, or null when this backend cannot keep training state on a device. The trainer asks
   * this instead of inspecting the implementation.
   */
  readonly resident: GpuRasterizer | null;
  render(params: GaussianParams, cam: RasterCamera, opts: RasterOptions): Promise<RenderPass>;
}

/** What a caller may ask the factory for ('auto': the GPU when an adapter works, else the reference). */
export type BackendChoice = 'auto' | 'reference' | 'gpu';
