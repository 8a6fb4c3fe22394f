/**
 * The ADOP photometric model on the GPU: the device-side twin of src/scene/photometric.ts
 * (`applyPhotometric` + `responseCurve` + `PhotometricState.step`, the TypeScript/tfjs reference;
 * test/gpu-photometric.test.ts compares values, gradients, finite differences and training steps):
 *   lin = rgb · vig(r) · gain_c,   gain = exp(wb + ev·ln2),   vig = 1 + a·r² + b·r⁴ + c·r⁶,
 *   out = cum[j] + (K·lin − j)·exp(p_j)/K,   j = clamp(floor(K·lin), 0, K−1),
 *   cum[j] = Σ_{k<j} exp(p_k)/K   (monotone, linear extension outside [0, 1]),
 * with r² = ((x+½−cx)² + (y+½−cy)²) / ((W² + H²)/4) as radius2().
 *
 * Where the parameters live (design choice): ON THE GPU. All images' and cameras' parameters and
 * their Adam moments sit in three buffers (params, m, v) laid out as
 *   [ ev (ni) | wb (3·ni) | vig (3·nc) | resp (K·nc) ],
 * the per-view gradient (23 floats) is reduced into a small buffer and a one-workgroup Adam kernel
 * steps that view's rows with the 2λ·p regulariser, the anchor rule (the reference image's EV/WB
 * never move) and the scheduled learning rates. Keeping ~26 parameters on the CPU would need a
 * 92-byte read-back every step, i.e. a second CPU↔GPU sync point per step (mapAsync latency, the
 * queue drained) on top of the rasterizer's instance count; on the GPU the step stays fire-and-
 * forget and the only host-side state is the four Adam step counters.
 *
 * Kernels (no float atomics; fixed summation order, so results are deterministic):
 *   1. forward:  one thread per pixel, out = response(rgb·vig·gain).
 *   2. backward: 64 threads × 4 pixels per workgroup; writes ∂L/∂rgb per pixel and accumulates
 *      NV = 6 + 2K per-pixel terms (∂/∂gain_c without the gain factor, ∂/∂(a, b, c), per-segment
 *      Σdy and Σdy·(K·lin − j)) in private arrays, then a fixed-shape tree over the workgroup →
 *      one partial row per workgroup.
 *   3. reduce:   one workgroup sums the partial rows (strided then tree, per value) and turns the
 *      totals into the 23 parameter gradients [ev, wb0..2, vig0..2, resp0..K−1].
 *   4. adam:     one workgroup, one thread per parameter of the view; Adam as src/scene/train/adam.ts.
 */
import { BufferPool, COPY_DST, COPY_SRC, STORAGE, UNIFORM, bindGroup, computePipeline, dispatch, readF32, upload } from '../buffers.js';
import { UniformCache } from '../uniforms.js';
import { PHOTOMETRIC_KEYS, RESPONSE_SEGMENTS, type PhotometricKey, type PhotometricLrs, type PhotometricState } from '../../core/photometric.js';
import type { AdamState } from '../../core/optim.js';

import { K, NV, WG, PPW, f32, PHOTOMETRIC_GRADS, forwardWgsl, backwardWgsl, reduceWgsl, adamWgsl } from './kernels.wgsl.js';

export { PHOTOMETRIC_GRADS };
/** Which image and camera a view uses, and its geometry (the principal point for r²). */
export interface PhotometricView {
  image: number;
  camera: number;
  width: number;
  height: number;
  cx: number;
  cy: number;
}

/** What one training step does with the photometric parameters (PhotometricState.step's `what`). */
export interface PhotometricStepOptions {
  /** multiplier on every group's initial rate: the trainer's expLr(step, 1, 0.01, iterations) */
  lrScale: number;
  /** step the image's exposure/WB (skipped anyway for the reference image); default true */
  perImage?: boolean;
  /** step the camera's vignetting/response; default true */
  perCamera?: boolean;
}


/** PhotometricState's arrays and Adam state (plain copies). */
export interface PhotometricSnapshot {
  ev: Float32Array;
  wb: Float32Array;
  vig: Float32Array;
  resp: Float32Array;
  adam: Record<PhotometricKey, AdamState>;
}

/** One view's parameter gradients (the reference's tf.grads order). */
export interface PhotometricGrads {
  ev: Float32Array;
  wb: Float32Array;
  vig: Float32Array;
  resp: Float32Array;
}

/**
 * Photometric kernels plus the whole model's parameters and Adam moments in GPU buffers. Build it
 * from a PhotometricState (create / load), run encodeForward → (loss) → encodeBackward →
 * encodeStep per training step, and copy back with download() / downloadInto().
 */
export class GpuPhotometric {
  /** params, m, v: [ev (ni) | wb (3·ni) | vig (3·nc) | resp (K·nc)] */
  params!: GPUBuffer;
  private m!: GPUBuffer;
  private v!: GPUBuffer;
  /** the last backward's parameter gradient (PHOTOMETRIC_GRADS floats, without the regulariser) */
  readonly grad: GPUBuffer;
  private readonly stepU: GPUBuffer;
  private readonly pool: BufferPool;
  private readonly uniforms: UniformCache;
  images = 0;
  cameras = 0;
  referenceImage = 0;
  lrs!: PhotometricLrs;
  /** Adam step counts per group (PhotometricState.adam[k].t) */
  t: Record<PhotometricKey, number> = { ev: 0, wb: 0, vig: 0, resp: 0 };
  private hyper = { beta1: 0.9, beta2: 0.999, eps: 1e-15 };

  private constructor(
    readonly device: GPUDevice,
    private readonly fwdPipe: GPUComputePipeline,
    private readonly bwdPipe: GPUComputePipeline,
    private readonly reducePipe: GPUComputePipeline,
    private readonly adamPipe: GPUComputePipeline,
  ) {
    this.pool = new BufferPool(device);
    this.uniforms = new UniformCache(device);
    this.grad = device.createBuffer({ label: 'ph-grad', size: PHOTOMETRIC_GRADS * f32, usage: STORAGE | COPY_SRC | COPY_DST });
    this.stepU = device.createBuffer({ label: 'ph-step', size: 128, usage: UNIFORM | COPY_DST });
  }

  static async create(device: GPUDevice, model: PhotometricState): Promise<GpuPhotometric> {
    const [a, b, c, d] = await Promise.all([
      computePipeline(device, 'ph-forward', forwardWgsl),
      computePipeline(device, 'ph-backward', backwardWgsl),
      computePipeline(device, 'ph-reduce', reduceWgsl),
      computePipeline(device, 'ph-adam', adamWgsl),
    ]);
    const g = new GpuPhotometric(device, a, b, c, d);
    g.load(model);
    return g;
  }

  /** floats in params / m / v */
  get length(): number {
    return 4 * this.images + (3 + K) * this.cameras;
  }

  private offsets(image: number, camera: number): [number, number, number, number] {
    const ni = this.images, nc = this.cameras;
    if (!(image >= 0 && image < ni)) throw new Error(`GpuPhotometric: image ${image} out of range [0, ${ni})`);
    if (!(camera >= 0 && camera < nc)) throw new Error(`GpuPhotometric: camera ${camera} out of range [0, ${nc})`);
    return [image, ni + 3 * image, 4 * ni + 3 * camera, 4 * ni + 3 * nc + K * camera];
  }

  /** (Re-)upload the model's parameters, Adam moments and step counts; later CPU changes need load() again. */
  load(model: PhotometricState): void {
    const ni = model.imageNames.length, nc = model.cameraIds.length;
    const a = model.adam;
    for (const k of PHOTOMETRIC_KEYS) {
      if (a[k].beta1 !== a.ev.beta1 || a[k].beta2 !== a.ev.beta2 || a[k].eps !== a.ev.eps) throw new Error('GpuPhotometric: all photometric Adam groups must share β1, β2, ε');
    }
    this.hyper = { beta1: a.ev.beta1, beta2: a.ev.beta2, eps: a.ev.eps };
    this.lrs = { ...model.lrs };
    this.referenceImage = model.referenceImage;
    const sizeChanged = ni !== this.images || nc !== this.cameras || !this.params;
    this.images = ni;
    this.cameras = nc;
    const n = this.length;
    if (sizeChanged) {
      this.params?.destroy(); this.m?.destroy(); this.v?.destroy();
      const mk = (label: string) => this.device.createBuffer({ label, size: Math.max(16, n * f32), usage: STORAGE | COPY_SRC | COPY_DST });
      this.params = mk('ph-params');
      this.m = mk('ph-m');
      this.v = mk('ph-v');
    }
    const pack = (get: (k: PhotometricKey) => Float32Array) => {
      const out = new Float32Array(n);
      let o = 0;
      for (const k of PHOTOMETRIC_KEYS) {
        const want = k === 'ev' ? ni : k === 'wb' ? 3 * ni : k === 'vig' ? 3 * nc : K * nc;
        const src = get(k);
        if (src.length < want) throw new Error(`GpuPhotometric: ${k} holds ${src.length} values, expected ${want}`);
        out.set(src.subarray(0, want), o);
        o += want;
      }
      return out;
    };
    if (n > 0) {
      upload(this.device, this.params, pack((k) => model[k]));
      upload(this.device, this.m, pack((k) => a[k].m));
      upload(this.device, this.v, pack((k) => a[k].v));
    }
    for (const k of PHOTOMETRIC_KEYS) this.t[k] = a[k].t;
  }

  private words(view: PhotometricView, extra?: { flags: number; lr: number[]; bc1: number[]; bc2: number[] }): number[] {
    const [evOff, wbOff, vigOff, respOff] = this.offsets(view.image, view.camera);
    const W = view.width, H = view.height;
    const h = this.hyper;
    const f = new Float32Array([
      view.cx, view.cy, (W * W + H * H) / 4, 2 * this.lrs.regularization,
      ...(extra?.lr ?? [0, 0, 0, 0]), ...(extra?.bc1 ?? [1, 1, 1, 1]), ...(extra?.bc2 ?? [1, 1, 1, 1]),
      h.beta1, h.beta2, 1 - h.beta1, 1 - h.beta2, h.eps,
    ]);
    const u = Array.from(new Uint32Array(f.buffer));
    return [W, H, Math.ceil((W * H) / PPW), extra?.flags ?? 0, evOff, wbOff, vigOff, respOff, ...u, 0, 0, 0];
  }

  /** Record out = photometric(rgb) (both W×H×3 f32) for this view. */
  encodeForward(pass: GPUComputePassEncoder, view: PhotometricView, rgb: GPUBuffer, out: GPUBuffer): void {
    const u = this.uniforms.u32(this.words(view));
    dispatch(pass, this.fwdPipe, bindGroup(this.device, this.fwdPipe, [u, this.params, rgb, out]), Math.ceil((view.width * view.height) / WG));
  }

  /**
   * Record the backward of encodeForward: ∂L/∂rgb into `dRgb` (W×H×3) from ∂L/∂out `dOut`, and the
   * view's parameter gradient (PHOTOMETRIC_GRADS floats, no regulariser) into `this.grad`.
   * Uses pooled scratch: submit before encoding the next backward of a larger image.
   */
  encodeBackward(pass: GPUComputePassEncoder, view: PhotometricView, rgb: GPUBuffer, dOut: GPUBuffer, dRgb: GPUBuffer): void {
    this.pool.retire();
    const groups = Math.ceil((view.width * view.height) / PPW);
    const u = this.uniforms.u32(this.words(view));
    const partials = this.pool.get('ph-partials', Math.max(1, groups) * NV * f32);
    const d = this.device;
    dispatch(pass, this.bwdPipe, bindGroup(d, this.bwdPipe, [u, this.params, rgb, dOut, dRgb, partials]), groups);
    pass.setPipeline(this.reducePipe);
    pass.setBindGroup(0, bindGroup(d, this.reducePipe, [u, this.params, partials, this.grad]));
    pass.dispatchWorkgroups(1);
  }

  /**
   * Record the Adam step of this view's rows from `this.grad` (as PhotometricState.setLrScale +
   * step: regulariser 2λ·p added, the reference image's EV/WB not stepped). Advances the step
   * counts now; writes a uniform buffer, so submit before encoding the next step.
   */
  encodeStep(pass: GPUComputePassEncoder, view: PhotometricView, o: PhotometricStepOptions): void {
    const img = (o.perImage ?? true) && view.image !== this.referenceImage;
    const cam = o.perCamera ?? true;
    if (!img && !cam) return;
    if (img) { this.t.ev++; this.t.wb++; }
    if (cam) { this.t.vig++; this.t.resp++; }
    const { beta1: b1, beta2: b2 } = this.hyper;
    const bc = (b: number, t: number) => (t > 0 ? 1 - b ** t : 1);
    const L = this.lrs;
    const words = this.words(view, {
      flags: (img ? 1 : 0) | (cam ? 2 : 0),
      lr: [L.exposure, L.whiteBalance, L.vignetting, L.response].map((x) => x * o.lrScale),
      bc1: PHOTOMETRIC_KEYS.map((k) => bc(b1, this.t[k])),
      bc2: PHOTOMETRIC_KEYS.map((k) => bc(b2, this.t[k])),
    });
    this.device.queue.writeBuffer(this.stepU, 0, new Uint32Array(words));
    pass.setPipeline(this.adamPipe);
    pass.setBindGroup(0, bindGroup(this.device, this.adamPipe, [this.stepU, this.params, this.m, this.v, this.grad]));
    pass.dispatchWorkgroups(1);
  }

  /** The last backward's parameter gradient (a 92-byte read-back; tests and logging). */
  async readGrad(): Promise<PhotometricGrads> {
    return splitGrads(await readF32(this.device, this.grad, PHOTOMETRIC_GRADS));
  }

  /** Copy parameters, moments and step counts back (fresh arrays). */
  async download(): Promise<PhotometricSnapshot> {
    const n = this.length;
    const [p, m, v] = n > 0 ? await Promise.all([this.params, this.m, this.v].map((b) => readF32(this.device, b, n))) : [new Float32Array(0), new Float32Array(0), new Float32Array(0)];
    const ni = this.images, nc = this.cameras;
    const ranges: Record<PhotometricKey, [number, number]> = { ev: [0, ni], wb: [ni, 4 * ni], vig: [4 * ni, 4 * ni + 3 * nc], resp: [4 * ni + 3 * nc, n] };
    const part = (a: Float32Array, k: PhotometricKey) => a.slice(ranges[k][0], ranges[k][1]);
    const adam = {} as Record<PhotometricKey, AdamState>;
    for (const k of PHOTOMETRIC_KEYS) adam[k] = { m: part(m!, k), v: part(v!, k), t: this.t[k] };
    return { ev: part(p!, 'ev'), wb: part(p!, 'wb'), vig: part(p!, 'vig'), resp: part(p!, 'resp'), adam };
  }

  /** download() into a PhotometricState: its ev/wb/vig/resp arrays are overwritten in place, Adam.load(). */
  async downloadInto(model: PhotometricState): Promise<void> {
    if (model.imageNames.length !== this.images || model.cameraIds.length !== this.cameras) throw new Error('GpuPhotometric.downloadInto: model has a different number of images or cameras');
    applySnapshot(model, await this.download());
  }

  // ---- CPU arrays in, CPU arrays out (tests, comparisons) ----

  /** photometric(rgb) for one view. */
  async forwardArrays(rgb: Float32Array, view: PhotometricView): Promise<Float32Array> {
    const n = view.width * view.height * 3;
    const bi = this.pool.get('arr-rgb', n * f32), bo = this.pool.get('arr-out', n * f32);
    upload(this.device, bi, rgb.subarray(0, n));
    const enc = this.device.createCommandEncoder({ label: 'ph-forward' });
    const pass = enc.beginComputePass();
    this.encodeForward(pass, view, bi, bo);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    return readF32(this.device, bo, n);
  }

  /** ∂L/∂rgb and the parameter gradients for upstream ∂L/∂out = dOut. */
  async backwardArrays(rgb: Float32Array, dOut: Float32Array, view: PhotometricView): Promise<{ dRgb: Float32Array; grads: PhotometricGrads }> {
    const n = view.width * view.height * 3;
    const bi = this.pool.get('arr-rgb', n * f32), bd = this.pool.get('arr-dout', n * f32), br = this.pool.get('arr-drgb', n * f32);
    upload(this.device, bi, rgb.subarray(0, n));
    upload(this.device, bd, dOut.subarray(0, n));
    const enc = this.device.createCommandEncoder({ label: 'ph-backward' });
    const pass = enc.beginComputePass();
    this.encodeBackward(pass, view, bi, bd, br);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    const [dRgb, grads] = await Promise.all([readF32(this.device, br, n), this.readGrad()]);
    return { dRgb, grads };
  }

  destroy(): void {
    this.params?.destroy();
    this.m?.destroy();
    this.v?.destroy();
    this.grad.destroy();
    this.stepU.destroy();
    this.pool.destroy();
    this.uniforms.clear();
  }
}

function splitGrads(g: Float32Array): PhotometricGrads {
  return { ev: g.slice(0, 1), wb: g.slice(1, 4), vig: g.slice(4, 7), resp: g.slice(7, 7 + K) };
}

/** Write a snapshot into a PhotometricState (arrays in place, Adam state loaded). */
export function applySnapshot(model: PhotometricState, s: PhotometricSnapshot): void {
  for (const k of PHOTOMETRIC_KEYS) {
    model[k].set(s[k]);
    model.adam[k].load({ m: s.adam[k].m, v: s.adam[k].v, t: s.adam[k].t });
  }
}
