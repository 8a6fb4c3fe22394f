/**
 * Binary-descriptor matching by Hamming distance (plain JS so the matching workers can load it
 * without a TypeScript loader). Descriptors are `words` Uint32 each.
 *
 * The nearest-two search has three CPU kernels with identical outputs: WebAssembly SIMD (default),
 * WebAssembly scalar, plain JS; each falls back to the next where it cannot run. The GPU matcher
 * (src/gpu/match/) computes the same nearest-two table, and ratioCandidates / mutualMatches turn
 * either into the same matches. Tie rule everywhere: the lowest index among equally near wins.
 */

import { nearestTwoWasm, simdAvailable } from './hamming-wasm.mjs';

/** @type {'simd' | 'scalar' | 'js'} */
let kernel = 'simd';
/** Tests and the benchmark compare the kernels. */
export function setKernel(k) { kernel = k; }

function popcnt(x) {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Nearest and second-nearest of each row of A in B; the scan over a candidate stops as soon as
 * its partial distance reaches the current second best (it can no longer matter). */
function nearestTwo(A, nA, B, nB, W, rows, best, d1, d2) {
  if (kernel === 'simd' && nearestTwoWasm(A, B, nB, W, rows, best, d1, d2, true)) return;
  if (kernel !== 'js' && nearestTwoWasm(A, B, nB, W, rows, best, d1, d2, false)) return;
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
 * The A rows whose nearest B passes the absolute cap and Lowe's ratio test (`cand`, ascending),
 * and the distinct B rows they picked (`rows`, ascending), which need the reverse search.
 */
export function ratioCandidates(best, d1, d2, nA, ratio, maxDist) {
  const cand = [];
  let maxPick = -1;
  for (let i = 0; i < nA; i++) if (best[i] > maxPick) maxPick = best[i];
  const picked = new Uint8Array(maxPick + 1);
  for (let i = 0; i < nA; i++) {
    if (best[i] < 0 || d1[i] > maxDist || d1[i] >= ratio * d2[i]) continue;
    cand.push(i);
    picked[best[i]] = 1;
  }
  const rows = [];
  for (let j = 0; j < picked.length; j++) if (picked[j]) rows.push(j);
  return { cand: Int32Array.from(cand), rows: Int32Array.from(rows) };
}

/** Interleaved (iA, iB) for the candidates whose pick picks them back (the mutual check). */
export function mutualMatches(cand, best, rbest) {
  const out = [];
  for (const i of cand) if (rbest[best[i]] === i) out.push(i, best[i]);
  return Uint32Array.from(out);
}

/**
 * Matches A→B with Lowe's ratio test, an absolute distance cap and a mutual (cross) check.
 * Returns interleaved index pairs (iA, iB) as Uint32Array.
 */
export function matchDescriptors(A, nA, B, nB, words, ratio, maxDist) {
  const best = new Int32Array(nA), d1 = new Int32Array(nA), d2 = new Int32Array(nA);
  const all = new Int32Array(nA);
  for (let i = 0; i < nA; i++) all[i] = i;
  const rbest = new Int32Array(nB).fill(-1);
  if (kernel === 'simd' && simdAvailable(words)) {
    // one pass: the SIMD kernel also keeps every B descriptor's nearest A row (the reverse best)
    nearestTwoWasm(A, B, nB, words, all, best, d1, d2, true, rbest);
    return mutualMatches(ratioCandidates(best, d1, d2, nA, ratio, maxDist).cand, best, rbest);
  }
  nearestTwo(A, nA, B, nB, words, all, best, d1, d2);
  const { cand, rows } = ratioCandidates(best, d1, d2, nA, ratio, maxDist);
  // reverse search only for the B descriptors that some A descriptor picked
  const rd1 = new Int32Array(nB), rd2 = new Int32Array(nB);
  nearestTwo(B, nB, A, nA, words, rows, rbest, rd1, rd2);
  return mutualMatches(cand, best, rbest);
}

/**
 * The size of the largest group of matches that agree, within ±maxAngleDeg, on the in-plane
 * rotation between the two images (keypoint angle in B minus angle in A) and, within ±maxOctaves,
 * on the scale ratio (log2 of size in B over size in A), taking each match in turn as the group's
 * centre. Matches between views of the same surface share roughly one rotation and scale; chance
 * matches between unrelated images spread over all of them. `kpA` / `kpB`: x, y, size, angle
 * (degrees) per keypoint; `m`: interleaved (iA, iB). O(matches²), for the few hundred matches of a
 * pre-check.
 */
export function consistentMatches(kpA, kpB, m, maxAngleDeg, maxOctaves) {
  const n = m.length >> 1;
  const rot = new Float64Array(n), scale = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const a = m[2 * k] * 4, b = m[2 * k + 1] * 4;
    rot[k] = kpB[b + 3] - kpA[a + 3];
    scale[k] = Math.log2(kpB[b + 2] / kpA[a + 2]);
  }
  let best = 0;
  for (let k = 0; k < n; k++) {
    let count = 0;
    for (let l = 0; l < n; l++) {
      let d = Math.abs(rot[l] - rot[k]) % 360;
      if (d > 180) d = 360 - d;
      if (d <= maxAngleDeg && Math.abs(scale[l] - scale[k]) <= maxOctaves) count++;
    }
    if (count > best) best = count;
  }
  return best;
}

/**
 * matchDescriptors behind an overlap pre-check: the `strongest` first rows of each side (features
 * are stored strongest first) are matched the same way, and when fewer than `minConsistent` of
 * those matches agree on one rotation and scale (consistentMatches) the pair is taken not to
 * overlap: no full match, no matches (`skipped`). At 1000 of 5000 rows the pre-check costs about
 * (1000 / 5000)² = 4 % of a full match. When neither side has more rows than that, the pre-check's
 * matches are the full matches.
 */
export function matchWithPrecheck(A, nA, kpA, B, nB, kpB, words, ratio, maxDist, precheck) {
  const sA = Math.min(nA, precheck.strongest), sB = Math.min(nB, precheck.strongest);
  const pre = matchDescriptors(A.subarray(0, sA * words), sA, B.subarray(0, sB * words), sB, words, ratio, maxDist);
  if (consistentMatches(kpA, kpB, pre, precheck.maxAngleDeg, precheck.maxOctaves) < precheck.minConsistent) return { m: new Uint32Array(0), skipped: true };
  if (sA === nA && sB === nB) return { m: pre, skipped: false };
  return { m: matchDescriptors(A, nA, B, nB, words, ratio, maxDist), skipped: false };
}
