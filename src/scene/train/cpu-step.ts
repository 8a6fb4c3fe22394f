/**
 * The CPU-array step: render through any backend, the photometric model in tfjs (autodiff over
 * its parameters), the loss and its gradient in plain TypeScript (image-loss.ts: tfjs's cpu SSIM
 * gradient was the slowest piece), the rasterizer backward, the strategy's pre-optimizer hook and
 * Adam per group of the parameter-group table.
 */
import { tf } from '../tf.js';
import { photoLossAndGrad } from './image-loss.js';
import { expLr } from './schedule.js';
import { applyPhotometric, radius2 } from '../photometric.js';
import { RESPONSE_SEGMENTS } from '../../core/photometric.js';
import { PARAM_GROUP_TABLE } from './param-groups.js';
import { psnrOf, type StepHost, type StepInput, type StepOutput, type TrainStepImpl } from './step.js';

type PhGrads = { ev: Float32Array; wb: Float32Array; vig: Float32Array; resp: Float32Array };

export class CpuStep implements TrainStepImpl {
  async run(h: StepHost, { vi, view, cam, raster, frozen }: StepInput): Promise<StepOutput> {
    const o = h.opts;
    const pass = await h.backend.render(h.params, cam, raster);
    const ph = h.photometric;
    let pred = pass.out.rgb;
    let phGrads: PhGrads | null = null;
    let dRgb: Float32Array;
    if (ph) {
      const phT = ph.tensors(vi, view.camIdx);
      const rgbT = tf.tensor3d(pass.out.rgb, [view.height, view.width, 3]);
      const r2 = radius2(view.width, view.height, view.cx, view.cy);
      const f = (...xs: tf.Tensor[]) => applyPhotometric(xs[0] as tf.Tensor3D, { ev: xs[1] as tf.Tensor1D, wb: xs[2] as tf.Tensor1D, vig: xs[3] as tf.Tensor1D, resp: xs[4] as tf.Tensor1D }, r2);
      const inputs = [rgbT, phT.ev, phT.wb, phT.vig, phT.resp];
      pred = tf.tidy(() => f(...inputs).dataSync() as Float32Array);
      const lr = photoLossAndGrad(pred, view.target, view.width, view.height, o.lambdaDssim);
      const dy = tf.tensor3d(lr.grad, [view.height, view.width, 3]);
      const grads = tf.grads(f)(inputs, dy);
      dRgb = Float32Array.from(grads[0]!.dataSync());
      const w = 2 * ph.lrs.regularization;
      const reg = (t: tf.Tensor, own: Float32Array, anchored: boolean) => {
        const gr = Float32Array.from(t.dataSync());
        if (!anchored) for (let i = 0; i < gr.length; i++) gr[i]! += w * own[i]!;
        return gr;
      };
      const anchoredImage = vi === ph.referenceImage;
      phGrads = {
        ev: reg(grads[1]!, ph.ev.subarray(vi, vi + 1), anchoredImage),
        wb: reg(grads[2]!, ph.wb.subarray(vi * 3, vi * 3 + 3), anchoredImage),
        vig: reg(grads[3]!, ph.vig.subarray(view.camIdx * 3, view.camIdx * 3 + 3), false),
        resp: reg(grads[4]!, ph.resp.subarray(view.camIdx * RESPONSE_SEGMENTS, (view.camIdx + 1) * RESPONSE_SEGMENTS), false),
      };
      tf.dispose([...grads, ...inputs, dy]);
      h.lastLoss = lr;
    } else {
      h.lastLoss = photoLossAndGrad(pred, view.target, view.width, view.height, o.lambdaDssim);
      dRgb = h.lastLoss.grad;
    }
    const loss = h.lastLoss.loss;
    let se = 0;
    for (let i = 0; i < pred.length; i++) se += (pred[i]! - view.target[i]!) ** 2;
    const mse = se / pred.length;
    const g = await pass.backward({ rgb: dRgb });

    h.strategy.stepPreOptimizer(h, g);
    const p = h.params;
    for (const grp of PARAM_GROUP_TABLE) if (!(frozen && grp.positional)) h.adam[grp.name].step(p[grp.name], g[grp.name]);
    if (ph && phGrads) {
      ph.setLrScale(expLr(h.step, 1, 0.01, o.iterations));
      ph.step(vi, view.camIdx, phGrads, { perImage: true, perCamera: true });
    }
    return { loss, psnr: psnrOf(mse), grads: g };
  }

  async sync(): Promise<void> {}
  replace(): void {}
  dispose(): void {}
}
