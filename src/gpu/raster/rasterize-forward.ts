/**
 * Stage 4: per-tile front-to-back compositing. One workgroup per 16×16 tile, one thread per
 * pixel; each pixel walks its tile's depth-ordered list (on hardware GPUs staged through
 * workgroup memory in batches of 256) and stops on its own when the next
 * Gaussian would bring transmittance to ≤ 1e-4 (that Gaussian is not composited). Saves the
 * final transmittance and the number of list entries processed (last contributor + 1) for the
 * backward pass, both in one buffer `pixState` (H×W words of T's f32 bits, then H×W counts) so
 * the backward stays within WebGPU's default 8 storage buffers per stage.
 */
import { bindGroup, computePipeline } from '../buffers.js';
import { camStruct } from './common.wgsl.js';

const bindings = /* wgsl */ `
${camStruct}
@group(0) @binding(0) var<uniform> cam: Cam;
@group(0) @binding(1) var<storage, read> splats: array<Splat>;
@group(0) @binding(2) var<storage, read> ranges: array<u32>;
@group(0) @binding(3) var<storage, read> sortedGauss: array<u32>;
@group(0) @binding(4) var<storage, read_write> outRgb: array<f32>;
@group(0) @binding(5) var<storage, read_write> outAlpha: array<f32>;
@group(0) @binding(6) var<storage, read_write> outDepth: array<f32>;
@group(0) @binding(7) var<storage, read_write> pixState: array<u32>;

`;

/** Simple variant: each pixel reads splats straight from the storage buffer (faster on lavapipe). */
const simpleWgsl = /* wgsl */ `${bindings}
@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let W = u32(cam.img.x);
  let H = u32(cam.img.y);
  let px = wid.x * TILE + lid.x;
  let py = wid.y * TILE + lid.y;
  if (px >= W || py >= H) { return; }
  let tile = wid.y * cam.cfg.y + wid.x;
  let start = ranges[2u * tile];
  let end = ranges[2u * tile + 1u];
  let x = f32(px) + 0.5;
  let y = f32(py) + 0.5;
  var T = 1.0;
  var c = vec3f(0.0);
  var d = 0.0;
  var n = 0u;
  for (var k = start; k < end; k++) {
    let s = splats[sortedGauss[k]];
    let dx = s.m.x - x;
    let dy = s.m.y - y;
    let power = -0.5 * (s.conic.x * dx * dx + s.conic.z * dy * dy) - s.conic.y * dx * dy;
    if (power > 0.0) { continue; }
    let alpha = min(ALPHA_MAX, s.m.w * exp(power));
    if (alpha < ALPHA_MIN) { continue; }
    let nextT = T * (1.0 - alpha);
    if (nextT <= T_MIN) { break; }
    let vis = alpha * T;
    c += s.color.xyz * vis;
    d += s.m.z * vis;
    T = nextT;
    n = k - start + 1u;
  }
  let pix = py * W + px;
  let rgb = c + T * cam.bg.xyz;
  outRgb[3u * pix] = rgb.x;
  outRgb[3u * pix + 1u] = rgb.y;
  outRgb[3u * pix + 2u] = rgb.z;
  outAlpha[pix] = 1.0 - T;
  outDepth[pix] = d;
  pixState[pix] = bitcast<u32>(T);
  pixState[W * H + pix] = n;
}
`;

/** Batched variant (default on hardware GPUs, as gsplat does). */
const batchedWgsl = /* wgsl */ `${bindings}
var<workgroup> batch: array<Splat, 256>;
var<workgroup> doneA: atomic<u32>;
var<workgroup> doneU: u32;

// The tile's list is read in batches of 256 splats into workgroup memory (one load per thread),
// which every pixel then walks; the loop ends early once all 256 pixels are done.
@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u) {
  let W = u32(cam.img.x);
  let H = u32(cam.img.y);
  let px = wid.x * TILE + lid.x;
  let py = wid.y * TILE + lid.y;
  let inside = px < W && py < H;
  let tile = wid.y * cam.cfg.y + wid.x;
  let start = ranges[2u * tile];
  let end = ranges[2u * tile + 1u];
  let x = f32(px) + 0.5;
  let y = f32(py) + 0.5;
  if (t == 0u) { atomicStore(&doneA, 0u); }
  workgroupBarrier();
  var done = !inside;
  if (done) { atomicAdd(&doneA, 1u); }
  var T = 1.0;
  var c = vec3f(0.0);
  var d = 0.0;
  var n = 0u;
  for (var b0 = start; b0 < end; b0 += 256u) {
    workgroupBarrier();
    if (t == 0u) { doneU = atomicLoad(&doneA); }
    let nd = workgroupUniformLoad(&doneU);
    if (nd >= 256u) { break; }
    if (b0 + t < end) { batch[t] = splats[sortedGauss[b0 + t]]; }
    workgroupBarrier();
    if (!done) {
      let cnt = min(256u, end - b0);
      for (var i = 0u; i < cnt; i++) {
        let s = batch[i];
        let dx = s.m.x - x;
        let dy = s.m.y - y;
        let power = -0.5 * (s.conic.x * dx * dx + s.conic.z * dy * dy) - s.conic.y * dx * dy;
        if (power > 0.0) { continue; }
        let alpha = min(ALPHA_MAX, s.m.w * exp(power));
        if (alpha < ALPHA_MIN) { continue; }
        let nextT = T * (1.0 - alpha);
        if (nextT <= T_MIN) {
          done = true;
          atomicAdd(&doneA, 1u);
          break;
        }
        let vis = alpha * T;
        c += s.color.xyz * vis;
        d += s.m.z * vis;
        T = nextT;
        n = b0 + i - start + 1u;
      }
    }
  }
  if (!inside) { return; }
  let pix = py * W + px;
  let rgb = c + T * cam.bg.xyz;
  outRgb[3u * pix] = rgb.x;
  outRgb[3u * pix + 1u] = rgb.y;
  outRgb[3u * pix + 2u] = rgb.z;
  outAlpha[pix] = 1.0 - T;
  outDepth[pix] = d;
  pixState[pix] = bitcast<u32>(T);
  pixState[W * H + pix] = n;
}
`;

export class RasterizeForwardStage {
  private constructor(
    readonly device: GPUDevice,
    readonly pipe: GPUComputePipeline,
    readonly batched: boolean,
  ) {}

  /**
   * `batched`: stage the list through workgroup memory (hardware GPUs); else each pixel reads
   * the storage buffer directly, which is faster on a CPU (lavapipe). R2S_RASTER_FWD=simple|batched
   * overrides.
   */
  static async create(device: GPUDevice, batched: boolean): Promise<RasterizeForwardStage> {
    const env = process.env.R2S_RASTER_FWD;
    const useBatched = env === 'batched' ? true : env === 'simple' ? false : batched;
    return new RasterizeForwardStage(device, await computePipeline(device, 'raster-forward', useBatched ? batchedWgsl : simpleWgsl), useBatched);
  }

  encode(pass: GPUComputePassEncoder, camU: GPUBuffer, b: { splats: GPUBuffer; ranges: GPUBuffer; sortedGauss: GPUBuffer; rgb: GPUBuffer; alpha: GPUBuffer; depth: GPUBuffer; pixState: GPUBuffer }, tilesX: number, tilesY: number): void {
    pass.setPipeline(this.pipe);
    pass.setBindGroup(0, bindGroup(this.device, this.pipe, [camU, b.splats, b.ranges, b.sortedGauss, b.rgb, b.alpha, b.depth, b.pixState]));
    pass.dispatchWorkgroups(tilesX, tilesY);
  }
}
