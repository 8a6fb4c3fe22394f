/**
 * Differentiable training losses on tfjs tensors: L = 0.8·L1 + 0.2·(1 − SSIM) (3DGS), with SSIM
 * defined exactly as in metrics.ts (11×11 Gaussian window, valid windows only).
 */
import { tf } from '../tf.js';
import { gaussianTaps, SSIM_C1, SSIM_C2, SSIM_WINDOW } from '../../core/ssim.js';

let filters: { h: tf.Tensor4D; v: tf.Tensor4D } | null = null;

function ssimFilters(): { h: tf.Tensor4D; v: tf.Tensor4D } {
  if (!filters) {
    const taps = Array.from(gaussianTaps());
    const k = SSIM_WINDOW;
    // depthwise filters [fh, fw, inChannels, multiplier]; the same taps for each of the 3 channels
    const hData: number[] = [], vData: number[] = [];
    for (let i = 0; i < k; i++) for (let c = 0; c < 3; c++) { hData.push(taps[i]!); vData.push(taps[i]!); }
    filters = { h: tf.keep(tf.tensor4d(hData, [1, k, 3, 1])), v: tf.keep(tf.tensor4d(vData, [k, 1, 3, 1])) };
  }
  return filters;
}

function blur(x: tf.Tensor4D): tf.Tensor4D {
  const f = ssimFilters();
  return tf.depthwiseConv2d(tf.depthwiseConv2d(x, f.h, 1, 'valid'), f.v, 1, 'valid');
}

/** Mean SSIM of two [H, W, 3] images (a scalar tensor). */
export function ssimTensor(a: tf.Tensor3D, b: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const x = a.expandDims(0) as tf.Tensor4D;
    const y = b.expandDims(0) as tf.Tensor4D;
    const mx = blur(x), my = blur(y);
    const exx = blur(x.mul(x)), eyy = blur(y.mul(y)), exy = blur(x.mul(y));
    const mx2 = mx.mul(mx), my2 = my.mul(my), mxy = mx.mul(my);
    const num = mxy.mul(2).add(SSIM_C1).mul(exy.sub(mxy).mul(2).add(SSIM_C2));
    const den = mx2.add(my2).add(SSIM_C1).mul(exx.sub(mx2).add(eyy.sub(my2)).add(SSIM_C2));
    return num.div(den).mean() as tf.Scalar;
  });
}

export const LAMBDA_DSSIM = 0.2;

/** 0.8·L1 + 0.2·(1 − SSIM); also returns the L1 term for logging. */
export function photoLoss(pred: tf.Tensor3D, target: tf.Tensor3D, lambda = LAMBDA_DSSIM): tf.Scalar {
  return tf.tidy(() => {
    const l1 = pred.sub(target).abs().mean();
    if (lambda === 0) return l1 as tf.Scalar;
    return l1.mul(1 - lambda).add(tf.scalar(1).sub(ssimTensor(pred, target)).mul(lambda)) as tf.Scalar;
  });
}
