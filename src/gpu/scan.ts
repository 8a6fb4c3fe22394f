/**
 * Exclusive prefix sum of a u32 array on the GPU, in place. Blocks of 256 are scanned in
 * workgroup memory; block totals are scanned recursively and added back. Integer sums, so the
 * result is exact and independent of scheduling.
 */
import { BufferPool, bindGroup, computePipeline, dispatch } from './buffers.js';
import { UniformCache } from './uniforms.js';

const BLOCK = 256;

const scanBlocksWgsl = /* wgsl */ `
struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums: array<u32>;
var<workgroup> sh: array<u32, 512>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = wid.x + wid.y * nwg.x;
  let i = block * 256u + t;
  var v = 0u;
  if (i < p.n) { v = data[i]; }
  // Hillis–Steele inclusive scan, double-buffered
  var src = 0u;
  sh[t] = v;
  workgroupBarrier();
  for (var off = 1u; off < 256u; off = off << 1u) {
    var x = sh[src * 256u + t];
    if (t >= off) { x = x + sh[src * 256u + t - off]; }
    sh[(1u - src) * 256u + t] = x;
    src = 1u - src;
    workgroupBarrier();
  }
  let incl = sh[src * 256u + t];
  if (i < p.n) { data[i] = incl - v; }
  if (t == 255u) { sums[block] = incl; }
}
`;

const addBlocksWgsl = /* wgsl */ `
struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read> sums: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = wid.x + wid.y * nwg.x;
  let i = block * 256u + t;
  if (i < p.n) { data[i] = data[i] + sums[block]; }
}
`;

export class PrefixSum {
  private constructor(
    readonly device: GPUDevice,
    private readonly scanPipe: GPUComputePipeline,
    private readonly addPipe: GPUComputePipeline,
    private readonly pool: BufferPool,
    private readonly uniforms: UniformCache,
  ) {}

  static async create(device: GPUDevice, pool?: BufferPool, uniforms?: UniformCache): Promise<PrefixSum> {
    const [s, a] = await Promise.all([computePipeline(device, 'scan-blocks', scanBlocksWgsl), computePipeline(device, 'scan-add', addBlocksWgsl)]);
    return new PrefixSum(device, s, a, pool ?? new BufferPool(device), uniforms ?? new UniformCache(device));
  }

  /** Record an in-place exclusive scan of data[0..n) into `pass`. */
  encode(pass: GPUComputePassEncoder, data: GPUBuffer, n: number, level = 0): void {
    if (n <= 0) return;
    const blocks = Math.ceil(n / BLOCK);
    const sums = this.pool.get(`scan-sums-${level}`, blocks * 4);
    const u = this.uniforms.u32([n]);
    dispatch(pass, this.scanPipe, bindGroup(this.device, this.scanPipe, [u, data, sums]), blocks);
    if (blocks > 1) {
      this.encode(pass, sums, blocks, level + 1);
      dispatch(pass, this.addPipe, bindGroup(this.device, this.addPipe, [u, data, sums]), blocks);
    }
  }

  bytes(): number {
    return this.pool.bytes();
  }
}
