/**
 * Brute-force nearest-two Hamming search on the GPU, for binary descriptors of `words` u32.
 * One invocation per A row keeps its descriptor in registers; the workgroup streams B through
 * workgroup memory in tiles of 64 descriptors, each scanned in ascending order with the CPU
 * matcher's tie rule (strictly nearer replaces the best: the lowest index wins), so the result
 * equals nearestTwoReference (nearest-two-reference.ts) and the WebAssembly / JS kernels exactly.
 * The ratio test and mutual check stay on the CPU (src/sfm/matching.ts): they are cheap.
 */
import { BufferPool, bindGroup, computePipeline, dispatch, readBuffer, upload } from '../buffers.js';
import { UniformCache } from '../uniforms.js';

/** Per listed row: nearest B index (−1: none), its distance, the second-nearest distance. */
export interface NearestTwo {
  best: Int32Array;
  d1: Int32Array;
  d2: Int32Array;
}

const WG = 64;

/** words a multiple of 4 read as vec4<u32> (AKAZE: 16, ORB: 8); other sizes one u32 at a time */
function nearestTwoWgsl(words: number): string {
  const vec = words % 4 === 0;
  const V = vec ? words / 4 : words, T = vec ? 'vec4<u32>' : 'u32';
  const count = vec ? 'dot(countOneBits(a[w] ^ tile[jj * V + w]), vec4<u32>(1u))' : 'countOneBits(a[w] ^ tile[jj * V + w])';
  return /* wgsl */ `
const V: u32 = ${V}u;
const TILE: u32 = ${WG}u;
struct P { nRows: u32, nB: u32, identity: u32, _pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<${T}>;
@group(0) @binding(2) var<storage, read> B: array<${T}>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read_write> result: array<u32>;
var<workgroup> tile: array<${T}, ${WG * V}>;

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = (wid.x + wid.y * nwg.x) * TILE + t;
  let live = r < p.nRows;
  var row = 0u;
  if (live) { row = select(rows[r], r, p.identity == 1u); }
  var a: array<${T}, V>;
  for (var w = 0u; w < V; w++) { a[w] = A[row * V + w]; }
  var b1 = 1u << 30u;
  var b2 = 1u << 30u;
  var bi = 0xffffffffu;
  // every invocation, live or not, helps load the tiles (barriers need uniform control flow)
  for (var base = 0u; base < p.nB; base += TILE) {
    let n = min(TILE, p.nB - base);
    workgroupBarrier();
    for (var k = t; k < n * V; k += TILE) { tile[k] = B[base * V + k]; }
    workgroupBarrier();
    for (var jj = 0u; jj < n; jj++) {
      var d = 0u;
      for (var w = 0u; w < V; w++) { d += ${count}; }
      if (d < b1) { b2 = b1; b1 = d; bi = base + jj; } else if (d < b2) { b2 = d; }
    }
  }
  if (live) {
    result[3u * r] = bi;
    result[3u * r + 1u] = b1;
    result[3u * r + 2u] = b2;
  }
}
`;
}

export class GpuNearestTwo {
  private readonly pipelines = new Map<number, Promise<GPUComputePipeline>>();
  private readonly pool: BufferPool;
  private readonly uniforms: UniformCache;

  constructor(readonly device: GPUDevice) {
    this.pool = new BufferPool(device);
    this.uniforms = new UniformCache(device);
  }

  private pipeline(words: number): Promise<GPUComputePipeline> {
    let p = this.pipelines.get(words);
    if (!p) {
      p = computePipeline(this.device, `hamming-nn2-${words}`, nearestTwoWgsl(words));
      this.pipelines.set(words, p);
    }
    return p;
  }

  /** Compile the kernel for `words` ahead of the first search (so a timing excludes it). */
  async prepare(words: number): Promise<void> {
    await this.pipeline(words);
  }

  /** Nearest two in B of A's rows `rows` (all nA rows when null); results per position in `rows`. */
  async search(A: Uint32Array, nA: number, B: Uint32Array, nB: number, words: number, rows: Int32Array | null): Promise<NearestTwo> {
    const n = rows ? rows.length : nA;
    const out: NearestTwo = { best: new Int32Array(n), d1: new Int32Array(n), d2: new Int32Array(n) };
    if (n === 0) return out;
    const pipe = await this.pipeline(words);
    const d = this.device;
    const bufA = this.pool.get('nn2-a', nA * words * 4), bufB = this.pool.get('nn2-b', Math.max(1, nB) * words * 4);
    const bufRows = this.pool.get('nn2-rows', rows ? rows.byteLength : 4), bufOut = this.pool.get('nn2-out', n * 12);
    upload(d, bufA, A.subarray(0, nA * words));
    if (nB > 0) upload(d, bufB, B.subarray(0, nB * words));
    if (rows) upload(d, bufRows, rows);
    const u = this.uniforms.u32([n, nB, rows ? 0 : 1, 0]);
    const enc = d.createCommandEncoder();
    const pass = enc.beginComputePass();
    dispatch(pass, pipe, bindGroup(d, pipe, [u, bufA, bufB, bufRows, bufOut]), Math.ceil(n / WG));
    pass.end();
    d.queue.submit([enc.finish()]);
    const res = new Int32Array(await readBuffer(d, bufOut, n * 12));
    this.pool.retire();
    for (let r = 0; r < n; r++) {
      out.best[r] = res[3 * r]!; out.d1[r] = res[3 * r + 1]!; out.d2[r] = res[3 * r + 2]!;
    }
    return out;
  }

  destroy(): void {
    this.pool.destroy();
  }
}
