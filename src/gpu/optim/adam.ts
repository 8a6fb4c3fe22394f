/**
 * Adam on GPU buffers, in place: one thread per parameter element updates (param, m, v) from
 * grad. Same maths as src/scene/train/adam.ts `Adam.step` (the TypeScript reference; test/gpu-adam.test.ts
 * compares them):
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
 *   param ← param − lr·colScale[i mod rowSize]·(m/bc1)/(√(v/bc2) + ε),  bck = 1 − βk^t.
 * The bias corrections depend on the step t only, so the host computes them (in f64) and passes
 * them in; the kernel stays a pure element-wise map (no reductions, deterministic).
 *
 * Each parameter group gets its own uniform buffer (`AdamGroupUniform`): several groups are
 * updated in one command buffer, and a shared uniform would let the last writeBuffer win. Writing
 * a group's buffer again before the next step's submit is safe (queue order).
 */
import { STORAGE, COPY_DST, UNIFORM, bindGroup, computePipeline, dispatch, type Binding } from '../buffers.js';

const WG = 256;

const adamWgsl = /* wgsl */ `
struct P {
  n: u32, rowSize: u32, _a: u32, _b: u32,
  lr: f32, b1: f32, b2: f32, eps: f32,
  // 1−β1, 1−β2 precomputed so the f32 kernel does not round 1 − 0.9 itself
  omb1: f32, omb2: f32, bc1: f32, bc2: f32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> grad: array<f32>;
// per-column lr multiplier within a row (all ones when the group has none)
@group(0) @binding(5) var<storage, read> colScale: array<f32>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= p.n) { return; }
  let g = grad[i];
  let mi = p.b1 * m[i] + p.omb1 * g;
  let vi = p.b2 * v[i] + p.omb2 * g * g;
  m[i] = mi;
  v[i] = vi;
  let lr = p.lr * colScale[i % p.rowSize];
  param[i] = param[i] - (lr * (mi / p.bc1)) / (sqrt(vi / p.bc2) + p.eps);
}
`;

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** step count after this update (the reference increments t before using it) */
  t: number;
}

/** Per-group GPU state of the kernel's parameters: its uniform buffer and column scale. */
export class AdamGroupUniform {
  readonly uniform: GPUBuffer;
  readonly colScale: GPUBuffer;
  constructor(readonly device: GPUDevice, readonly rowSize: number, colScale?: ArrayLike<number>) {
    this.uniform = device.createBuffer({ label: 'adam-params', size: 48, usage: UNIFORM | COPY_DST });
    this.colScale = device.createBuffer({ label: 'adam-colscale', size: Math.max(16, rowSize * 4), usage: STORAGE | COPY_DST });
    const cs = new Float32Array(Math.max(4, rowSize)).fill(1);
    if (colScale) cs.set(Array.from(colScale).slice(0, rowSize));
    device.queue.writeBuffer(this.colScale, 0, cs);
  }

  /** Write the parameters of the next update of `n` elements. */
  write(n: number, h: AdamHyper): void {
    const buf = new ArrayBuffer(48);
    const u = new Uint32Array(buf), f = new Float32Array(buf);
    u[0] = n; u[1] = this.rowSize;
    f[4] = h.lr; f[5] = h.beta1; f[6] = h.beta2; f[7] = h.eps;
    f[8] = 1 - h.beta1; f[9] = 1 - h.beta2;
    f[10] = 1 - h.beta1 ** h.t; f[11] = 1 - h.beta2 ** h.t;
    this.device.queue.writeBuffer(this.uniform, 0, buf);
  }

  destroy(): void {
    this.uniform.destroy();
    this.colScale.destroy();
  }
}

export class GpuAdam {
  private constructor(readonly device: GPUDevice, private readonly pipe: GPUComputePipeline) {}

  static async create(device: GPUDevice): Promise<GpuAdam> {
    return new GpuAdam(device, await computePipeline(device, 'adam-step', adamWgsl));
  }

  /**
   * Record one Adam update of `n` elements into `pass`. `u.write(n, …)` must have been called for
   * this step before the command buffer is submitted.
   */
  encode(pass: GPUComputePassEncoder, u: AdamGroupUniform, b: { param: GPUBuffer; m: GPUBuffer; v: GPUBuffer; grad: Binding }, n: number): void {
    if (n <= 0) return;
    dispatch(pass, this.pipe, bindGroup(this.device, this.pipe, [u.uniform, b.param, b.m, b.v, b.grad, u.colScale]), Math.ceil(n / WG));
  }
}
