/**
 * Held-out evaluation. Each held-out view is rendered with the trained scene; with the photometric
 * model on, the view's own exposure and white balance are unknown, so they are fitted on the
 * image's left half (scene, vignetting and response frozen) and the score is taken on the right
 * half only — the protocol of NeRF-W / ADOP-style evaluations.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import type { RasterCamera } from '../../core/raster.js';
import { defaultRasterOptions } from '../../core/raster.js';
import type { RasterBackend } from '../backend.js';
import { tf } from '../tf.js';
import { psnr, ssim } from './metrics.js';
import { PhotometricModel, applyPhotometric, radius2 } from '../photometric.js';
import { Adam } from '../train/adam.js';
import type { TrainView } from '../dataset.js';

export interface EvalViewResult {
  name: string;
  psnr: number;
  ssim: number;
  /** test-time exposure / white balance fitted on the left half */
  ev?: number;
  wb?: [number, number, number];
}

export interface EvalResult {
  psnr: number;
  ssim: number;
  protocol: 'full-image' | 'right-half-after-left-half-photometric-fit';
  views: EvalViewResult[];
}

export interface EvalOptions {
  shDegree: number;
  background: [number, number, number];
  photometric: PhotometricModel | null;
  /** Adam steps of the test-time photometric fit */
  fitSteps?: number;
  /** score only the right half even without a photometric model (to compare runs fairly) */
  rightHalf?: boolean;
  /** camera for a view (refined poses); default: the view's own */
  camera?: (v: TrainView) => RasterCamera;
  onView?: (v: TrainView, rendered: Float32Array, r: EvalViewResult) => Promise<void> | void;
}

export async function evaluateViews(params: GaussianParams, views: TrainView[], backend: RasterBackend, o: EvalOptions): Promise<EvalResult> {
  const results: EvalViewResult[] = [];
  const rightHalf = Boolean(o.photometric) || Boolean(o.rightHalf);
  for (const v of views) {
    const cam = o.camera ? o.camera(v) : { width: v.width, height: v.height, fx: v.fx, fy: v.fy, cx: v.cx, cy: v.cy, R: v.R, t: v.t };
    const pass = await backend.render(params, cam, { ...defaultRasterOptions, shDegree: o.shDegree, background: o.background });
    pass.dispose();
    let rendered = pass.out.rgb;
    const r: EvalViewResult = { name: v.name, psnr: 0, ssim: 0 };
    if (o.photometric) {
      const fit = fitExposureLeftHalf(rendered, v, o.photometric, o.fitSteps ?? 150);
      rendered = fit.rgb;
      r.ev = fit.ev;
      r.wb = fit.wb;
    }
    const mask = rightHalf ? halfMask(v.width, v.height, 'right') : undefined;
    r.psnr = psnr(rendered, v.target, mask);
    r.ssim = ssim({ width: v.width, height: v.height, data: rendered }, { width: v.width, height: v.height, data: v.target }, rightHalf ? { x0: Math.floor(v.width / 2) } : {});
    results.push(r);
    await o.onView?.(v, rendered, r);
  }
  const mean = (k: 'psnr' | 'ssim') => results.reduce((s, r) => s + r[k], 0) / Math.max(1, results.length);
  return { psnr: mean('psnr'), ssim: mean('ssim'), protocol: rightHalf ? 'right-half-after-left-half-photometric-fit' : 'full-image', views: results };
}

export function halfMask(width: number, height: number, side: 'left' | 'right'): Uint8Array {
  const m = new Uint8Array(width * height);
  const half = Math.floor(width / 2);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) m[y * width + x] = side === 'left' ? (x < half ? 1 : 0) : x >= half ? 1 : 0;
  return m;
}

/**
 * Fit this view's exposure and white balance on the left half (L1 + L2), with the camera's
 * vignetting and response from training. Returns the corrected full image.
 */
export function fitExposureLeftHalf(rendered: Float32Array, v: TrainView, ph: PhotometricModel, steps: number): { rgb: Float32Array; ev: number; wb: [number, number, number] } {
  const H = v.height, W = v.width, half = Math.floor(W / 2);
  const base = ph.tensors(0, v.camIdx);
  const ev = new Float32Array(1), wb = new Float32Array(3);
  const aEv = new Adam(1, 1, 0.02), aWb = new Adam(3, 3, 0.01);
  const rgbT = tf.tensor3d(rendered, [H, W, 3]);
  const left = tf.tidy(() => rgbT.slice([0, 0, 0], [H, half, 3]));
  const targetLeft = tf.tidy(() => tf.tensor3d(v.target, [H, W, 3]).slice([0, 0, 0], [H, half, 3]));
  const r2 = tf.tidy(() => radius2(W, H, v.cx, v.cy).slice([0, 0, 0], [H, half, 1]));
  for (let i = 0; i < steps; i++) {
    const evT = tf.tensor1d(ev), wbT = tf.tensor1d(wb);
    const { value, grads } = tf.valueAndGrads((e: tf.Tensor, w: tf.Tensor) => {
      const pred = applyPhotometric(left as tf.Tensor3D, { ev: e as tf.Tensor1D, wb: w as tf.Tensor1D, vig: base.vig, resp: base.resp }, r2 as tf.Tensor3D);
      const d = pred.sub(targetLeft);
      return d.abs().mean().add(d.square().mean()) as tf.Scalar;
    })([evT, wbT]);
    aEv.step(ev, grads[0]!.dataSync());
    aWb.step(wb, grads[1]!.dataSync());
    tf.dispose([value, ...grads, evT, wbT]);
  }
  const out = tf.tidy(() => applyPhotometric(rgbT, { ev: tf.tensor1d(ev), wb: tf.tensor1d(wb), vig: base.vig, resp: base.resp }, radius2(W, H, v.cx, v.cy)).dataSync() as Float32Array);
  tf.dispose([rgbT, left, targetLeft, r2, base.ev, base.wb, base.vig, base.resp]);
  return { rgb: Float32Array.from(out), ev: ev[0]!, wb: [wb[0]!, wb[1]!, wb[2]!] };
}
