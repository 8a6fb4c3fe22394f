/** Whether nearestTwoWasm can run the SIMD kernel for this descriptor size here. */
export function simdAvailable(words: number): boolean;
/**
 * best/d1/d2 for the given rows of A against all of B (`words` Uint32 per descriptor); the SIMD
 * kernel with `useSimd`, optionally each B descriptor's nearest row into `colBest`. False when the
 * kernel cannot run here (the caller falls back).
 */
export function nearestTwoWasm(
  A: Uint32Array, B: Uint32Array, nB: number, words: number, rows: Int32Array,
  best: Int32Array, d1: Int32Array, d2: Int32Array, useSimd?: boolean, colBest?: Int32Array | null,
): boolean;
