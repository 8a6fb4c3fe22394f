/**
 * Stable LSD radix sort of (u32 key, u32 value) pairs on the GPU, 4 bits per pass.
 *
 * Each pass: (1) per-block digit histograms (blocks of 256 keys), stored digit-major so that
 * (2) one exclusive prefix sum over them gives every (digit, block) its global output offset,
 * (3) a stable scatter: within a block, an element's rank among equal digits comes from a
 * workgroup scan of packed one-hot counters (16 digits × 16-bit counts in 8 words). Only the
 * low `bits` bits of the keys are sorted, so callers pass as few as their keys need.
 */
import { BufferPool, bindGroup, computePipeline, dispatch } from '../buffers.js';
import { PrefixSum } from '../scan.js';
import { UniformCache } from '../uniforms.js';

const common = /* wgsl */ `
struct P { n: u32, shift: u32, blocks: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
`;

const histWgsl = /* wgsl */ `${common}
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> hist: array<u32>;
var<workgroup> cnt: array<atomic<u32>, 16>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = wid.x + wid.y * nwg.x;
  if (block >= p.blocks) { return; }
  if (t < 16u) { atomicStore(&cnt[t], 0u); }
  workgroupBarrier();
  let i = block * 256u + t;
  if (i < p.n) {
    let d = (keys[i] >> p.shift) & 15u;
    atomicAdd(&cnt[d], 1u);
  }
  workgroupBarrier();
  if (t < 16u) { hist[t * p.blocks + block] = atomicLoad(&cnt[t]); }
}
`;

const scatterWgsl = /* wgsl */ `${common}
@group(0) @binding(1) var<storage, read> keysIn: array<u32>;
@group(0) @binding(2) var<storage, read> valsIn: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> keysOut: array<u32>;
@group(0) @binding(5) var<storage, read_write> valsOut: array<u32>;
// [buffer][thread][2 × vec4u]: 16 digit counters of 16 bits each
var<workgroup> sc: array<vec4u, 1024>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = wid.x + wid.y * nwg.x;
  if (block >= p.blocks) { return; }
  let i = block * 256u + t;
  var key = 0u;
  var d = 16u;
  if (i < p.n) {
    key = keysIn[i];
    d = (key >> p.shift) & 15u;
  }
  var lo = vec4u(0u);
  var hi = vec4u(0u);
  if (d < 16u) {
    let word = d >> 1u;
    let bit = 1u << ((d & 1u) * 16u);
    if (word < 4u) { lo[word] = bit; } else { hi[word - 4u] = bit; }
  }
  var src = 0u;
  sc[t * 2u] = lo;
  sc[t * 2u + 1u] = hi;
  workgroupBarrier();
  for (var off = 1u; off < 256u; off = off << 1u) {
    var a = sc[src * 512u + t * 2u];
    var b = sc[src * 512u + t * 2u + 1u];
    if (t >= off) {
      a = a + sc[src * 512u + (t - off) * 2u];
      b = b + sc[src * 512u + (t - off) * 2u + 1u];
    }
    sc[(1u - src) * 512u + t * 2u] = a;
    sc[(1u - src) * 512u + t * 2u + 1u] = b;
    src = 1u - src;
    workgroupBarrier();
  }
  if (d < 16u) {
    let word = d >> 1u;
    var w = 0u;
    if (word < 4u) { w = sc[src * 512u + t * 2u][word]; } else { w = sc[src * 512u + t * 2u + 1u][word - 4u]; }
    let rank = ((w >> ((d & 1u) * 16u)) & 0xffffu) - 1u;
    let dst = offsets[d * p.blocks + block] + rank;
    keysOut[dst] = key;
    valsOut[dst] = valsIn[i];
  }
}
`;

/** Histogram with subgroups: one workgroup atomic per (subgroup, digit) instead of per key. */
const histSubgroupWgsl = /* wgsl */ `
enable subgroups;
${common}
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> hist: array<u32>;
var<workgroup> cnt: array<atomic<u32>, 16>;

fn popc(m: vec4u) -> u32 {
  let c = countOneBits(m);
  return c.x + c.y + c.z + c.w;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) lane: u32) {
  let block = wid.x + wid.y * nwg.x;
  if (block >= p.blocks) { return; }
  if (t < 16u) { atomicStore(&cnt[t], 0u); }
  workgroupBarrier();
  let i = block * 256u + t;
  let valid = i < p.n;
  var d = 0u;
  if (valid) { d = (keys[i] >> p.shift) & 15u; }
  var same = subgroupBallot(valid);
  for (var b = 0u; b < 4u; b++) {
    let bit = ((d >> b) & 1u) != 0u;
    let bal = subgroupBallot(bit);
    if (bit) { same = same & bal; } else { same = same & ~bal; }
  }
  // the lowest lane of each digit group adds the group's size
  let first = firstTrailingBit(same);
  var lowest = 0u;
  if (first.x != 0xffffffffu) { lowest = first.x; }
  else if (first.y != 0xffffffffu) { lowest = 32u + first.y; }
  else if (first.z != 0xffffffffu) { lowest = 64u + first.z; }
  else { lowest = 96u + first.w; }
  if (valid && lane == lowest) { atomicAdd(&cnt[d], popc(same)); }
  workgroupBarrier();
  if (t < 16u) { hist[t * p.blocks + block] = atomicLoad(&cnt[t]); }
}
`;

/**
 * Subgroup variant of the scatter: an element's rank among equal digits inside its subgroup
 * comes from four ballots (one per digit bit); per-subgroup digit counts are then scanned over
 * the workgroup's subgroups by 16 threads. Three barriers instead of the eight of the packed
 * scan. Assumes subgroups are consecutive runs of local_invocation_index (true on the drivers
 * we know of; the sort tests would catch a driver where it is not).
 */
const scatterSubgroupWgsl = /* wgsl */ `
enable subgroups;
${common}
@group(0) @binding(1) var<storage, read> keysIn: array<u32>;
@group(0) @binding(2) var<storage, read> valsIn: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> keysOut: array<u32>;
@group(0) @binding(5) var<storage, read_write> valsOut: array<u32>;
var<workgroup> sgCounts: array<u32, 4096>; // [subgroup][digit], up to 256 subgroups

fn popc(m: vec4u) -> u32 {
  let c = countOneBits(m);
  return c.x + c.y + c.z + c.w;
}

fn lanesBelow(l: u32) -> vec4u {
  var m = vec4u(0u);
  for (var c = 0u; c < 4u; c++) {
    let b = i32(l) - i32(32u * c);
    if (b >= 32) { m[c] = 0xffffffffu; } else if (b > 0) { m[c] = (1u << u32(b)) - 1u; }
  }
  return m;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sgSize: u32) {
  let block = wid.x + wid.y * nwg.x;
  if (block >= p.blocks) { return; }
  let nsg = (256u + sgSize - 1u) / sgSize;
  for (var q = t; q < nsg * 16u; q += 256u) { sgCounts[q] = 0u; }
  let i = block * 256u + t;
  let valid = i < p.n;
  var key = 0u;
  if (valid) { key = keysIn[i]; }
  let d = (key >> p.shift) & 15u;
  var same = subgroupBallot(valid);
  for (var b = 0u; b < 4u; b++) {
    let bit = ((d >> b) & 1u) != 0u;
    let bal = subgroupBallot(bit);
    if (bit) { same = same & bal; } else { same = same & ~bal; }
  }
  let below = popc(same & lanesBelow(lane));
  let sg = t / sgSize;
  workgroupBarrier();
  // the last lane of each digit group in this subgroup publishes the group's size
  if (valid && below + 1u == popc(same)) { sgCounts[sg * 16u + d] = below + 1u; }
  workgroupBarrier();
  if (t < 16u) {
    var run = 0u;
    for (var q = 0u; q < nsg; q++) {
      let c = sgCounts[q * 16u + t];
      sgCounts[q * 16u + t] = run;
      run += c;
    }
  }
  workgroupBarrier();
  if (valid) {
    let dst = offsets[d * p.blocks + block] + sgCounts[sg * 16u + d] + below;
    keysOut[dst] = key;
    valsOut[dst] = valsIn[i];
  }
}
`;

export interface SortBuffers {
  keys: GPUBuffer;
  values: GPUBuffer;
}

export class RadixSort {
  private constructor(
    readonly device: GPUDevice,
    private readonly histPipe: GPUComputePipeline,
    private readonly scatterPipe: GPUComputePipeline,
    private readonly scan: PrefixSum,
    private readonly pool: BufferPool,
    private readonly uniforms: UniformCache,
  ) {}

  static async create(device: GPUDevice, pool?: BufferPool, uniforms?: UniformCache): Promise<RadixSort> {
    const p = pool ?? new BufferPool(device);
    const u = uniforms ?? new UniformCache(device);
    const sub = device.features.has('subgroups') && process.env.R2S_NO_SUBGROUPS !== '1';
    const [h, s, scan] = await Promise.all([
      computePipeline(device, 'radix-hist', sub ? histSubgroupWgsl : histWgsl),
      computePipeline(device, 'radix-scatter', sub ? scatterSubgroupWgsl : scatterWgsl),
      PrefixSum.create(device, p, u),
    ]);
    return new RadixSort(device, h, s, scan, p, u);
  }

  /**
   * Record a sort of n pairs by the low `bits` bits of the keys. `a` holds the input; `b` is
   * scratch of the same size. Returns whichever of the two holds the sorted result.
   */
  encode(enc: GPUCommandEncoder, a: SortBuffers, b: SortBuffers, n: number, bits: number, tag = 'radix'): SortBuffers {
    if (n <= 1 || bits <= 0) return a;
    const blocks = Math.ceil(n / 256);
    const hist = this.pool.get(`${tag}-hist`, blocks * 16 * 4);
    let src = a, dst = b;
    const pass = enc.beginComputePass({ label: tag });
    for (let shift = 0; shift < bits; shift += 4) {
      const u = this.uniforms.u32([n, shift, blocks]);
      dispatch(pass, this.histPipe, bindGroup(this.device, this.histPipe, [u, src.keys, hist]), blocks);
      this.scan.encode(pass, hist, blocks * 16);
      dispatch(pass, this.scatterPipe, bindGroup(this.device, this.scatterPipe, [u, src.keys, src.values, hist, dst.keys, dst.values]), blocks);
      [src, dst] = [dst, src];
    }
    pass.end();
    return src;
  }
}
