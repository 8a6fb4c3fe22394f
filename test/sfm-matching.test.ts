/** Descriptor matching (WebAssembly SIMD, scalar and JS kernels agree with a brute-force reference) and pair selection. */
import { describe, expect, it } from 'vitest';
import { matchDescriptors, setKernel } from '../src/sfm/hamming.mjs';
import { readFileSync } from 'node:fs';
import { selectPairs } from '../src/sfm/pairs.js';
import { parseIntrinsics } from '../src/sfm/intrinsics.js';
import { mulberry32 } from '../src/util/rng.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../src/util/errors.js';

function popcount(x: number): number {
  let c = 0;
  for (let v = x >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}

/** B = noisy copies of A (shuffled) plus distractors. */
function makeDescriptors(n: number, words: number, seed: number) {
  const rng = mulberry32(seed);
  const A = new Uint32Array(n * words);
  for (let i = 0; i < A.length; i++) A[i] = Math.floor(rng() * 2 ** 32) >>> 0;
  const nB = n + 100;
  const B = new Uint32Array(nB * words);
  const perm = Array.from({ length: n }, (_, i) => i).sort(() => rng() - 0.5);
  for (let i = 0; i < n; i++) {
    for (let w = 0; w < words; w++) {
      let v = A[perm[i]! * words + w]!;
      if (rng() < 0.4) v ^= 1 << Math.floor(rng() * 32); // a few flipped bits
      B[i * words + w] = v >>> 0;
    }
  }
  for (let i = n * words; i < B.length; i++) B[i] = Math.floor(rng() * 2 ** 32) >>> 0;
  return { A, B, nB, perm };
}

function reference(A: Uint32Array, nA: number, B: Uint32Array, nB: number, W: number, ratio: number, maxDist: number): string[] {
  const dist = (a: Uint32Array, i: number, b: Uint32Array, j: number) => { let d = 0; for (let w = 0; w < W; w++) d += popcount(a[i * W + w]! ^ b[j * W + w]!); return d; };
  const nn = (a: Uint32Array, na: number, b: Uint32Array, nb: number, i: number) => {
    let b1 = Infinity, b2 = Infinity, bi = -1;
    for (let j = 0; j < nb; j++) { const d = dist(a, i, b, j); if (d < b1) { b2 = b1; b1 = d; bi = j; } else if (d < b2) b2 = d; }
    void na;
    return { bi, b1, b2 };
  };
  const out: string[] = [];
  for (let i = 0; i < nA; i++) {
    const f = nn(A, nA, B, nB, i);
    if (f.b1 > maxDist || f.b1 >= ratio * f.b2) continue;
    if (nn(B, nB, A, nA, f.bi).bi === i) out.push(`${i}-${f.bi}`);
  }
  return out;
}

const kernels = ['simd', 'scalar', 'js'] as const;

function matchStrings(m: Uint32Array): string[] {
  const got: string[] = [];
  for (let k = 0; k < m.length; k += 2) got.push(`${m[k]}-${m[k + 1]}`);
  return got;
}

describe('binary descriptor matching', () => {
  for (const words of [16, 8, 6, 5]) { // 6 and 5 words: the SIMD (and for 5 the scalar) kernel falls back
    it(`SIMD, scalar wasm and JS kernels equal the brute-force reference (${words * 32} bits)`, () => {
      const { A, B, nB, perm } = makeDescriptors(300, words, words);
      const ref = reference(A, 300, B, nB, words, 0.8, words * 8);
      for (const k of kernels) {
        setKernel(k);
        expect(matchStrings(matchDescriptors(A, 300, B, nB, words, 0.8, words * 8)), k).toEqual(ref);
      }
      setKernel('simd');
      // the noisy copies are found: A[perm[i]] ↔ B[i]
      expect(ref.length).toBeGreaterThan(290);
      for (const s of ref) { const [i, j] = s.split('-').map(Number); expect(perm[j!]).toBe(i); }
    });
  }

  it('ties go to the lowest index on every kernel (duplicates, odd sizes, a single candidate)', () => {
    const words = 16;
    const rng = mulberry32(7);
    // B holds two copies of each A row with one different bit flipped (both at distance 1, the
    // later one must lose) and one with two bits flipped; A's last row repeats its first (the
    // reverse search must pick row 0). 13 rows: not a multiple of the SIMD block.
    const nA = 13;
    const A = Uint32Array.from({ length: nA * words }, () => Math.floor(rng() * 2 ** 32) >>> 0);
    A.copyWithin((nA - 1) * words, 0, words);
    const nB = 3 * nA;
    const B = new Uint32Array(nB * words);
    for (let i = 0; i < nA; i++) {
      for (let w = 0; w < words; w++) {
        const v = A[i * words + w]!;
        B[i * words + w] = (v ^ (w === 0 ? 3 : 0)) >>> 0;
        B[(nA + i) * words + w] = (v ^ (w === 1 ? 1 : 0)) >>> 0;
        B[(2 * nA + i) * words + w] = (v ^ (w === 2 ? 1 : 0)) >>> 0;
      }
    }
    // ratio 1.01 lets equal first and second distances pass, so the tie decides the match
    const ref = reference(A, nA, B, nB, words, 1.01, words * 32);
    expect(ref).toEqual(Array.from({ length: nA - 1 }, (_, i) => `${i}-${nA + i}`));
    for (const k of kernels) {
      setKernel(k);
      expect(matchStrings(matchDescriptors(A, nA, B, nB, words, 1.01, words * 32)), k).toEqual(ref);
      // one candidate only: d2 stays "infinite", the ratio test passes
      expect(matchStrings(matchDescriptors(A, 1, B, 1, words, 0.8, words * 32)), k).toEqual(reference(A, 1, B, 1, words, 0.8, words * 32));
      expect(matchDescriptors(A, nA, B, 0, words, 0.8, words * 32).length, k).toBe(0);
    }
    setKernel('simd');
  });

  it('real AKAZE descriptors (800 + 800 from moldGoldCape): every kernel equals the reference', () => {
    const { A, B, n, words } = loadAkazePair();
    const ref = reference(A, n, B, n, words, 0.8, Math.round(words * 32 * 0.3));
    expect(ref.length).toBeGreaterThan(50);
    for (const k of kernels) {
      setKernel(k);
      expect(matchStrings(matchDescriptors(A, n, B, n, words, 0.8, Math.round(words * 32 * 0.3))), k).toEqual(ref);
    }
    setKernel('simd');
  });
});

/** Two real AKAZE descriptor sets (486 bits padded to 16 words): the first 800 of two neighbouring photos. */
function loadAkazePair() {
  const buf = readFileSync(new URL('./fixtures/akaze-pair-800.bin', import.meta.url));
  const all = new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const n = 800, words = 16;
  return { A: all.subarray(0, n * words), B: all.subarray(n * words), n, words };
}

describe('pair selection', () => {
  it('exhaustive lists every pair once', () => {
    const s = selectPairs(6, 'exhaustive');
    expect(s.pairs.length).toBe(15);
    expect(new Set(s.pairs.map((p) => `${p.i},${p.j}`)).size).toBe(15);
  });
  it('auto picks sequential for long unlocated video sequences, with a window and loop offsets', () => {
    const s = selectPairs(100, 'auto', { images: Array.from({ length: 100 }, (_, i) => ({ videoTime: i / 2 })) });
    expect(s.kind).toBe('sequential');
    const has = (i: number, j: number) => s.pairs.some((p) => p.i === i && p.j === j);
    expect(has(0, 1) && has(0, 10) && !has(0, 11) && has(0, 20) && has(0, 40) && has(0, 80)).toBe(true);
    expect(s.pairs.every((p) => p.i < p.j)).toBe(true);
    // the window's pairs are marked as neighbours in capture order (no overlap pre-check), loop offsets not
    expect(s.pairs.every((p) => (p.j - p.i <= 10) === (p.adjacent === true))).toBe(true);
  });
  it('gps adds the nearest located images', () => {
    // a walk out and back: image i and image 59 - i stand at the same place
    const enu: Array<[number, number, number]> = Array.from({ length: 60 }, (_, i) => [Math.min(i, 59 - i), i < 30 ? 0 : 0.1, 0]);
    const times = Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(2024, 4, 1, 12, 0, i * 5)).toISOString());
    const s = selectPairs(60, 'auto', { images: enu.map((p, i) => ({ enu: p, time: times[i] })), overlap: 2, gpsNeighbours: 3 });
    expect(s.kind).toBe('gps');
    const has = (i: number, j: number) => s.pairs.some((p) => p.i === i && p.j === j);
    expect(has(0, 59)).toBe(true); // GPS neighbours, far apart in the sequence
    expect(has(10, 49)).toBe(true);
    expect(has(0, 30)).toBe(false);
  });
});

describe('--intrinsics files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-intr-'));
  const write = (name: string, text: string) => { const f = path.join(dir, name); writeFileSync(f, text); return f; };
  it('reads fx fy cx cy [k1 k2], a 3×3 K and KITTI projection matrices', () => {
    expect(parseIntrinsics(write('a.txt', '100 101 50 40\n'))).toEqual({ fx: 100, fy: 101, cx: 50, cy: 40 });
    expect(parseIntrinsics(write('b.txt', '100 101 50 40 -0.1 0.01'))).toMatchObject({ k1: -0.1, k2: 0.01 });
    expect(parseIntrinsics(write('K.txt', '2759.48 0 1520.69\n0 2764.16 1006.81\n0 0 1\n'))).toEqual({ fx: 2759.48, fy: 2764.16, cx: 1520.69, cy: 1006.81 });
    const P = '7.07e+02 0 6.01e+02 0 0 7.07e+02 1.83e+02 0 0 0 1 0';
    expect(parseIntrinsics(write('calib.txt', `${P}\n${P.replace(' 0 0 7', ' -379 0 7')}\n`))).toEqual({ fx: 707, fy: 707, cx: 601, cy: 183 });
    expect(parseIntrinsics(write('calib2.txt', `P0: ${P}\nP1: ${P}\n`)).fx).toBe(707);
  });
  it('rejects anything else with a one-line error naming the file', () => {
    const f = write('bad.txt', '1 2 3');
    expect(() => parseIntrinsics(f)).toThrow(UserError);
    expect(() => parseIntrinsics(f)).toThrow(/bad\.txt/);
    expect(() => parseIntrinsics(path.join(dir, 'missing.txt'))).toThrow(/not found/);
  });
});
