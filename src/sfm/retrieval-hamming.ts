/**
 * Nearest centre of each binary descriptor (Hamming distance), for the vocabulary tree: the
 * WebAssembly scan of the matcher (SIMD or native 64-bit popcount, 4–12× the JS bit tricks) when the
 * descriptor size allows it, plain JS otherwise.
 */
import { nearestTwoWasm, simdAvailable } from './hamming-wasm.mjs';

/** Number of set bits of a 32-bit integer. */
function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

let useWasm = true;
/** Tests compare both paths. */
export function setRetrievalWasm(on: boolean): void { useWasm = on; }

let rowIds = new Int32Array(0), second = new Int32Array(0);

/**
 * For each of the `m` descriptors packed in `rows` (`W` Uint32 each), the index of the nearest of
 * the `count` centres packed in `centres` (the first of equals) into `best`, its distance into `dist`.
 */
export function nearestCentres(rows: Uint32Array, m: number, centres: Uint32Array, count: number, W: number, best: Int32Array, dist: Int32Array): void {
  if (m === 0) return;
  if (rowIds.length < m) {
    rowIds = Int32Array.from({ length: Math.max(m, 2 * rowIds.length) }, (_, i) => i);
    second = new Int32Array(rowIds.length);
  }
  if (useWasm && nearestTwoWasm(rows.subarray(0, m * W), centres, count, W, rowIds.subarray(0, m), best, dist, second, simdAvailable(W))) return;
  for (let i = 0; i < m; i++) {
    let b = 0, bd = 1 << 30;
    const a = i * W;
    for (let c = 0; c < count; c++) {
      const o = c * W;
      let d = 0;
      for (let w = 0; w < W && d < bd; w++) d += popcount(rows[a + w]! ^ centres[o + w]!);
      if (d < bd) { bd = d; b = c; }
    }
    best[i] = b;
    dist[i] = bd;
  }
}
