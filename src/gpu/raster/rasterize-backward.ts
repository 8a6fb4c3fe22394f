/**
 * Backward of the compositing step. One workgroup per tile walks the tile's list back to front
 * from the largest "last contributor" of its pixels; every pixel recovers the transmittance in
 * front of each Gaussian by dividing out (1 − α) from its saved final T, and forms ∂L/∂(mean2d,
 * conic, opacity, colour, depth) of that Gaussian. Per-pixel terms are summed per instance
 * (one slot per Gaussian–tile pair) in a fixed order — subgroupAdd plus a fixed-order sum of the
 * subgroup partials, or a shared-memory tree without subgroups — and `gather` then sums each
 * Gaussian's (contiguous) instance slots in order. No float atomics: runs are bit-identical.
 * Within WebGPU's default 8 storage buffers per stage: the forward's final T and last-contributor
 * count arrive in one buffer (pixState), ∂L/∂alpha and ∂L/∂depth in another (dAD: H×W each).
 * The gather also writes, as an 11th value per Gaussian, 1 when it has instances (was composited
 * in some tile) and 0 otherwise: the projection backward skips the others without reading splats.
 */
import { bindGroup, computePipeline, dispatch } from '../buffers.js';
import { camStruct } from './common.wgsl.js';

const NGRAD = 10; // mean2d (2), conic (3), opacity, colour (3), depth
/** floats per Gaussian in grad2d: the NGRAD gradients and the has-instances flag */
export const GRAD2D_STRIDE = NGRAD + 1;

/**
 * Per-pixel gradient terms of list entry k, for the thread's pixel; shared by both variants.
 * Updates the pixel's running T / S / Sd (back to front) and fills v0, v1, v2.
 */
const pixelTermsWgsl = /* wgsl */ `
    var v0 = vec4f(0.0); // mean x, mean y, conic a, conic b
    var v1 = vec4f(0.0); // conic c, opacity, r, g
    var v2 = vec2f(0.0); // b, depth
    var contrib = false;
    if (inside && j <= last) {
      let s = splats[sortedGauss[k]];
      let dx = s.m.x - x;
      let dy = s.m.y - y;
      let power = -0.5 * (s.conic.x * dx * dx + s.conic.z * dy * dy) - s.conic.y * dx * dy;
      let G = exp(power);
      let alpha = min(ALPHA_MAX, s.m.w * G);
      if (power <= 0.0 && alpha >= ALPHA_MIN) {
        contrib = true;
        let inv = 1.0 / (1.0 - alpha);
        let Tj = T * inv;
        let w = alpha * Tj;
        let gc = w * dC;
        v1.z = gc.x; v1.w = gc.y; v2.x = gc.z;
        v2.y = w * dD;
        let dAl = dot(dC, Tj * s.color.xyz - S * inv) + dD * (Tj * s.m.z - Sd * inv) + dA * Tfinal * inv;
        S += s.color.xyz * w;
        Sd += s.m.z * w;
        T = Tj;
        if (s.m.w * G < ALPHA_MAX) {
          let dPow = alpha * dAl;
          v1.y = G * dAl;
          v0.z = -0.5 * dx * dx * dPow;
          v0.w = -dx * dy * dPow;
          v1.x = -0.5 * dy * dy * dPow;
          v0.x = -(s.conic.x * dx + s.conic.y * dy) * dPow;
          v0.y = -(s.conic.y * dx + s.conic.z * dy) * dPow;
        }
      }
    }`;

const pixelSetupWgsl = /* wgsl */ `
  let W = u32(cam.img.x);
  let H = u32(cam.img.y);
  let px = wid.x * TILE + lid.x;
  let py = wid.y * TILE + lid.y;
  let inside = px < W && py < H;
  let tile = wid.y * cam.cfg.y + wid.x;
  let start = ranges[2u * tile];
  var T = 1.0;
  var last = 0u;
  var dC = vec3f(0.0);
  var dA = 0.0;
  var dD = 0.0;
  if (inside) {
    let pix = py * W + px;
    T = bitcast<f32>(pixState[pix]);
    last = pixState[W * H + pix];
    dC = vec3f(dRgb[3u * pix], dRgb[3u * pix + 1u], dRgb[3u * pix + 2u]);
    dA = dAD[pix];
    dD = dAD[W * H + pix];
  }
  let Tfinal = T;
  var S = Tfinal * cam.bg.xyz;
  var Sd = 0.0;
  let x = f32(px) + 0.5;
  let y = f32(py) + 0.5;`;

const bindingsWgsl = (gradType: string) => /* wgsl */ `
${camStruct}
@group(0) @binding(0) var<uniform> cam: Cam;
@group(0) @binding(1) var<storage, read> splats: array<Splat>;
@group(0) @binding(2) var<storage, read> ranges: array<u32>;
@group(0) @binding(3) var<storage, read> sortedGauss: array<u32>;
@group(0) @binding(4) var<storage, read> sortedIds: array<u32>;
@group(0) @binding(5) var<storage, read> pixState: array<u32>;
@group(0) @binding(6) var<storage, read> dRgb: array<f32>;
@group(0) @binding(7) var<storage, read> dAD: array<f32>;
@group(0) @binding(8) var<storage, read_write> instGrad: array<${gradType}>;
`;

/**
 * Subgroup variant. The tile's list is walked back to front in chunks of C entries: for each
 * entry every subgroup sums its lanes with subgroupAdd and lane 0 parks the 10 sums in
 * workgroup memory ([entry][subgroup][10]); after the chunk, threads add up the subgroup partials
 * in a fixed order and write each instance's slot. Two barriers per chunk instead of ~9 per
 * entry, no atomics, bit-for-bit reproducible. Assumes subgroups are consecutive runs of
 * local_invocation_index (true on the drivers we know; the GPU-vs-reference tests would catch a
 * driver where it is not).
 */
function subgroupWgsl(nsgMax: number, chunk: number): string {
  return /* wgsl */ `
enable subgroups;
diagnostic(off, subgroup_uniformity);
${bindingsWgsl('f32')}
const NSG: u32 = ${nsgMax}u;
const CHUNK: u32 = ${chunk}u;
var<workgroup> part: array<f32, ${nsgMax * chunk * 10}>;
var<workgroup> maxLastA: atomic<u32>;
var<workgroup> maxLast: u32;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(subgroup_invocation_id) sgInv: u32, @builtin(subgroup_size) sgSize: u32) {
  if (t == 0u) { atomicStore(&maxLastA, 0u); }
  workgroupBarrier();
${pixelSetupWgsl}
  atomicMax(&maxLastA, last);
  workgroupBarrier();
  if (t == 0u) { maxLast = atomicLoad(&maxLastA); }
  let n = workgroupUniformLoad(&maxLast);
  let sg = t / sgSize;
  let nsg = (256u + sgSize - 1u) / sgSize;
  var jHi = n;
  while (jHi > 0u) {
    let jLo = max(jHi, CHUNK) - CHUNK;
    for (var j = jHi; j > jLo; j--) {
      let k = start + j - 1u;
${pixelTermsWgsl}
      let b = ((j - 1u - jLo) * NSG + sg) * 10u;
      // most subgroups see no contribution from most entries: skip the sums then
      if (subgroupAny(contrib)) {
        let r0 = subgroupAdd(v0);
        let r1 = subgroupAdd(v1);
        let r2 = subgroupAdd(v2);
        if (sgInv == 0u) {
          part[b] = r0.x; part[b + 1u] = r0.y; part[b + 2u] = r0.z; part[b + 3u] = r0.w;
          part[b + 4u] = r1.x; part[b + 5u] = r1.y; part[b + 6u] = r1.z; part[b + 7u] = r1.w;
          part[b + 8u] = r2.x; part[b + 9u] = r2.y;
        }
      } else if (sgInv == 0u) {
        for (var c = 0u; c < 10u; c++) { part[b + c] = 0.0; }
      }
    }
    workgroupBarrier();
    let cnt = (jHi - jLo) * 10u;
    for (var q = t; q < cnt; q += 256u) {
      let e = q / 10u;
      let c = q - e * 10u;
      var acc = 0.0;
      for (var s = 0u; s < nsg; s++) { acc += part[(e * NSG + s) * 10u + c]; }
      instGrad[sortedIds[start + jLo + e] * 10u + c] = acc;
    }
    workgroupBarrier();
    jHi = jLo;
  }
}
`;
}

/**
 * Subgroup + atomics variant (R2S_RASTER_BWD=atomic): no barriers in the loop, each subgroup
 * stops at its own last contributor, lane 0 adds the subgroup sums into the instance slot with a
 * compare-exchange float add. Not bit-reproducible (the order of a tile's subgroup adds varies).
 */
const subgroupAtomicWgsl = /* wgsl */ `
enable subgroups;
diagnostic(off, subgroup_uniformity);
${bindingsWgsl('atomic<u32>')}

fn atomicAddF32(i: u32, v: f32) {
  if (v == 0.0) { return; }
  var old = atomicLoad(&instGrad[i]);
  loop {
    let r = atomicCompareExchangeWeak(&instGrad[i], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sgInv: u32) {
${pixelSetupWgsl}
  let n = subgroupMax(last);
  for (var j = n; j > 0u; j--) {
    let k = start + j - 1u;
${pixelTermsWgsl}
    let r0 = subgroupAdd(v0);
    let r1 = subgroupAdd(v1);
    let r2 = subgroupAdd(v2);
    if (sgInv == 0u) {
      let id = sortedIds[k] * 10u;
      atomicAddF32(id, r0.x); atomicAddF32(id + 1u, r0.y); atomicAddF32(id + 2u, r0.z); atomicAddF32(id + 3u, r0.w);
      atomicAddF32(id + 4u, r1.x); atomicAddF32(id + 5u, r1.y); atomicAddF32(id + 6u, r1.z); atomicAddF32(id + 7u, r1.w);
      atomicAddF32(id + 8u, r2.x); atomicAddF32(id + 9u, r2.y);
    }
  }
}
`;

/** Portable variant: a fixed-order shared-memory tree per list entry (bit-for-bit deterministic). */
const treeWgsl = /* wgsl */ `
${bindingsWgsl('f32')}
var<workgroup> part: array<f32, 2560>;
var<workgroup> maxLastA: atomic<u32>;
var<workgroup> maxLast: u32;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u) {
  if (t == 0u) { atomicStore(&maxLastA, 0u); }
  workgroupBarrier();
${pixelSetupWgsl}
  atomicMax(&maxLastA, last);
  workgroupBarrier();
  if (t == 0u) { maxLast = atomicLoad(&maxLastA); }
  let n = workgroupUniformLoad(&maxLast);
  for (var j = n; j > 0u; j--) {
    let k = start + j - 1u;
${pixelTermsWgsl}
    part[t] = v0.x; part[256u + t] = v0.y; part[512u + t] = v0.z; part[768u + t] = v0.w;
    part[1024u + t] = v1.x; part[1280u + t] = v1.y; part[1536u + t] = v1.z; part[1792u + t] = v1.w;
    part[2048u + t] = v2.x; part[2304u + t] = v2.y;
    workgroupBarrier();
    for (var st = 128u; st > 0u; st = st >> 1u) {
      if (t < st) {
        for (var c = 0u; c < 10u; c++) { part[c * 256u + t] += part[c * 256u + t + st]; }
      }
      workgroupBarrier();
    }
    if (t == 0u) {
      let id = sortedIds[k] * 10u;
      for (var c = 0u; c < 10u; c++) { instGrad[id + c] = part[c * 256u]; }
    }
    workgroupBarrier();
  }
}
`;

/**
 * The subgroup variant when the device has subgroups of at least 4 lanes and enough workgroup
 * memory for a useful chunk; else the portable tree.
 */
function chooseVariant(device: GPUDevice, adapterInfo?: GPUAdapterInfo): { code: string; subgroups: boolean } {
  const minSize = Number((adapterInfo as { subgroupMinSize?: number } | undefined)?.subgroupMinSize ?? 0);
  const storage = Number(device.limits.maxComputeWorkgroupStorageSize);
  const want = device.features.has('subgroups') && process.env.R2S_NO_SUBGROUPS !== '1' && minSize >= 4;
  if (want) {
    const nsgMax = Math.ceil(256 / minSize);
    const budget = Math.min(storage, 32768) - 64;
    const chunk = Math.min(64, Math.floor(budget / (nsgMax * 10 * 4)));
    if (process.env.R2S_RASTER_BWD === 'atomic') return { code: subgroupAtomicWgsl, subgroups: true };
    if (chunk >= 4) return { code: subgroupWgsl(nsgMax, chunk), subgroups: true };
  }
  return { code: treeWgsl, subgroups: false };
}

const gatherWgsl = /* wgsl */ `
struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> order: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> instGrad: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad2d: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let g = order[i];
  var acc: array<f32, 10>;
  let k0 = offsets[i];
  let k1 = offsets[i + 1u];
  for (var k = k0; k < k1; k++) {
    for (var c = 0u; c < 10u; c++) { acc[c] += instGrad[k * 10u + c]; }
  }
  for (var c = 0u; c < 10u; c++) { grad2d[g * 11u + c] = acc[c]; }
  grad2d[g * 11u + 10u] = select(0.0, 1.0, k1 > k0);
}
`;

export class RasterizeBackwardStage {
  private constructor(
    readonly device: GPUDevice,
    readonly raster: GPUComputePipeline,
    readonly gather: GPUComputePipeline,
    readonly usesSubgroups: boolean,
  ) {}

  static async create(device: GPUDevice, adapterInfo?: GPUAdapterInfo): Promise<RasterizeBackwardStage> {
    const v = chooseVariant(device, adapterInfo);
    const [r, g] = await Promise.all([computePipeline(device, 'raster-backward', v.code), computePipeline(device, 'raster-backward-gather', gatherWgsl)]);
    return new RasterizeBackwardStage(device, r, g, v.subgroups);
  }

  encodeRaster(
    pass: GPUComputePassEncoder,
    camU: GPUBuffer,
    b: { splats: GPUBuffer; ranges: GPUBuffer; sortedGauss: GPUBuffer; sortedIds: GPUBuffer; pixState: GPUBuffer; dRgb: GPUBuffer; dAD: GPUBuffer; instGrad: GPUBuffer },
    tilesX: number,
    tilesY: number,
  ): void {
    pass.setPipeline(this.raster);
    pass.setBindGroup(0, bindGroup(this.device, this.raster, [camU, b.splats, b.ranges, b.sortedGauss, b.sortedIds, b.pixState, b.dRgb, b.dAD, b.instGrad]));
    pass.dispatchWorkgroups(tilesX, tilesY);
  }

  encodeGather(pass: GPUComputePassEncoder, u: GPUBuffer, b: { order: GPUBuffer; offsets: GPUBuffer; instGrad: GPUBuffer; grad2d: GPUBuffer }, n: number): void {
    dispatch(pass, this.gather, bindGroup(this.device, this.gather, [u, b.order, b.offsets, b.instGrad, b.grad2d]), Math.ceil(n / 256));
  }
}


