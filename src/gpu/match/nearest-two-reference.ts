/**
 * TypeScript reference of the WGSL nearest-two Hamming kernel (hamming-nn2.ts), written the
 * same way: for each listed A row, scan B in ascending order; a candidate replaces the best only
 * when strictly nearer (so the lowest index wins ties, and d2 may equal d1). No candidate: best
 * −1, d1 = d2 = 2^30; one candidate: d2 = 2^30.
 */
import type { NearestTwo } from './hamming-nn2.js';

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Nearest two of A rows `rows` (all rows of A when null) in B; results per position in `rows`. */
export function nearestTwoReference(A: Uint32Array, nA: number, B: Uint32Array, nB: number, words: number, rows: Int32Array | null): NearestTwo {
  const n = rows ? rows.length : nA;
  const best = new Int32Array(n), d1 = new Int32Array(n), d2 = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const oa = (rows ? rows[r]! : r) * words;
    let b1 = 1 << 30, b2 = 1 << 30, bi = -1;
    for (let j = 0; j < nB; j++) {
      let d = 0;
      for (let w = 0; w < words; w++) d += popcount32(A[oa + w]! ^ B[j * words + w]!);
      if (d < b1) { b2 = b1; b1 = d; bi = j; } else if (d < b2) b2 = d;
    }
    best[r] = bi; d1[r] = b1; d2[r] = b2;
  }
  return { best, d1, d2 };
}
