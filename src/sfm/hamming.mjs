/**
 * Binary-descriptor matching by Hamming distance (plain JS so the matching workers can load it
 * without a TypeScript loader). Descriptors are `words` Uint32 each.
 */

import { nearestTwoWasm } from './hamming-wasm.mjs';

let useWasm = true;
/** Tests compare both paths. */
export function setUseWasm(on) { useWasm = on; }

function popcnt(x) {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Nearest and second-nearest of each row of A in B; the scan over a candidate stops as soon as
 * its partial distance reaches the current second best (it can no longer matter). */
function nearestTwo(A, nA, B, nB, W, rows, best, d1, d2) {
  if (useWasm && nearestTwoWasm(A, B, nB, W, rows, best, d1, d2)) return;
  for (const i of rows) {
    let b1 = 1 << 30, b2 = 1 << 30, bi = -1;
    const oa = i * W;
    for (let j = 0; j < nB; j++) {
      const ob = j * W;
      let d = 0;
      let w = 0;
      for (; w + 4 <= W; w += 4) {
        d += popcnt(A[oa + w] ^ B[ob + w]) + popcnt(A[oa + w + 1] ^ B[ob + w + 1]) + popcnt(A[oa + w + 2] ^ B[ob + w + 2]) + popcnt(A[oa + w + 3] ^ B[ob + w + 3]);
        if (d >= b2) break;
      }
      if (d >= b2) continue;
      for (; w < W; w++) d += popcnt(A[oa + w] ^ B[ob + w]);
      if (d < b1) { b2 = b1; b1 = d; bi = j; } else if (d < b2) b2 = d;
    }
    best[i] = bi; d1[i] = b1; d2[i] = b2;
  }
}

/**
 * Matches A→B with Lowe's ratio test, an absolute distance cap and a mutual (cross) check.
 * Returns interleaved index pairs (iA, iB) as Uint32Array.
 */
export function matchDescriptors(A, nA, B, nB, words, ratio, maxDist) {
  const best = new Int32Array(nA), d1 = new Int32Array(nA), d2 = new Int32Array(nA);
  const all = new Int32Array(nA);
  for (let i = 0; i < nA; i++) all[i] = i;
  nearestTwo(A, nA, B, nB, words, all, best, d1, d2);
  const cand = [];
  const need = new Set();
  for (let i = 0; i < nA; i++) {
    if (best[i] < 0 || d1[i] > maxDist || d1[i] >= ratio * d2[i]) continue;
    cand.push(i);
    need.add(best[i]);
  }
  // reverse search only for the B descriptors that some A descriptor picked
  const rows = Int32Array.from(need);
  const rbest = new Int32Array(nB).fill(-1), rd1 = new Int32Array(nB), rd2 = new Int32Array(nB);
  nearestTwo(B, nB, A, nA, words, rows, rbest, rd1, rd2);
  const out = [];
  for (const i of cand) if (rbest[best[i]] === i) out.push(i, best[i]);
  return Uint32Array.from(out);
}
