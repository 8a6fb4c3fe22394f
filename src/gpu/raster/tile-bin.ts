/**
 * Stage 2: tile binning. `emit` writes one instance per (Gaussian, touched tile), Gaussians taken
 * in depth order so that a stable sort by tile id alone yields (tile, depth) order — the depth
 * sort runs over N Gaussians instead of over all instances. Instances of one Gaussian are
 * contiguous in emit order (offsets from the scan); the backward pass relies on that to sum
 * per-instance gradients deterministically. `ranges` finds each tile's slice of the sorted list.
 */
import { bindGroup, computePipeline, dispatch } from '../buffers.js';
import { camStruct } from './common.wgsl.js';
import { ellipseWgsl } from './ellipse.wgsl.js';

const emitWgsl = /* wgsl */ `
${camStruct}
@group(0) @binding(0) var<uniform> cam: Cam;
@group(0) @binding(1) var<storage, read> splats: array<Splat>;
@group(0) @binding(2) var<storage, read> ext: array<vec4f>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
@group(0) @binding(4) var<storage, read> offsets: array<u32>;
@group(0) @binding(5) var<storage, read_write> tileKeys: array<u32>;
@group(0) @binding(6) var<storage, read_write> instIds: array<u32>;
@group(0) @binding(7) var<storage, read_write> instGauss: array<u32>;
${ellipseWgsl}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= cam.cfg.x) { return; }
  var o = offsets[i];
  let end = offsets[i + 1u];
  if (o == end) { return; }
  let g = order[i];
  let s = splats[g];
  let e = ext[g];
  let rows = tileRows(s.m.y, e);
  for (var ty = rows.x; ty <= rows.y; ty++) {
    let cols = tileCols(s.m.x, s.m.y, e, ty);
    for (var tx = cols.x; tx <= cols.y; tx++) {
      if (o < end) {
        tileKeys[o] = u32(ty) * cam.cfg.y + u32(tx);
        instIds[o] = o;
        instGauss[o] = g;
      }
      o++;
    }
  }
}
`;

const rangesWgsl = /* wgsl */ `
struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> tileKeys: array<u32>;
@group(0) @binding(2) var<storage, read> instIds: array<u32>;
@group(0) @binding(3) var<storage, read> instGauss: array<u32>;
@group(0) @binding(4) var<storage, read_write> sortedGauss: array<u32>;
@group(0) @binding(5) var<storage, read_write> ranges: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = gid.x + gid.y * nwg.x * 256u;
  if (k >= p.n) { return; }
  let t = tileKeys[k];
  sortedGauss[k] = instGauss[instIds[k]];
  if (k == 0u || tileKeys[k - 1u] != t) { ranges[2u * t] = k; }
  if (k + 1u == p.n || tileKeys[k + 1u] != t) { ranges[2u * t + 1u] = k + 1u; }
}
`;

export class TileBinStage {
  private constructor(
    readonly device: GPUDevice,
    readonly emit: GPUComputePipeline,
    readonly ranges: GPUComputePipeline,
  ) {}

  static async create(device: GPUDevice): Promise<TileBinStage> {
    const [e, r] = await Promise.all([computePipeline(device, 'raster-emit', emitWgsl), computePipeline(device, 'raster-ranges', rangesWgsl)]);
    return new TileBinStage(device, e, r);
  }

  encodeEmit(pass: GPUComputePassEncoder, camU: GPUBuffer, b: { splats: GPUBuffer; ext: GPUBuffer; order: GPUBuffer; offsets: GPUBuffer; tileKeys: GPUBuffer; instIds: GPUBuffer; instGauss: GPUBuffer }, n: number): void {
    const bg = bindGroup(this.device, this.emit, [camU, b.splats, b.ext, b.order, b.offsets, b.tileKeys, b.instIds, b.instGauss]);
    dispatch(pass, this.emit, bg, Math.ceil(n / 256));
  }

  /** ranges must be zeroed beforehand (tiles without instances keep [0, 0)). */
  encodeRanges(pass: GPUComputePassEncoder, u: GPUBuffer, b: { tileKeys: GPUBuffer; instIds: GPUBuffer; instGauss: GPUBuffer; sortedGauss: GPUBuffer; ranges: GPUBuffer }, m: number): void {
    const bg = bindGroup(this.device, this.ranges, [u, b.tileKeys, b.instIds, b.instGauss, b.sortedGauss, b.ranges]);
    dispatch(pass, this.ranges, bg, Math.ceil(m / 256));
  }
}
