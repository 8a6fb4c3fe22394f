/**
 * Densification statistics on the GPU: the device-side twin of src/scene/train/densify.ts
 * `GradStats.add` (the TypeScript reference; test/gpu-adam.test.ts compares them). Per Gaussian,
 * where this view's screen-space gradient norm g (pixels) is positive:
 *   sum += g·(W + H)/4   (pixel gradient → NDC gradient, as 3DGS thresholds it),  count += 1.
 * Element-wise, one thread per Gaussian, so the result does not depend on scheduling.
 */
import { COPY_DST, UNIFORM, bindGroup, computePipeline, dispatch, type Binding } from '../buffers.js';

const WG = 256;

const accumulateWgsl = /* wgsl */ `
struct P { n: u32, _a: u32, toNdc: f32, _b: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> gradNorm: array<f32>;
@group(0) @binding(2) var<storage, read_write> sum: array<f32>;
@group(0) @binding(3) var<storage, read_write> count: array<f32>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= p.n) { return; }
  let g = gradNorm[i];
  // culled Gaussians have exactly zero gradient: they are not counted as seen
  if (g > 0.0) {
    sum[i] = sum[i] + g * p.toNdc;
    count[i] = count[i] + 1.0;
  }
}
`;

export class GpuGradStats {
  private readonly uniform: GPUBuffer;
  private constructor(readonly device: GPUDevice, private readonly pipe: GPUComputePipeline) {
    this.uniform = device.createBuffer({ label: 'gradstats-params', size: 16, usage: UNIFORM | COPY_DST });
  }

  static async create(device: GPUDevice): Promise<GpuGradStats> {
    return new GpuGradStats(device, await computePipeline(device, 'gradstats-add', accumulateWgsl));
  }

  /**
   * Record sum/count accumulation of one view (W×H image) for `n` Gaussians. Writes this
   * instance's uniform, so use one encode per submitted command buffer (queue order keeps it right).
   */
  encode(pass: GPUComputePassEncoder, b: { gradNorm: Binding; sum: GPUBuffer; count: GPUBuffer }, n: number, width: number, height: number): void {
    if (n <= 0) return;
    const buf = new ArrayBuffer(16);
    new Uint32Array(buf)[0] = n;
    new Float32Array(buf)[2] = (width + height) / 4;
    this.device.queue.writeBuffer(this.uniform, 0, buf);
    dispatch(pass, this.pipe, bindGroup(this.device, this.pipe, [this.uniform, b.gradNorm, b.sum, b.count]), Math.ceil(n / WG));
  }

  destroy(): void {
    this.uniform.destroy();
  }
}
