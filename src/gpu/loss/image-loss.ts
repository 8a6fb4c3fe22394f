/**
 * The training loss 0.8·L1 + 0.2·(1 − SSIM) and its gradient ∂loss/∂pred on the GPU. Same
 * definition as src/scene/train/image-loss.ts `photoLossAndGrad` (the TypeScript reference;
 * test/gpu-loss.test.ts compares values, gradients and finite differences): L1 over all H×W×3
 * values, SSIM averaged over the valid 11×11 windows only (no padding) and the three channels,
 * with the separable Gaussian taps of metrics.ts.
 *
 * Kernels (each one element-wise map, separable blurs as gathers, so no float atomics and a fixed
 * summation order — the result is deterministic):
 *   1. hblur:    5 moment images (x, y, x², y², xy) blurred along rows, valid columns only.
 *   2. ssim:     blurred along columns → per-window SSIM S and the three maps
 *                ∂S/∂μx, ∂S/∂Sxx, ∂S/∂Sxy (ssimTerms, NaN-free by construction); workgroup
 *                partial sums of S.
 *   3. vscatter: transpose of the column blur (a gather over the windows covering a row).
 *   4. grad:     transpose of the row blur, then per pixel
 *                grad = (1−λ)·sign(d)/n − λ/nw·(bMu + 2x·bXX + y·bXY); partial sums of |d| and d².
 *   5. reduce:   one workgroup sums the partials into result = [loss, l1, ssim, mse].
 * The loss stays on the GPU; read() copies the 16-byte result only when the caller wants it.
 */
import { BufferPool, COPY_SRC, STORAGE, bindGroup, computePipeline, dispatch, readF32, upload } from '../buffers.js';
import { UniformCache } from '../uniforms.js';
import { gaussianTaps, SSIM_C1, SSIM_C2, SSIM_WINDOW } from '../../core/ssim.js';

const WG = 256;
const K = SSIM_WINDOW;
const R = (K - 1) / 2;

/**
 * SSIM of one window and its derivatives from the window's moments: the expressions of
 * ssimWindowTerms() in src/scene/train/image-loss.ts (denominators B1·B2 only, never A1 or A2, so
 * no 0/0 for anti-correlated windows or flushed denormals). Returns (S, ∂S/∂μx, ∂S/∂Sxx, ∂S/∂Sxy).
 */
export const ssimTermsWgsl = /* wgsl */ `
fn ssimTerms(ux: f32, uy: f32, exx: f32, eyy: f32, exy: f32) -> vec4f {
  let A1 = 2.0 * ux * uy + C1;
  let A2 = 2.0 * (exy - ux * uy) + C2;
  let B1 = ux * ux + uy * uy + C1;
  let B2 = exx - ux * ux + eyy - uy * uy + C2;
  let D = B1 * B2;
  let S = (A1 * A2) / D;
  return vec4f(S, (2.0 * uy * (A2 - A1) - 2.0 * ux * S * (B2 - B1)) / D, -S / B2, (2.0 * A1) / D);
}
`;

const common = /* wgsl */ `
struct P {
  W: u32, H: u32, Wv: u32, Hv: u32,
  // workgroups of the grad pass (|d|, d² partials) and of the ssim pass (S partials)
  gGrad: u32, gSsim: u32, useSsim: u32, _a: u32,
  lambda: f32, invN: f32, invNw: f32, _b: f32,
}
@group(0) @binding(0) var<uniform> p: P;
const C1: f32 = ${SSIM_C1};
const C2: f32 = ${SSIM_C2};
var<private> taps: array<f32, ${K}> = array<f32, ${K}>(${Array.from(gaussianTaps()).map((t) => t.toPrecision(9)).join(', ')});
fn linearId(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * ${WG}u; }
fn groupId(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }
${ssimTermsWgsl}
`;

/** Row blur of the five moments over valid columns: threads over Wv×H×3, planes of Wv·H·3. */
const hblurWgsl = common + /* wgsl */ `
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<f32>;
@group(0) @binding(3) var<storage, read_write> h: array<f32>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linearId(gid, nwg);
  let M = p.Wv * p.H * 3u;
  if (i >= M) { return; }
  let c = i % 3u;
  let q = i / 3u;
  let x = q % p.Wv;
  let y = q / p.Wv;
  var sx = 0.0; var sy = 0.0; var sxx = 0.0; var syy = 0.0; var sxy = 0.0;
  for (var t = 0u; t < ${K}u; t++) {
    let j = (y * p.W + x + t) * 3u + c;
    let a = pred[j];
    let b = tgt[j];
    let w = taps[t];
    sx += w * a; sy += w * b; sxx += w * a * a; syy += w * b * b; sxy += w * a * b;
  }
  h[i] = sx; h[M + i] = sy; h[2u * M + i] = sxx; h[3u * M + i] = syy; h[4u * M + i] = sxy;
}
`;

/** Column blur → SSIM per window and its partial derivatives; threads over Wv×Hv×3. */
const ssimWgsl = common + /* wgsl */ `
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read_write> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
var<workgroup> red: array<f32, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linearId(gid, nwg);
  let M = p.Wv * p.H * 3u;
  let Mv = p.Wv * p.Hv * 3u;
  var S = 0.0;
  if (i < Mv) {
    let c = i % 3u;
    let q = i / 3u;
    let x = q % p.Wv;
    let y = q / p.Wv;
    var ux = 0.0; var uy = 0.0; var exx = 0.0; var eyy = 0.0; var exy = 0.0;
    for (var t = 0u; t < ${K}u; t++) {
      let j = ((y + t) * p.Wv + x) * 3u + c;
      let w = taps[t];
      ux += w * h[j]; uy += w * h[M + j]; exx += w * h[2u * M + j]; eyy += w * h[3u * M + j]; exy += w * h[4u * M + j];
    }
    let st = ssimTerms(ux, uy, exx, eyy, exy);
    S = st.x;
    g[i] = st.y;
    g[Mv + i] = st.z;
    g[2u * Mv + i] = st.w;
  }
  // fixed-shape tree sum: deterministic
  red[lid] = S;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let wg = groupId(wid, nwg);
  if (lid == 0u && wg < p.gSsim) { partials[2u * p.gGrad + wg] = red[0]; }
}
`;

/** Transpose of the column blur: threads over Wv×H×3 gather the windows whose column covers y. */
const vscatterWgsl = common + /* wgsl */ `
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> vb: array<f32>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linearId(gid, nwg);
  let M = p.Wv * p.H * 3u;
  let Mv = p.Wv * p.Hv * 3u;
  if (i >= M) { return; }
  let c = i % 3u;
  let q = i / 3u;
  let x = q % p.Wv;
  let y = q / p.Wv;
  var a = 0.0; var b = 0.0; var d = 0.0;
  for (var t = 0u; t < ${K}u; t++) {
    // window row yc = y − t must be a valid centre row
    if (y >= t && y - t < p.Hv) {
      let j = ((y - t) * p.Wv + x) * 3u + c;
      let w = taps[t];
      a += w * g[j]; b += w * g[Mv + j]; d += w * g[2u * Mv + j];
    }
  }
  vb[i] = a; vb[M + i] = b; vb[2u * M + i] = d;
}
`;

/** Transpose of the row blur plus the L1 term: threads over W×H×3 write ∂loss/∂pred. */
const gradWgsl = common + /* wgsl */ `
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<f32>;
@group(0) @binding(3) var<storage, read> vb: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
var<workgroup> red: array<vec2f, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = linearId(gid, nwg);
  let n = p.W * p.H * 3u;
  var acc = vec2f(0.0);
  if (i < n) {
    let a = pred[i];
    let b = tgt[i];
    let d = a - b;
    acc = vec2f(abs(d), d * d);
    var gr = (1.0 - p.lambda) * sign(d) * p.invN;
    if (p.useSsim != 0u) {
      let M = p.Wv * p.H * 3u;
      let c = i % 3u;
      let q = i / 3u;
      let x = q % p.W;
      let y = q / p.W;
      var bMu = 0.0; var bXX = 0.0; var bXY = 0.0;
      for (var t = 0u; t < ${K}u; t++) {
        // window column xc = x − t must be a valid centre column
        if (x >= t && x - t < p.Wv) {
          let j = (y * p.Wv + x - t) * 3u + c;
          let w = taps[t];
          bMu += w * vb[j]; bXX += w * vb[M + j]; bXY += w * vb[2u * M + j];
        }
      }
      gr += -p.lambda * p.invNw * (bMu + 2.0 * a * bXX + b * bXY);
    }
    grad[i] = gr;
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let wg = groupId(wid, nwg);
  if (lid == 0u && wg < p.gGrad) {
    partials[wg] = red[0].x;
    partials[p.gGrad + wg] = red[0].y;
  }
}
`;

/** One workgroup: partials → result [loss, l1, ssim, mse]. */
const reduceWgsl = common + /* wgsl */ `
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> result: array<f32>;
var<workgroup> red: array<vec3f, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = vec3f(0.0);
  for (var k = lid; k < p.gGrad; k += ${WG}u) { acc.x += partials[k]; acc.y += partials[p.gGrad + k]; }
  if (p.useSsim != 0u) {
    for (var k = lid; k < p.gSsim; k += ${WG}u) { acc.z += partials[2u * p.gGrad + k]; }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let l1 = red[0].x * p.invN;
    var ssim = 1.0;
    if (p.useSsim != 0u) { ssim = red[0].z * p.invNw; }
    result[0] = (1.0 - p.lambda) * l1 + p.lambda * (1.0 - ssim);
    result[1] = l1;
    result[2] = ssim;
    result[3] = red[0].y * p.invN;
  }
}
`;

export interface GpuLossValue {
  loss: number;
  l1: number;
  ssim: number;
  /** mean squared error over all H×W×3 values (for PSNR) */
  mse: number;
}

/** Workgroups dispatch() launches for `items` threads (grid() may round up when it spills to y). */
function groupsFor(items: number): number {
  return Math.ceil(items / WG);
}

export class GpuImageLoss {
  /** [loss, l1, ssim, mse] of the last encoded loss (f32). */
  readonly result: GPUBuffer;
  private readonly pool: BufferPool;
  private readonly uniforms: UniformCache;

  private constructor(
    readonly device: GPUDevice,
    private readonly hblur: GPUComputePipeline,
    private readonly ssim: GPUComputePipeline,
    private readonly vscatter: GPUComputePipeline,
    private readonly gradPipe: GPUComputePipeline,
    private readonly reduce: GPUComputePipeline,
  ) {
    this.pool = new BufferPool(device);
    this.uniforms = new UniformCache(device);
    this.result = device.createBuffer({ label: 'loss-result', size: 16, usage: STORAGE | COPY_SRC });
  }

  static async create(device: GPUDevice): Promise<GpuImageLoss> {
    const [a, b, c, d, e] = await Promise.all([
      computePipeline(device, 'loss-hblur', hblurWgsl),
      computePipeline(device, 'loss-ssim', ssimWgsl),
      computePipeline(device, 'loss-vscatter', vscatterWgsl),
      computePipeline(device, 'loss-grad', gradWgsl),
      computePipeline(device, 'loss-reduce', reduceWgsl),
    ]);
    return new GpuImageLoss(device, a, b, c, d, e);
  }

  /**
   * Record loss and gradient of pred vs target (both H×W×3 f32) into `pass`; ∂loss/∂pred goes to
   * `grad` (≥ H×W×3 f32), the values to `result`. Intermediate buffers are this instance's and
   * grow with the image: submit each encode before the next one (the resident step does), so
   * buffers outgrown by an earlier size can be freed here.
   */
  encode(pass: GPUComputePassEncoder, pred: GPUBuffer, target: GPUBuffer, grad: GPUBuffer, W: number, H: number, lambda = 0.2): void {
    this.pool.retire();
    const useSsim = lambda !== 0;
    const Wv = W - 2 * R, Hv = H - 2 * R;
    if (useSsim && (Wv <= 0 || Hv <= 0)) throw new Error(`image ${W}×${H} smaller than the SSIM window`);
    const n = W * H * 3;
    const M = useSsim ? Wv * H * 3 : 0;
    const Mv = useSsim ? Wv * Hv * 3 : 0;
    const gGrad = groupsFor(n), gSsim = useSsim ? groupsFor(Mv) : 0;
    const fw = new Float32Array([lambda, 1 / n, useSsim ? 1 / Mv : 0, 0]);
    const u = this.uniforms.u32([W, H, Math.max(0, Wv), Math.max(0, Hv), gGrad, gSsim, useSsim ? 1 : 0, 0, ...new Uint32Array(fw.buffer)]);
    const partials = this.pool.get('loss-partials', (2 * gGrad + gSsim) * 4);
    const h = this.pool.get('loss-h', Math.max(1, 5 * M) * 4);
    const g = this.pool.get('loss-g', Math.max(1, 3 * Mv) * 4);
    const vb = this.pool.get('loss-vb', Math.max(1, 3 * M) * 4);
    const d = this.device;
    if (useSsim) {
      dispatch(pass, this.hblur, bindGroup(d, this.hblur, [u, pred, target, h]), groupsFor(M));
      dispatch(pass, this.ssim, bindGroup(d, this.ssim, [u, h, g, partials]), gSsim);
      dispatch(pass, this.vscatter, bindGroup(d, this.vscatter, [u, g, vb]), groupsFor(M));
    }
    dispatch(pass, this.gradPipe, bindGroup(d, this.gradPipe, [u, pred, target, vb, grad, partials]), gGrad);
    pass.setPipeline(this.reduce);
    pass.setBindGroup(0, bindGroup(d, this.reduce, [u, partials, this.result]));
    pass.dispatchWorkgroups(1);
  }

  /** Read back the values of the last encoded (and submitted) loss. */
  async read(): Promise<GpuLossValue> {
    const r = await readF32(this.device, this.result, 4);
    return { loss: r[0]!, l1: r[1]!, ssim: r[2]!, mse: r[3]! };
  }

  /** CPU arrays in, CPU arrays out (tests and comparisons): same result as photoLossAndGrad. */
  async lossAndGrad(pred: Float32Array, target: Float32Array, W: number, H: number, lambda = 0.2): Promise<GpuLossValue & { grad: Float32Array }> {
    const n = W * H * 3;
    const bp = this.pool.get('arr-pred', n * 4), bt = this.pool.get('arr-target', n * 4), bg = this.pool.get('arr-grad', n * 4);
    upload(this.device, bp, pred.subarray(0, n));
    upload(this.device, bt, target.subarray(0, n));
    const enc = this.device.createCommandEncoder({ label: 'loss' });
    const pass = enc.beginComputePass();
    this.encode(pass, bp, bt, bg, W, H, lambda);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    const [v, grad] = await Promise.all([this.read(), readF32(this.device, bg, n)]);
    return { ...v, grad };
  }

  destroy(): void {
    this.pool.destroy();
    this.uniforms.clear();
    this.result.destroy();
  }
}

