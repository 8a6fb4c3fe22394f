/**
 * The rasterizer as the trainer sees it: render a view, then (once the image-space loss gradient
 * is known) run the backward pass of that same render. Two implementations:
 *  - 'reference': the TypeScript reference rasterizer (CPU; tests and GPU-less machines);
 *  - 'gpu': the WGSL rasterizer on the shared Dawn device, when one is present and works.
 * The interface is asynchronous because a GPU backward reads results back asynchronously; the
 * trainer therefore composes render → tfjs image loss → backward itself rather than through a
 * synchronous tf.customGrad (same gradients: the rasterizer is the first op of the graph). For
 * graphs that do need it as a tfjs op, `rasterOp` wraps a synchronous backend in tf.customGrad.
 */
import type { GaussianParams } from '../core/gaussians.js';
import type { RasterCamera, RasterGradients, RasterOptions, RasterOutput, RasterUpstream } from '../core/raster.js';
import { rasterizeReference, rasterizeReferenceBackward } from './raster/reference.js';
import { tf } from './tf.js';
import { warnOnce } from '../util/log.js';

export interface RenderPass {
  out: RasterOutput;
  backward(upstream: RasterUpstream): Promise<RasterGradients>;
  /** free per-render buffers when backward will not be called */
  dispose(): void;
}

export interface RasterBackend {
  readonly name: string;
  render(params: GaussianParams, cam: RasterCamera, opts: RasterOptions): Promise<RenderPass>;
}

export class ReferenceBackend implements RasterBackend {
  readonly name = 'reference';
  async render(params: GaussianParams, cam: RasterCamera, opts: RasterOptions): Promise<RenderPass> {
    return this.renderSync(params, cam, opts);
  }

  renderSync(params: GaussianParams, cam: RasterCamera, opts: RasterOptions): RenderPass & { backwardSync(u: RasterUpstream): RasterGradients } {
    const res = rasterizeReference(params, cam, opts);
    const backwardSync = (u: RasterUpstream) => rasterizeReferenceBackward(params, cam, opts, res.ctx, u);
    return {
      out: res,
      backwardSync,
      backward: async (u) => backwardSync(u),
      dispose: () => {},
    };
  }
}

export type BackendChoice = 'auto' | 'reference' | 'gpu';

/**
 * Pick the rasterizer backend. 'auto' (and 'gpu') use the WGSL rasterizer when any WebGPU adapter
 * exists (lavapipe included: faster than the reference), the reference otherwise.
 */
export async function createBackend(choice: BackendChoice = 'auto'): Promise<RasterBackend> {
  const env = process.env.R2S_RASTER as BackendChoice | undefined;
  const want = env && env !== 'auto' ? env : choice;
  if (want === 'reference') return new ReferenceBackend();
  const gpu = await tryGpuBackend(want === 'gpu');
  if (gpu) return gpu;
  if (want === 'gpu') warnOnce('no-gpu-raster', 'no WebGPU adapter for --backend gpu; using the reference rasterizer');
  return new ReferenceBackend();
}

async function tryGpuBackend(force: boolean): Promise<RasterBackend | null> {
  const mod = await import('./backend-gpu.js');
  return mod.createGpuBackend(force);
}

/**
 * The rasterizer as a tfjs op (tf.customGrad) over tensors of the five parameter groups, for a
 * synchronous backend. Side outputs of the backward pass (pose gradient, screen-space gradient
 * norms) are handed to `onGradients`.
 */
export function rasterOp(
  backend: ReferenceBackend,
  count: number,
  cam: RasterCamera,
  opts: RasterOptions,
  onGradients?: (g: RasterGradients) => void,
): (means: tf.Tensor, logScales: tf.Tensor, quats: tf.Tensor, opacityLogits: tf.Tensor, sh: tf.Tensor) => tf.Tensor3D {
  const op = tf.customGrad((...args: (tf.Tensor | ((xs: tf.Tensor[]) => void))[]) => {
    const [means, logScales, quats, opacityLogits, sh] = args as tf.Tensor[];
    const params: GaussianParams = {
      count,
      means: means!.dataSync() as Float32Array,
      logScales: logScales!.dataSync() as Float32Array,
      quats: quats!.dataSync() as Float32Array,
      opacityLogits: opacityLogits!.dataSync() as Float32Array,
      sh: sh!.dataSync() as Float32Array,
    };
    const pass = backend.renderSync(params, cam, opts);
    const value = tf.tensor3d(pass.out.rgb, [cam.height, cam.width, 3]);
    const gradFunc = (dy: tf.Tensor) => {
      const g = pass.backwardSync({ rgb: dy.dataSync() as Float32Array });
      onGradients?.(g);
      return [
        tf.tensor(g.means, means!.shape),
        tf.tensor(g.logScales, logScales!.shape),
        tf.tensor(g.quats, quats!.shape),
        tf.tensor(g.opacityLogits, opacityLogits!.shape),
        tf.tensor(g.sh, sh!.shape),
      ];
    };
    return { value, gradFunc };
  });
  return op as unknown as (means: tf.Tensor, logScales: tf.Tensor, quats: tf.Tensor, opacityLogits: tf.Tensor, sh: tf.Tensor) => tf.Tensor3D;
}
