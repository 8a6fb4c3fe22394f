/**
 * ADOP-style photometric model, applied to the rendered image before the loss:
 *   out = response_cam( render · 2^EV_img · WB_img · vignette_cam(r) )
 * per image: exposure EV and white balance (3 log gains); per camera: vignetting 1 + a·r² + b·r⁴ +
 * c·r⁶ (r = distance from the principal point / half diagonal) and a monotone response curve
 * (piecewise linear, K segments whose slopes are exp(p) — positive, so the curve is monotone).
 * All parameters are 0 at identity, regularised toward it, and the reference image's exposure and
 * white balance are fixed at identity, which anchors the scene's colours.
 */
import { tf } from './tf.js';
import { Adam } from './train/adam.js';
import { RESPONSE_SEGMENTS, defaultPhotometricLrs, type PhotometricLrs } from '../core/photometric.js';

export interface PhotometricJson {
  version: 1;
  referenceImage: string;
  images: { name: string; ev: number; wb: [number, number, number] }[];
  cameras: { id: number; vignetting: [number, number, number]; responseLogSlopes: number[] }[];
}

export interface PhotometricTensors {
  ev: tf.Tensor1D; // [1]
  wb: tf.Tensor1D; // [3]
  vig: tf.Tensor1D; // [3]
  resp: tf.Tensor1D; // [K]
}

export class PhotometricModel {
  ev: Float32Array;
  wb: Float32Array;
  vig: Float32Array;
  resp: Float32Array;
  readonly adam: { ev: Adam; wb: Adam; vig: Adam; resp: Adam };

  constructor(
    readonly imageNames: string[],
    readonly cameraIds: number[],
    readonly referenceImage: number,
    readonly lrs: PhotometricLrs = defaultPhotometricLrs,
  ) {
    const ni = imageNames.length, nc = cameraIds.length, K = RESPONSE_SEGMENTS;
    this.ev = new Float32Array(ni);
    this.wb = new Float32Array(ni * 3);
    this.vig = new Float32Array(nc * 3);
    this.resp = new Float32Array(nc * K);
    this.adam = {
      ev: new Adam(ni, 1, lrs.exposure, 0.9, 0.999, 1e-15),
      wb: new Adam(ni * 3, 3, lrs.whiteBalance, 0.9, 0.999, 1e-15),
      vig: new Adam(nc * 3, 3, lrs.vignetting, 0.9, 0.999, 1e-15),
      resp: new Adam(nc * K, K, lrs.response, 0.9, 0.999, 1e-15),
    };
  }

  /** Tensors of one image's parameters (caller disposes). */
  tensors(image: number, camera: number): PhotometricTensors {
    const K = RESPONSE_SEGMENTS;
    return {
      ev: tf.tensor1d(this.ev.subarray(image, image + 1)),
      wb: tf.tensor1d(this.wb.subarray(image * 3, image * 3 + 3)),
      vig: tf.tensor1d(this.vig.subarray(camera * 3, camera * 3 + 3)),
      resp: tf.tensor1d(this.resp.subarray(camera * K, camera * K + K)),
    };
  }

  /**
   * Apply gradients for one image. Adam's own step counter advances per call; with one image per
   * step this matches a per-group Adam whose zero-gradient entries are simply not stepped.
   */
  /** Scale every group's rate by `f` relative to its initial value (schedule). */
  setLrScale(f: number): void {
    this.adam.ev.lr = this.lrs.exposure * f;
    this.adam.wb.lr = this.lrs.whiteBalance * f;
    this.adam.vig.lr = this.lrs.vignetting * f;
    this.adam.resp.lr = this.lrs.response * f;
  }

  step(image: number, camera: number, g: { ev: Float32Array; wb: Float32Array; vig: Float32Array; resp: Float32Array }, what: { perImage: boolean; perCamera: boolean }): void {
    const K = RESPONSE_SEGMENTS;
    if (what.perImage && image !== this.referenceImage) {
      stepRow(this.adam.ev, this.ev, image, 1, g.ev);
      stepRow(this.adam.wb, this.wb, image, 3, g.wb);
    }
    if (what.perCamera) {
      stepRow(this.adam.vig, this.vig, camera, 3, g.vig);
      stepRow(this.adam.resp, this.resp, camera, K, g.resp);
    }
  }

  toJson(): PhotometricJson {
    const K = RESPONSE_SEGMENTS;
    return {
      version: 1,
      referenceImage: this.imageNames[this.referenceImage] ?? '',
      images: this.imageNames.map((name, i) => ({ name, ev: this.ev[i]!, wb: [this.wb[i * 3]!, this.wb[i * 3 + 1]!, this.wb[i * 3 + 2]!] })),
      cameras: this.cameraIds.map((id, c) => ({
        id,
        vignetting: [this.vig[c * 3]!, this.vig[c * 3 + 1]!, this.vig[c * 3 + 2]!],
        responseLogSlopes: Array.from(this.resp.subarray(c * K, c * K + K)),
      })),
    };
  }

  /** Load camera parameters (and image parameters for matching names) from photometric.json. */
  loadJson(j: PhotometricJson): void {
    const K = RESPONSE_SEGMENTS;
    j.images.forEach((im) => {
      const i = this.imageNames.indexOf(im.name);
      if (i < 0) return;
      this.ev[i] = im.ev;
      this.wb.set(im.wb, i * 3);
    });
    j.cameras.forEach((c) => {
      const k = this.cameraIds.indexOf(c.id);
      if (k < 0) return;
      this.vig.set(c.vignetting, k * 3);
      this.resp.set(c.responseLogSlopes.slice(0, K), k * K);
    });
  }
}

/** Adam on one row of a parameter array, with its own moments for that row. */
function stepRow(adam: Adam, param: Float32Array, row: number, size: number, grad: Float32Array): void {
  // A per-row step count would need per-row state; the shared count is what 3DGS/ADOP-style
  // per-image embeddings get from torch's Adam too (sparse rows still advance the global step).
  const p = param.subarray(row * size, row * size + size);
  const m = adam.m.subarray(row * size, row * size + size);
  const v = adam.v.subarray(row * size, row * size + size);
  const sub = new Adam(size, size, adam.lr, adam.beta1, adam.beta2, adam.eps);
  sub.m = m;
  sub.v = v;
  sub.t = adam.t;
  sub.step(p, grad);
  adam.t = sub.t;
}

const radiusCache = new Map<string, tf.Tensor3D>();

/** r² per pixel, normalised by the half diagonal, as an [H, W, 1] tensor (cached). */
export function radius2(width: number, height: number, cx: number, cy: number): tf.Tensor3D {
  const key = `${width}x${height}@${cx},${cy}`;
  let t = radiusCache.get(key);
  if (!t) {
    const d = new Float32Array(width * height);
    const norm = (width * width + height * height) / 4;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) d[y * width + x] = ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2) / norm;
    t = tf.keep(tf.tensor3d(d, [height, width, 1]));
    if (radiusCache.size > 64) {
      for (const v of radiusCache.values()) v.dispose();
      radiusCache.clear();
    }
    radiusCache.set(key, t);
  }
  return t;
}

/**
 * The monotone response curve on any tensor of values (identity when all log slopes are 0):
 * piecewise linear on [0, 1] with K segments of slope exp(p_k), extended linearly outside.
 * Written as a customGrad with hand gradients: tfjs cannot differentiate a gather whose indices
 * come from the input (floor), and the loops are cheap.
 */
export function responseCurve(x: tf.Tensor, logSlopes: tf.Tensor1D): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | ((ts: tf.Tensor[]) => void))[]) => {
    const xIn = args[0] as tf.Tensor, pIn = args[1] as tf.Tensor;
    (args[2] as (ts: tf.Tensor[]) => void)([xIn, pIn]);
    const xv = xIn.dataSync() as Float32Array;
    const pv = pIn.dataSync() as Float32Array;
    const K = pv.length;
    const sl = Array.from(pv, Math.exp);
    const cum = new Float64Array(K + 1);
    for (let k = 0; k < K; k++) cum[k + 1] = cum[k]! + sl[k]! / K;
    const out = new Float32Array(xv.length);
    for (let i = 0; i < xv.length; i++) {
      const xk = xv[i]! * K;
      const j = Math.min(K - 1, Math.max(0, Math.floor(xk)));
      out[i] = cum[j]! + ((xk - j) * sl[j]!) / K;
    }
    const value = tf.tensor(out, xIn.shape);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const xs = saved[0]!.dataSync() as Float32Array;
      const dyv = dy.dataSync() as Float32Array;
      const dx = new Float32Array(xs.length);
      const dCum = new Float64Array(K + 1); // dL/dcum[j] accumulates the base terms
      const dSl = new Float64Array(K);
      for (let i = 0; i < xs.length; i++) {
        const xk = xs[i]! * K;
        const j = Math.min(K - 1, Math.max(0, Math.floor(xk)));
        dx[i] = dyv[i]! * sl[j]!;
        dCum[j]! += dyv[i]!;
        dSl[j]! += (dyv[i]! * (xk - j)) / K;
      }
      // cum[j] = Σ_{k<j} sl[k]/K  →  dL/dsl[k] += Σ_{j>k} dCum[j]/K
      let tail = 0;
      for (let k = K - 1; k >= 0; k--) {
        tail += dCum[k + 1]!;
        dSl[k]! += tail / K;
      }
      const dp = new Float32Array(K);
      for (let k = 0; k < K; k++) dp[k] = dSl[k]! * sl[k]!; // d exp(p)/dp = exp(p)
      return [tf.tensor(dx, xs.length ? saved[0]!.shape : [0]), tf.tensor1d(dp)];
    };
    return { value, gradFunc };
  });
  return (op as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor)(x, logSlopes);
}

export function applyPhotometric(rgb: tf.Tensor3D, p: PhotometricTensors, r2: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const gain = tf.exp(p.wb.add(p.ev.mul(Math.LN2))); // [3]
    const r4 = r2.mul(r2);
    const vig = r2.mul(p.vig.slice(0, 1)).add(r4.mul(p.vig.slice(1, 1))).add(r4.mul(r2).mul(p.vig.slice(2, 1))).add(1);
    const lin = rgb.mul(vig).mul(gain);
    return responseCurve(lin, p.resp) as tf.Tensor3D;
  });
}
