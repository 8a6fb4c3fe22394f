/**
 * The TypeScript reference rasterizer (raster/reference.ts, float64, CPU) behind the RasterBackend
 * interface: tests, GPU-less machines. Being synchronous it also works as a tfjs op (`rasterOp`).
 */
import type { GaussianParams } from '../core/gaussians.js';
import type { RasterCamera, RasterGradients, RasterOptions, RasterUpstream } from '../core/raster.js';
import type { RasterBackend, RenderPass } from './backend.js';
import { rasterizeReference, rasterizeReferenceBackward } from './raster/reference.js';
import { tf } from './tf.js';

export class ReferenceBackend implements RasterBackend {
  readonly name = 'reference';
  readonly resident = null;
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

/**
 * The rasterizer as a tfjs op (tf.customGrad) over tensors of the five parameter groups, for the
 * synchronous reference backend. Side outputs of the backward pass (pose gradient, screen-space
 * gradient norms) are handed to `onGradients`.
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
