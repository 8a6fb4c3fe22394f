/**
 * Stage 4: per-tile front-to-back compositing. One workgroup per 16×16 tile, one thread per
 * pixel; each pixel walks its tile's depth-ordered list and stops on its own when the next
 * Gaussian would bring transmittance to ≤ 1e-4 (that Gaussian is not composited). Saves the
 * final transmittance and the number of list entries processed (last contributor + 1) for the
 * backward pass.
 */
import { bindGroup, computePipeline } from '../buffers.js';
import { camStruct } from './common.wgsl.js';

const wgsl = /* wgsl */ `
${camStruct}
@group(0) @binding(0) var<uniform> cam: Cam;
@group(0) @binding(1) var<storage, read> splats: array<Splat>;
@group(0) @binding(2) var<storage, read> ranges: array<u32>;
@group(0) @binding(3) var<storage, read> sortedGauss: array<u32>;
@group(0) @binding(4) var<storage, read_write> outRgb: array<f32>;
@group(0) @binding(5) var<storage, read_write> outAlpha: array<f32>;
@group(0) @binding(6) var<storage, read_write> outDepth: array<f32>;
@group(0) @binding(7) var<storage, read_write> finalT: array<f32>;
@group(0) @binding(8) var<storage, read_write> lastN: array<u32>;

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
  finalT[pix] = T;
  lastN[pix] = n;
}
`;

export class RasterizeForwardStage {
  private constructor(readonly device: GPUDevice, readonly pipe: GPUComputePipeline) {}

  static async create(device: GPUDevice): Promise<RasterizeForwardStage> {
    return new RasterizeForwardStage(device, await computePipeline(device, 'raster-forward', wgsl));
  }

  encode(pass: GPUComputePassEncoder, camU: GPUBuffer, b: { splats: GPUBuffer; ranges: GPUBuffer; sortedGauss: GPUBuffer; rgb: GPUBuffer; alpha: GPUBuffer; depth: GPUBuffer; finalT: GPUBuffer; last: GPUBuffer }, tilesX: number, tilesY: number): void {
    pass.setPipeline(this.pipe);
    pass.setBindGroup(0, bindGroup(this.device, this.pipe, [camU, b.splats, b.ranges, b.sortedGauss, b.rgb, b.alpha, b.depth, b.finalT, b.last]));
    pass.dispatchWorkgroups(tilesX, tilesY);
  }
}
