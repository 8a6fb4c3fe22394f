/**
 * GPU Gaussian rasterizer (WGSL through WebGPU): forward and backward with data on the GPU.
 * (Just over 400 lines: one class whose forward and backward share buffers, pipelines and the
 * per-forward state; the kernels themselves live in the sibling modules.)
 *
 * Semantics for callers that keep parameters on the GPU (e.g. tfjs-webgpu tensors):
 *  - GaussianBuffers: f32, tightly packed, the same layout as GaussianParams (means N×3,
 *    logScales N×3, quats N×4 (w,x,y,z, normalised inside), opacityLogits N, sh N×16×3 — all 16
 *    coefficients per channel are always present; opts.shDegree selects how many are used).
 *    Buffers need STORAGE usage and may be larger than needed (tfjs pools buffers).
 *  - forward() is async: it reads back one number (the count of Gaussian–tile instances) to size
 *    the sort. Concurrent calls are queued and run one after another. Its result's rgb (H×W×3), alpha (H×W) and depth (H×W) buffers belong to the
 *    rasterizer and stay valid until the next forward(); copy them if you need them longer.
 *    The scene buffers must not change between forward() and the backward() that uses it.
 *  - backward() is synchronous (it only records and submits GPU work) and must be called with the
 *    result of the most recent forward(); it throws otherwise. dRgb (H×W×3), dAlpha and dDepth
 *    (H×W, optional = zero) are ∂L/∂outputs. The gradient buffers it returns (same packing as
 *    RasterGradients; pose = 6 f32 [dω, dv] for a left perturbation of world-to-camera;
 *    means2dGradNorm N f32 in pixels) belong to the rasterizer and are overwritten by the next
 *    backward(). Gradients of culled Gaussians are exactly zero.
 *  - Deterministic: per-pixel gradients are summed into per-instance (Gaussian–tile) slots, then
 *    per Gaussian, always in a fixed order (no float atomics), so two runs on the same device
 *    are bit-identical. R2S_NO_SUBGROUPS=1 forces the portable (no-subgroup) kernels.
 *  - Capacity: buffers grow on demand. If a buffer would exceed the device's
 *    maxStorageBufferBindingSize, forward() throws a GpuLimitError naming the buffer and limit.
 *  - Only tileSize 16 is supported on the GPU (the images do not depend on the tile size).
 */
import type { GpuContext } from '../device.js';
import type { GaussianParams } from '../../core/gaussians.js';
import type { RasterCamera, RasterGradients, RasterOptions, RasterOutput } from '../../core/raster.js';
import { BufferPool, COPY_DST, COPY_SRC, GpuLimitError, MAP_READ, STORAGE, UNIFORM, readF32, upload, type BufferRange } from '../buffers.js';
import { UniformCache } from '../uniforms.js';
import { PrefixSum } from '../scan.js';
import { RadixSort } from '../sort/radix-sort.js';
import { CAM_BYTES, packCamera, tileGrid } from './camera.js';
import { ProjectStage } from './project.js';
import { TileBinStage } from './tile-bin.js';
import { RasterizeForwardStage } from './rasterize-forward.js';
import { RasterizeBackwardStage } from './rasterize-backward.js';
import { ProjectBackwardStage, gradSectionRanges, gradSections } from './project-backward.js';
import { GRAD2D_STRIDE } from './rasterize-backward.js';

export interface GaussianBuffers {
  count: number;
  means: GPUBuffer;
  logScales: GPUBuffer;
  quats: GPUBuffer;
  opacityLogits: GPUBuffer;
  sh: GPUBuffer;
}

export interface GpuForwardState {
  generation: number;
  scene: GaussianBuffers;
  cam: RasterCamera;
  opts: RasterOptions;
  /** Gaussian–tile instances */
  instances: number;
  tilesX: number;
  tilesY: number;
}

export interface GpuForwardResult {
  rgb: GPUBuffer;
  alpha: GPUBuffer;
  depth: GPUBuffer;
  /** Gaussians that survived culling */
  visible: number;
  state: GpuForwardState;
}

/**
 * Gradient buffers of a backward(): ranges of the rasterizer's buffers (several share one packed
 * buffer so every kernel stays within 8 storage bindings); bind or read them as ranges.
 */
export interface GpuGradients {
  means: BufferRange;
  logScales: BufferRange;
  quats: BufferRange;
  opacityLogits: BufferRange;
  sh: BufferRange;
  pose: BufferRange;
  means2dGradNorm: BufferRange;
}

/** Milliseconds per stage, filled when `profile` is on (stages then run as separate submits). */
export interface RasterTimings {
  projectMs: number;
  sortMs: number;
  binMs: number;
  rasterMs: number;
  backwardRasterMs: number;
  backwardProjectMs: number;
}

const f32 = 4;

export class GpuRasterizer {
  /** When true, forward/backward wait after each stage and record `timings` (slower). */
  profile = false;
  readonly timings: RasterTimings = { projectMs: 0, sortMs: 0, binMs: 0, rasterMs: 0, backwardRasterMs: 0, backwardProjectMs: 0 };
  private generation = 0;
  private readonly camU: GPUBuffer;
  private readonly readback: GPUBuffer;
  private last: GpuForwardState | null = null;

  private constructor(
    readonly ctx: GpuContext,
    private readonly pool: BufferPool,
    private readonly uniforms: UniformCache,
    private readonly scan: PrefixSum,
    private readonly sort: RadixSort,
    private readonly proj: ProjectStage,
    private readonly bin: TileBinStage,
    private readonly fwd: RasterizeForwardStage,
    private readonly bwd: RasterizeBackwardStage,
    private readonly projBwd: ProjectBackwardStage,
  ) {
    const d = ctx.device;
    this.camU = d.createBuffer({ label: 'raster-cam', size: CAM_BYTES, usage: UNIFORM | COPY_DST });
    this.readback = d.createBuffer({ label: 'raster-readback', size: 16, usage: MAP_READ | COPY_DST });
  }

  static async create(ctx: GpuContext): Promise<GpuRasterizer> {
    const d = ctx.device;
    const pool = new BufferPool(d);
    const uniforms = new UniformCache(d);
    const [scan, sort, proj, bin, fwd, bwd, projBwd] = await Promise.all([
      PrefixSum.create(d, pool, uniforms),
      RadixSort.create(d, pool, uniforms),
      ProjectStage.create(d),
      TileBinStage.create(d),
      RasterizeForwardStage.create(d, !ctx.isSoftware),
      RasterizeBackwardStage.create(d, ctx.adapter.info),
      ProjectBackwardStage.create(d),
    ]);
    return new GpuRasterizer(ctx, pool, uniforms, scan, sort, proj, bin, fwd, bwd, projBwd);
  }

  /** Whether the forward stages each tile's list through workgroup memory. */
  get batchedForward(): boolean {
    return this.fwd.batched;
  }

  /** Whether the backward reduction uses subgroup operations. */
  get usesSubgroups(): boolean {
    return this.bwd.usesSubgroups;
  }

  get device(): GPUDevice {
    return this.ctx.device;
  }

  /** Bytes of GPU memory held by the rasterizer's own buffers. */
  memoryBytes(): number {
    return this.pool.bytes() + CAM_BYTES + 16;
  }

  private buf(name: string, bytes: number): GPUBuffer {
    return this.pool.get(name, bytes);
  }

  private async step(label: keyof RasterTimings, enc: GPUCommandEncoder): Promise<GPUCommandEncoder> {
    if (!this.profile) return enc;
    const t0 = performance.now();
    this.device.queue.submit([enc.finish()]);
    await this.device.queue.onSubmittedWorkDone();
    this.timings[label] += performance.now() - t0;
    return this.device.createCommandEncoder();
  }

  /** forward() calls run one at a time (they share buffers and a read-back buffer). */
  private queue: Promise<unknown> = Promise.resolve();

  forward(scene: GaussianBuffers, cam: RasterCamera, opts: RasterOptions): Promise<GpuForwardResult> {
    const run = this.queue.then(() => this.forwardNow(scene, cam, opts));
    this.queue = run.catch(() => {});
    return run;
  }

  private async forwardNow(scene: GaussianBuffers, cam: RasterCamera, opts: RasterOptions): Promise<GpuForwardResult> {
    validate(cam, opts);
    this.checkScene(scene);
    const d = this.device;
    this.pool.retire();
    if (this.profile) for (const k of Object.keys(this.timings) as (keyof RasterTimings)[]) this.timings[k] = 0;
    const n = scene.count;
    const { tilesX, tilesY } = tileGrid(cam);
    const numTiles = tilesX * tilesY;
    const P = cam.width * cam.height;
    d.queue.writeBuffer(this.camU, 0, packCamera(cam, opts, n));
    const sceneList = [scene.means, scene.logScales, scene.quats, scene.opacityLogits, scene.sh];
    const splats = this.buf('splats', Math.max(1, n) * 48);
    const ext = this.buf('ext', Math.max(1, n) * 16);
    const dk = { keys: this.buf('depth-keys', n * f32), values: this.buf('depth-vals', n * f32) };
    const dk2 = { keys: this.buf('depth-keys2', n * f32), values: this.buf('depth-vals2', n * f32) };
    const offsets = this.buf('offsets', (n + 1) * f32);
    const counters = this.buf('counters', 16);
    let enc = d.createCommandEncoder({ label: 'raster-forward-1' });
    enc.clearBuffer(counters);
    let order = dk.values;
    if (n > 0) {
      let pass = enc.beginComputePass();
      this.proj.encodeProject(pass, this.camU, this.uniforms.u32([n]), sceneList, { splats, ext, depthKeys: dk.keys, depthVals: dk.values }, n);
      pass.end();
      enc = await this.step('projectMs', enc);
      order = this.sort.encode(enc, dk, dk2, n, 32, 'depth-sort').values;
      enc = await this.step('sortMs', enc);
      pass = enc.beginComputePass();
      this.proj.encodeGather(pass, this.uniforms.u32([n]), splats, order, offsets, counters, n);
      this.scan.encode(pass, offsets, n + 1);
      pass.end();
      enc.copyBufferToBuffer(offsets, n * f32, this.readback, 0, 4);
      enc.copyBufferToBuffer(counters, 0, this.readback, 4, 4);
    }
    d.queue.submit([enc.finish()]);
    let instances = 0, visible = 0;
    if (n > 0) {
      const t0 = performance.now();
      await this.readback.mapAsync(MAP_READ);
      const r = new Uint32Array(this.readback.getMappedRange().slice(0, 8));
      this.readback.unmap();
      if (this.profile) this.timings.binMs += performance.now() - t0;
      instances = r[0]!;
      visible = r[1]!;
    }
    // instance buffers (sized for the backward's per-instance gradients too, so a limit shows up here)
    const m = instances;
    const tk = { keys: this.buf('tile-keys', m * f32), values: this.buf('inst-ids', m * f32) };
    const tk2 = { keys: this.buf('tile-keys2', m * f32), values: this.buf('inst-ids2', m * f32) };
    const instGauss = this.buf('inst-gauss', m * f32);
    const sortedGauss = this.buf('sorted-gauss', m * f32);
    this.buf('inst-grad', m * 10 * f32);
    const ranges = this.buf('ranges', numTiles * 2 * f32);
    const rgb = this.buf('out-rgb', P * 3 * f32);
    const alpha = this.buf('out-alpha', P * f32);
    const depth = this.buf('out-depth', P * f32);
    const pixState = this.buf('pix-state', 2 * P * f32);
    enc = d.createCommandEncoder({ label: 'raster-forward-2' });
    if (m > 0) {
      const pass = enc.beginComputePass();
      this.bin.encodeEmit(pass, this.camU, { splats, ext, order, offsets, tileKeys: tk.keys, instIds: tk.values, instGauss }, n);
      pass.end();
      enc = await this.step('binMs', enc);
    }
    const tileBits = Math.ceil(Math.log2(Math.max(1, numTiles)));
    const sorted = m > 0 ? this.sort.encode(enc, tk, tk2, m, tileBits, 'tile-sort') : tk;
    enc = await this.step('sortMs', enc);
    enc.clearBuffer(ranges, 0, numTiles * 2 * f32);
    const pass = enc.beginComputePass();
    if (m > 0) this.bin.encodeRanges(pass, this.uniforms.u32([m]), { tileKeys: sorted.keys, instIds: sorted.values, instGauss, sortedGauss, ranges }, m);
    this.fwd.encode(pass, this.camU, { splats, ranges, sortedGauss, rgb, alpha, depth, pixState }, tilesX, tilesY);
    pass.end();
    if (this.profile) await this.step('rasterMs', enc);
    else d.queue.submit([enc.finish()]);
    this.sortedIds = sorted.values;
    this.order = order;
    const state: GpuForwardState = { generation: ++this.generation, scene, cam, opts, instances: m, tilesX, tilesY };
    this.last = state;
    return { rgb, alpha, depth, visible, state };
  }

  private checkScene(scene: GaussianBuffers): void {
    const n = scene.count;
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`GaussianBuffers.count must be a non-negative integer (got ${n})`);
    const limit = Number(this.device.limits.maxStorageBufferBindingSize);
    for (const [name, k] of [['means', 3], ['logScales', 3], ['quats', 4], ['opacityLogits', 1], ['sh', 48]] as const) {
      const need = n * k * f32;
      if (need > limit) {
        throw new GpuLimitError(`${n} Gaussians need a ${need}-byte '${name}' buffer but this device binds at most ${limit} bytes per storage buffer (maxStorageBufferBindingSize)`);
      }
      if (scene[name].size < need) throw new Error(`GaussianBuffers.${name} holds ${scene[name].size} bytes, expected at least ${need} for ${n} Gaussians`);
    }
  }

  /** buffers of the last forward that only the backward needs */
  private sortedIds: GPUBuffer | null = null;
  private order: GPUBuffer | null = null;

  backward(fwd: GpuForwardResult, dRgb: GPUBuffer, dAlpha?: GPUBuffer, dDepth?: GPUBuffer): GpuGradients {
    return this.backwardImpl(fwd, dRgb, dAlpha, dDepth);
  }

  private backwardImpl(fwd: GpuForwardResult, dRgb: GPUBuffer, dAlpha?: GPUBuffer, dDepth?: GPUBuffer, onStage?: (label: keyof RasterTimings, enc: GPUCommandEncoder) => GPUCommandEncoder): GpuGradients {
    const st = fwd.state;
    if (!this.last || st.generation !== this.last.generation) {
      throw new Error('GpuRasterizer.backward: this forward result is stale (another forward() ran since); call backward right after its forward');
    }
    const d = this.device;
    const { scene, cam, instances: m, tilesX, tilesY } = st;
    const n = scene.count;
    const P = cam.width * cam.height;
    const dAD = this.buf('d-alpha-depth', 2 * P * f32);
    const instGrad = this.buf('inst-grad', m * 10 * f32);
    const grad2d = this.buf('grad2d', Math.max(1, n) * GRAD2D_STRIDE * f32);
    const packed = this.buf('g-packed', gradSections(n).total * f32);
    const gSh = this.buf('g-sh', Math.max(1, n) * 48 * f32);
    const poseOut = this.buf('g-pose', 6 * f32);
    const sec = gradSectionRanges(packed, n);
    const out: GpuGradients = {
      means: sec.means,
      logScales: sec.logScales,
      quats: sec.quats,
      opacityLogits: sec.opacity,
      sh: { buffer: gSh, offset: 0, size: Math.max(16, n * 48 * f32) },
      pose: { buffer: poseOut, offset: 0, size: 6 * f32 },
      means2dGradNorm: sec.m2d,
    };
    const poseScratch = this.buf('pose-scratch', Math.max(1, Math.ceil(n / 256)) * 6 * f32);
    let enc = d.createCommandEncoder({ label: 'raster-backward' });
    // ∂L/∂alpha and ∂L/∂depth side by side in one buffer (zero when not given)
    if (dAlpha) enc.copyBufferToBuffer(dAlpha, 0, dAD, 0, P * f32);
    else enc.clearBuffer(dAD, 0, P * f32);
    if (dDepth) enc.copyBufferToBuffer(dDepth, 0, dAD, P * f32, P * f32);
    else enc.clearBuffer(dAD, P * f32, P * f32);
    if (m > 0) enc.clearBuffer(instGrad, 0, m * 10 * f32);
    let pass = enc.beginComputePass();
    if (m > 0) {
      this.bwd.encodeRaster(pass, this.camU, {
        splats: this.pool.get('splats', 0), ranges: this.pool.get('ranges', 0), sortedGauss: this.pool.get('sorted-gauss', 0), sortedIds: this.sortedIds!,
        pixState: this.pool.get('pix-state', 0), dRgb, dAD, instGrad,
      }, tilesX, tilesY);
    }
    pass.end();
    if (onStage) enc = onStage('backwardRasterMs', enc);
    pass = enc.beginComputePass();
    if (n > 0) {
      this.bwd.encodeGather(pass, this.uniforms.u32([n]), { order: this.order!, offsets: this.pool.get('offsets', 0), instGrad, grad2d }, n);
      this.projBwd.encode(pass, this.camU, [scene.means, scene.logScales, scene.quats, scene.opacityLogits, scene.sh], { grad2d, packed, sh: gSh }, n);
      this.projBwd.encodeReducePose(pass, this.uniforms, gradSectionRanges(packed, n).pose, poseScratch, poseOut, n);
    }
    pass.end();
    if (n === 0) enc.clearBuffer(poseOut, 0, 6 * f32);
    if (onStage) onStage('backwardProjectMs', enc);
    else d.queue.submit([enc.finish()]);
    return out;
  }

  /** backward() that waits after each stage and fills timings (for the benchmark). */
  async backwardProfiled(fwd: GpuForwardResult, dRgb: GPUBuffer, dAlpha?: GPUBuffer, dDepth?: GPUBuffer): Promise<GpuGradients> {
    const stages: [keyof RasterTimings, GPUCommandEncoder][] = [];
    const g = this.backwardImpl(fwd, dRgb, dAlpha, dDepth, (label, enc) => {
      stages.push([label, enc]);
      return this.device.createCommandEncoder();
    });
    for (const [label, enc] of stages) {
      const t0 = performance.now();
      this.device.queue.submit([enc.finish()]);
      await this.device.queue.onSubmittedWorkDone();
      this.timings[label] = performance.now() - t0;
    }
    return g;
  }

  /** Upload parameters into rasterizer-owned scene buffers (for tests and the CPU-array API). */
  uploadScene(params: GaussianParams): GaussianBuffers {
    checkParams(params);
    const n = params.count;
    const b: GaussianBuffers = {
      count: n,
      means: this.buf('up-means', n * 3 * f32),
      logScales: this.buf('up-logscales', n * 3 * f32),
      quats: this.buf('up-quats', n * 4 * f32),
      opacityLogits: this.buf('up-opacity', n * f32),
      sh: this.buf('up-sh', n * 48 * f32),
    };
    const d = this.device;
    upload(d, b.means, params.means.subarray(0, n * 3));
    upload(d, b.logScales, params.logScales.subarray(0, n * 3));
    upload(d, b.quats, params.quats.subarray(0, n * 4));
    upload(d, b.opacityLogits, params.opacityLogits.subarray(0, n));
    upload(d, b.sh, params.sh.subarray(0, n * 48));
    return b;
  }

  /** Forward from CPU arrays to CPU arrays; keeps the GPU state for backwardArrays(). */
  async rasterize(params: GaussianParams, cam: RasterCamera, opts: RasterOptions): Promise<RasterOutput & { fwd: GpuForwardResult }> {
    const fwd = await this.forward(this.uploadScene(params), cam, opts);
    const P = cam.width * cam.height;
    const [rgb, alpha, depth] = await Promise.all([readF32(this.device, fwd.rgb, P * 3), readF32(this.device, fwd.alpha, P), readF32(this.device, fwd.depth, P)]);
    return { rgb, alpha, depth, visible: fwd.visible, fwd };
  }

  /** Backward of the last rasterize()/forward() from CPU upstream gradients. */
  async backwardArrays(fwd: GpuForwardResult, up: { rgb: Float32Array; alpha?: Float32Array; depth?: Float32Array }): Promise<RasterGradients> {
    const { cam, scene } = fwd.state;
    const P = cam.width * cam.height;
    const n = scene.count;
    const d = this.device;
    const dRgb = this.buf('up-drgb', P * 3 * f32);
    upload(d, dRgb, up.rgb.subarray(0, P * 3));
    let dA: GPUBuffer | undefined, dD: GPUBuffer | undefined;
    if (up.alpha) upload(d, (dA = this.buf('up-dalpha', P * f32)), up.alpha.subarray(0, P));
    if (up.depth) upload(d, (dD = this.buf('up-ddepth', P * f32)), up.depth.subarray(0, P));
    const g = this.backward(fwd, dRgb, dA, dD);
    const [means, logScales, quats, opacityLogits, sh, pose, means2dGradNorm] = await Promise.all([
      readF32(d, g.means, n * 3), readF32(d, g.logScales, n * 3), readF32(d, g.quats, n * 4), readF32(d, g.opacityLogits, n),
      readF32(d, g.sh, n * 48), readF32(d, g.pose, 6), readF32(d, g.means2dGradNorm, n),
    ]);
    return { means, logScales, quats, opacityLogits, sh, pose: Float64Array.from(pose), means2dGradNorm };
  }

  destroy(): void {
    this.pool.destroy();
    this.uniforms.clear();
    this.camU.destroy();
    this.readback.destroy();
  }
}

function validate(cam: RasterCamera, opts: RasterOptions): void {
  if (opts.tileSize !== 16) throw new Error(`GpuRasterizer supports tileSize 16 only (got ${opts.tileSize})`);
  if (!(cam.width >= 1 && cam.height >= 1 && Number.isInteger(cam.width) && Number.isInteger(cam.height))) {
    throw new Error(`GpuRasterizer: image size must be positive integers (got ${cam.width}×${cam.height})`);
  }
  if (!(opts.shDegree >= 0 && opts.shDegree <= 3)) throw new Error(`GpuRasterizer: shDegree must be 0..3 (got ${opts.shDegree})`);
}

function checkParams(p: GaussianParams): void {
  const n = p.count;
  const want: [string, ArrayLike<number>, number][] = [['means', p.means, 3], ['logScales', p.logScales, 3], ['quats', p.quats, 4], ['opacityLogits', p.opacityLogits, 1], ['sh', p.sh, 48]];
  for (const [name, arr, k] of want) {
    if (arr.length < n * k) throw new Error(`GaussianParams.${name} has ${arr.length} values, expected ${n * k} for ${n} Gaussians`);
  }
}

export { COPY_DST };
