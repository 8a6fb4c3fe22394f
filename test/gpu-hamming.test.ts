/**
 * GPU nearest-two Hamming kernel vs its TypeScript reference, and the GPU matcher's final matches
 * (ratio test, cap, mutual check) vs the CPU workers' on planted and real AKAZE descriptors.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getDevice } from '../src/gpu/device.js';
import { GpuNearestTwo } from '../src/gpu/match/hamming-nn2.js';
import { nearestTwoReference } from '../src/gpu/match/nearest-two-reference.js';
import { matchPairs, defaultMatchOptions } from '../src/sfm/matching.js';
import { SfmDatabase } from '../src/sfm/database.js';
import { mulberry32 } from '../src/util/rng.js';
import type { FeatureSet } from '../src/sfm/types.js';

const ctx = await getDevice();

/** n random descriptors, then `dups` rows that copy earlier ones with 0–2 flipped bits (ties). */
function descriptors(n: number, words: number, seed: number, dups = 0): Uint32Array {
  const rng = mulberry32(seed);
  const D = Uint32Array.from({ length: (n + dups) * words }, () => Math.floor(rng() * 2 ** 32) >>> 0);
  for (let k = 0; k < dups; k++) {
    const src = Math.floor(rng() * n), dst = n + k;
    for (let w = 0; w < words; w++) D[dst * words + w] = D[src * words + w]!;
    const flips = k % 3;
    for (let f = 0; f < flips; f++) D[dst * words + Math.floor(rng() * words)]! ^= 1 << Math.floor(rng() * 32);
  }
  return D;
}

/** B: noisy copies of A's rows in shuffled order, their exact duplicates, and distractors. */
function plantedPair(n: number, words: number, seed: number) {
  const rng = mulberry32(seed);
  const A = descriptors(n, words, seed + 1);
  const nB = n + 40;
  const B = descriptors(nB, words, seed + 2);
  for (let i = 0; i < n - 20; i++) {
    const src = (i * 7) % n;
    for (let w = 0; w < words; w++) {
      let v = A[src * words + w]!;
      if (rng() < 0.5) v ^= 1 << Math.floor(rng() * 32);
      B[i * words + w] = v >>> 0;
    }
  }
  // the last 10 of the copies appear twice: equal distances, the lower index must win
  B.copyWithin((n - 10) * words, (n - 30) * words, (n - 20) * words);
  return { A, B, nB };
}

function features(name: string, desc: Uint32Array, n: number, words: number): FeatureSet {
  return { name, key: `${name}-${n}-${desc[0]}`, width: 100, height: 100, n, kp: new Float32Array(n * 4), desc, words, rgb: new Uint8Array(n * 3) };
}

function akazePair(): { A: Uint32Array; B: Uint32Array; n: number; words: number } {
  const buf = readFileSync(new URL('./fixtures/akaze-pair-800.bin', import.meta.url));
  const all = new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { A: all.subarray(0, 800 * 16), B: all.subarray(800 * 16), n: 800, words: 16 };
}

describe.skipIf(!ctx)('GPU Hamming nearest two', () => {
  it('equals the TypeScript reference: all rows, listed rows, ties, odd sizes, one candidate', async () => {
    const gpu = new GpuNearestTwo(ctx!.device);
    for (const [words, nA, nB] of [[16, 70, 130], [8, 129, 65], [6, 40, 33], [16, 5, 1]] as const) {
      const A = descriptors(nA - 10, words, words + nA, 10);
      const B = descriptors(nB - Math.min(nB - 1, 30), words, words + nB, Math.min(nB - 1, 30));
      // B also holds exact copies of A rows: distance 0 ties across both sets
      for (let k = 0; k < Math.min(5, nB); k++) B.copyWithin(k * words, k * 3 * words % (nA * words), (k * 3 * words % (nA * words)) + words);
      const all = await gpu.search(A, nA, B, nB, words, null);
      expect(all).toEqual(nearestTwoReference(A, nA, B, nB, words, null));
      const rows = Int32Array.from([nA - 1, 0, 3, 3, Math.floor(nA / 2)]);
      expect(await gpu.search(A, nA, B, nB, words, rows)).toEqual(nearestTwoReference(A, nA, B, nB, words, rows));
    }
    const none = await gpu.search(descriptors(3, 16, 1), 3, new Uint32Array(0), 0, 16, null);
    expect(Array.from(none.best)).toEqual([-1, -1, -1]);
    expect(none).toEqual(nearestTwoReference(descriptors(3, 16, 1), 3, new Uint32Array(0), 0, 16, null));
    gpu.destroy();
  });

  it('matchPairs gives the same matches on the GPU as on the CPU workers (planted and real AKAZE)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-gpu-match-'));
    try {
      const p = plantedPair(300, 16, 3), q = plantedPair(200, 8, 4), real = akazePair();
      const feats = [
        features('a', p.A, 300, 16), features('b', p.B, p.nB, 16),
        features('c', q.A, 200, 8), features('d', q.B, q.nB, 8),
        features('e', real.A, real.n, 16), features('f', real.B, real.n, 16),
      ];
      const pairs = [{ i: 0, j: 1 }, { i: 1, j: 0 }, { i: 2, j: 3 }, { i: 4, j: 5 }, { i: 5, j: 4 }];
      const run = async (backend: 'gpu' | 'cpu', file: string) => {
        const db = new SfmDatabase(path.join(dir, file));
        try {
          return await matchPairs(db, feats, pairs, { ...defaultMatchOptions, backend, workers: 1, silent: true });
        } finally {
          db.close();
        }
      };
      const onGpu = await run('gpu', 'gpu.db'), onCpu = await run('cpu', 'cpu.db');
      expect(onGpu.map((m) => Array.from(m))).toEqual(onCpu.map((m) => Array.from(m)));
      expect(onCpu[0]!.length / 2).toBeGreaterThan(250); // the planted copies are found
      expect(onCpu[3]!.length / 2).toBeGreaterThan(50); // real photos match
      // measure mode times one pair on each (lavapipe here) and must give the same matches whichever it picks
      const auto = await (async () => {
        const db = new SfmDatabase(path.join(dir, 'auto.db'));
        try { return await matchPairs(db, feats, pairs, { ...defaultMatchOptions, backend: 'measure', workers: 1, silent: true }); } finally { db.close(); }
      })();
      expect(auto.map((m) => Array.from(m))).toEqual(onCpu.map((m) => Array.from(m)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
