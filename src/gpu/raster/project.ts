/**
 * Stage 1 of the forward pass: project every Gaussian (culling, EWA 2D covariance, opacity with
 * optional antialias compensation, SH colour), count the tiles its alpha ≥ 1/255 ellipse touches,
 * and write its depth sort key (f32 bits of a positive depth sort like the float; culled → max).
 * Also: the identity permutation the depth sort starts from, and the gather of the tile counts in
 * depth order, ready for the offsets scan (it also counts the Gaussians that survived culling).
 *
 * Within WebGPU's default 8 storage buffers per stage: the tile count travels in the splat record
 * (color.w, an exact small integer as f32) instead of a buffer of its own, the identity
 * permutation is its own tiny kernel, and the visible count is taken in the gather.
 * A Gaussian with any non-finite input (or a non-finite colour) is culled by bit tests
 * (common.wgsl.ts `finite*`), never by comparisons that rely on NaN semantics.
 */
import { bindGroup, computePipeline, dispatch } from '../buffers.js';
import { camStruct, geometryWgsl } from './common.wgsl.js';
import { ellipseWgsl } from './ellipse.wgsl.js';

export const sceneBindings = (first: number, access: 'read' | 'read_write' = 'read') => /* wgsl */ `
@group(0) @binding(${first}) var<storage, ${access}> means: array<f32>;
@group(0) @binding(${first + 1}) var<storage, ${access}> logScales: array<f32>;
@group(0) @binding(${first + 2}) var<storage, ${access}> quats: array<f32>;
@group(0) @binding(${first + 3}) var<storage, ${access}> opacityLogits: array<f32>;
@group(0) @binding(${first + 4}) var<storage, ${access}> sh: array<f32>;
`;

const projectWgsl = /* wgsl */ `
${camStruct}
@group(0) @binding(0) var<uniform> cam: Cam;
${sceneBindings(1)}
@group(0) @binding(6) var<storage, read_write> splats: array<Splat>;
@group(0) @binding(7) var<storage, read_write> ext: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> depthKeys: array<u32>;
${geometryWgsl}
${ellipseWgsl}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= cam.cfg.x) { return; }
  // culled: opacity 0 and tile count 0 (color.w)
  splats[i] = Splat(vec4f(0.0), vec4f(0.0), vec4f(0.0));
  depthKeys[i] = 0xffffffffu;
  let g = geometry(i);
  if (!g.ok) { return; }
  let eps = cam.bg.w;
  let sxx = g.s2.x + eps;
  let sxy = g.s2.y;
  let syy = g.s2.z + eps;
  let det = sxx * syy - sxy * sxy;
  if (!finite1(det) || det <= 0.0) { return; }
  var comp = 1.0;
  if (antialiased()) {
    let det0 = g.s2.x * g.s2.z - g.s2.y * g.s2.y;
    comp = sqrt(max(0.0, det0 / det));
  }
  let logit = opacityLogits[i];
  if (!finite1(logit)) { return; }
  let opacity = comp / (1.0 + exp(-logit));
  if (!finite1(opacity) || opacity < ALPHA_MIN) { return; }
  let k2 = 2.0 * log(255.0 * opacity);
  let hx = sqrt(k2 * sxx);
  let hy = sqrt(k2 * syy);
  let z = g.p.z;
  let mx = cam.intr.x * g.p.x / z + cam.intr.z;
  let my = cam.intr.y * g.p.y / z + cam.intr.w;
  if (mx + hx <= 0.0 || mx - hx >= cam.img.x || my + hy <= 0.0 || my - hy >= cam.img.y) { return; }
  let deg = shDegree();
  let Y = shBasis(deg, normalize(viewDir(i)));
  let raw = shColorRaw(i, deg, Y);
  if (!finite3(raw)) { return; }
  let color = max(raw, vec3f(0.0));
  let e = vec4f(sxx, sxy, syy, k2);
  ext[i] = e;
  var n = 0u;
  let rows = tileRows(my, e);
  for (var ty = rows.x; ty <= rows.y; ty++) {
    let cols = tileCols(mx, my, e, ty);
    if (cols.y >= cols.x) { n += u32(cols.y - cols.x + 1); }
  }
  splats[i] = Splat(vec4f(mx, my, z, opacity), vec4f(syy / det, -sxy / det, sxx / det, 0.0), vec4f(color, f32(n)));
  depthKeys[i] = bitcast<u32>(z);
}
`;

/** depthVals[i] = i: the permutation the depth sort starts from. */
const iotaWgsl = /* wgsl */ `
struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> vals: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n) { vals[i] = i; }
}
`;

const gatherWgsl = /* wgsl */ `
${camStruct}
struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> splats: array<Splat>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> counters: array<atomic<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n) {
    offsets[i] = u32(splats[order[i]].color.w);
    if (splats[i].m.w > 0.0) { atomicAdd(&counters[0], 1u); }
  } else if (i == p.n) { offsets[i] = 0u; }
}
`;

export class ProjectStage {
  private constructor(
    readonly device: GPUDevice,
    readonly project: GPUComputePipeline,
    readonly iota: GPUComputePipeline,
    readonly gather: GPUComputePipeline,
  ) {}

  static async create(device: GPUDevice): Promise<ProjectStage> {
    const [p, i, g] = await Promise.all([
      computePipeline(device, 'raster-project', projectWgsl),
      computePipeline(device, 'raster-iota', iotaWgsl),
      computePipeline(device, 'raster-gather-counts', gatherWgsl),
    ]);
    return new ProjectStage(device, p, i, g);
  }

  /** Projection of n Gaussians; `u` holds [n] (the identity permutation's uniform). */
  encodeProject(pass: GPUComputePassEncoder, camU: GPUBuffer, u: GPUBuffer, scene: GPUBuffer[], out: { splats: GPUBuffer; ext: GPUBuffer; depthKeys: GPUBuffer; depthVals: GPUBuffer }, n: number): void {
    const bg = bindGroup(this.device, this.project, [camU, ...scene, out.splats, out.ext, out.depthKeys]);
    dispatch(pass, this.project, bg, Math.ceil(n / 256));
    dispatch(pass, this.iota, bindGroup(this.device, this.iota, [u, out.depthVals]), Math.ceil(n / 256));
  }

  /**
   * offsets[i] = tile count of Gaussian order[i] for i < n, offsets[n] = 0 (so the scan's last
   * entry is the total); counters[0] += the Gaussians that survived culling (clear it first).
   */
  encodeGather(pass: GPUComputePassEncoder, u: GPUBuffer, splats: GPUBuffer, order: GPUBuffer, offsets: GPUBuffer, counters: GPUBuffer, n: number): void {
    dispatch(pass, this.gather, bindGroup(this.device, this.gather, [u, splats, order, offsets, counters]), Math.ceil((n + 1) / 256));
  }
}
