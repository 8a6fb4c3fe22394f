/**
 * Verification on worker threads gives exactly what the main thread gives: same geometries (same
 * seed per pair), same database rows, whatever the number of workers.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SfmDatabase } from '../src/sfm/database.js';
import { verifyPairs } from '../src/sfm/verify.js';
import { mulberry32 } from '../src/util/rng.js';
import type { ImagePair } from '../src/sfm/types.js';
import { guessedCamera, makeCapture, synthMatches } from './sfm-trust-scenes.js';

describe('verifyPairs on a worker pool', () => {
  it('matches the single-thread result pair for pair, and reads it back from the cache', async () => {
    const s = makeCapture({ views: 12, points: 400, noisePx: 0.5, seed: 5, baseline: 1.2, rotation: 0.1 });
    const cam = guessedCamera(s.truth.width, s.truth.height);
    const pairs: ImagePair[] = [];
    for (let i = 0; i < s.feats.length; i++) for (let j = i + 1; j < s.feats.length; j++) pairs.push({ i, j });
    const rng = mulberry32(9);
    const matches = pairs.map(({ i, j }) => synthMatches(s, i, j, rng));
    const cams = s.feats.map(() => cam), calibrated = s.feats.map(() => true);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-verify-pool-'));
    try {
      const opts = { maxError: 2, minInliers: 15, homographyRatio: 0.8, seed: 3, silent: true };
      const run = async (workers: number, file: string) => {
        const db = new SfmDatabase(path.join(dir, file));
        try { return await verifyPairs(db, s.feats, cams, calibrated, pairs, matches, { ...opts, workers }); } finally { db.close(); }
      };
      const one = await run(1, 'one.db');
      const two = await run(2, 'two.db'); // 66 pairs: enough for two workers (MIN_PAIRS_PER_WORKER)
      expect(two.length).toBe(pairs.length);
      expect(one.filter((g) => g.config !== 'degenerate').length).toBeGreaterThan(pairs.length / 2);
      for (let p = 0; p < pairs.length; p++) expect(two[p]).toEqual(one[p]);
      // the main thread wrote the workers' results: a second run is served from the cache
      const again = await run(2, 'two.db');
      for (let p = 0; p < pairs.length; p++) expect(again[p]).toEqual(one[p]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
