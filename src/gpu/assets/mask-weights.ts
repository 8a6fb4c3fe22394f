/**
 * Mask-lift weights on the GPU: per Gaussian, Σ over pixels of its alpha-blending weight αT inside
 * a mask (Σ m·αT) and outside it (Σ (1−m)·αT), accumulated over views (FlashSplat-style lifting
 * of 2D masks to Gaussians). Reference: src/assets/select/mask-weights-reference.ts.
 *
 * How: the rasterizer's backward pass already sums, per Gaussian, ∂L/∂colour = Σ_pixels αT·∂L/∂rgb
 * with the same tiling, sort and compositing rules as its forward, deterministically (per-instance
 * slots reduced in a fixed order, no float atomics). With ∂L/∂rgb = (m, 1−m, 0) that sum is exactly
 * (inside, outside, 0). The scene is uploaded with all SH set to zero (colour 0.5 everywhere, so the
 * colour clamp at 0 never cuts the gradient) and degree 0; then ∂L/∂sh_dc = C0·∂L/∂colour, and a
 * small WGSL kernel adds sh-gradient[:, 0..1] / C0 into per-Gaussian accumulators on the GPU, view
 * after view, in a fixed order — bit-reproducible. Only the 2·N accumulators are read back.
 * This uses GpuRasterizer's public API only (no hook into its internals).
 */
import type { GaussianParams } from '../../core/gaussians.js';
import type { RasterCamera, RasterOptions } from '../../core/raster.js';
import type { GpuContext } from '../device.js';
import { COPY_DST, COPY_SRC, STORAGE, bindGroup, computePipeline, dispatch, readF32, upload } from '../buffers.js';
import { UniformCache } from '../uniforms.js';
import { GpuRasterizer, type GaussianBuffers } from '../raster/rasterizer.js';

/** SH band-0 constant: colour = 0.5 + C0·sh_dc. */
const SH_C0 = 0.28209479177387814;

const accumulateWgsl = /* wgsl */ `
@group(0) @binding(0) var<uniform> u: vec4u; // x = Gaussians
@group(0) @binding(1) var<storage, read> gsh: array<f32>; // N×48 SH gradient (channel-interleaved)
@group(0) @binding(2) var<storage, read_write> acc: array<f32>; // N×2 (inside, outside)

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= u.x) { return; }
  acc[2u * i] = acc[2u * i] + gsh[48u * i] * ${(1 / SH_C0).toPrecision(17)};
  acc[2u * i + 1u] = acc[2u * i + 1u] + gsh[48u * i + 1u] * ${(1 / SH_C0).toPrecision(17)};
}
`;

export class GpuMaskWeights {
  private scene: GaussianBuffers | null = null;
  private acc: GPUBuffer | null = null;
  private dRgb: GPUBuffer | null = null;
  private readonly uniforms: UniformCache;

  private constructor(
    readonly raster: GpuRasterizer,
    private readonly ownsRaster: boolean,
    private readonly accumulate: GPUComputePipeline,
  ) {
    this.uniforms = new UniformCache(raster.device);
  }

  /** Pass a rasterizer to share it (its forward/backward state is overwritten by each view). */
  static async create(ctx: GpuContext, raster?: GpuRasterizer): Promise<GpuMaskWeights> {
    const r = raster ?? (await GpuRasterizer.create(ctx));
    return new GpuMaskWeights(r, !raster, await computePipeline(ctx.device, 'mask-weights-accumulate', accumulateWgsl));
  }

  private get device(): GPUDevice {
    return this.raster.device;
  }

  /** Upload the scene's geometry (colours zeroed) and reset the accumulators. */
  setScene(params: GaussianParams): void {
    const zeroSh = { ...params, sh: new Float32Array(params.count * 48) };
    this.scene = this.raster.uploadScene(zeroSh);
    const bytes = Math.max(1, params.count) * 2 * 4;
    if (!this.acc || this.acc.size < bytes) {
      this.acc?.destroy();
      this.acc = this.device.createBuffer({ label: 'mask-weights-acc', size: bytes, usage: STORAGE | COPY_SRC | COPY_DST });
    }
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(this.acc, 0, bytes);
    this.device.queue.submit([enc.finish()]);
  }

  /** Add one view: mask is H×W in [0, 1] (1 = object). */
  async addView(camera: RasterCamera, mask: ArrayLike<number>, opts: RasterOptions): Promise<void> {
    if (!this.scene || !this.acc) throw new Error('GpuMaskWeights.addView: call setScene first');
    const P = camera.width * camera.height;
    if (mask.length !== P) throw new Error(`mask has ${mask.length} pixels, camera ${camera.width}×${camera.height}`);
    const up = new Float32Array(P * 3);
    for (let p = 0; p < P; p++) {
      const m = mask[p]!;
      up[3 * p] = m;
      up[3 * p + 1] = 1 - m;
    }
    if (!this.dRgb || this.dRgb.size < up.byteLength) {
      this.dRgb?.destroy();
      this.dRgb = this.device.createBuffer({ label: 'mask-weights-drgb', size: up.byteLength, usage: STORAGE | COPY_DST });
    }
    upload(this.device, this.dRgb, up);
    const fwd = await this.raster.forward(this.scene, camera, { ...opts, shDegree: 0 });
    const g = this.raster.backward(fwd, this.dRgb);
    const n = this.scene.count;
    if (n === 0) return;
    const enc = this.device.createCommandEncoder({ label: 'mask-weights' });
    const pass = enc.beginComputePass();
    dispatch(pass, this.accumulate, bindGroup(this.device, this.accumulate, [this.uniforms.u32([n]), g.sh, this.acc]), Math.ceil(n / 256));
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** The accumulated (inside, outside) per Gaussian. */
  async read(): Promise<{ inside: Float32Array; outside: Float32Array }> {
    if (!this.scene || !this.acc) throw new Error('GpuMaskWeights.read: call setScene first');
    const n = this.scene.count;
    const a = n > 0 ? await readF32(this.device, this.acc, 2 * n) : new Float32Array(0);
    const inside = new Float32Array(n), outside = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      inside[i] = a[2 * i]!;
      outside[i] = a[2 * i + 1]!;
    }
    return { inside, outside };
  }

  /** One view from scratch (tests): setScene + addView + read. */
  async weights(params: GaussianParams, camera: RasterCamera, mask: ArrayLike<number>, opts: RasterOptions): Promise<{ inside: Float32Array; outside: Float32Array }> {
    this.setScene(params);
    await this.addView(camera, mask, opts);
    return this.read();
  }

  destroy(): void {
    this.acc?.destroy();
    this.dRgb?.destroy();
    this.uniforms.clear();
    if (this.ownsRaster) this.raster.destroy();
  }
}
