/**
 * The SfM stages at (small) scale on the synthetic street walk of src/synthetic/sfm-capture.ts:
 * features given directly (exact projections + noise, planted descriptors, distractors), then the
 * real sequential pair selection, matching, verification and incremental mapping. Every image must
 * register and the poses must match the truth. bench/sfm-scale.ts runs the same at 100–500 images.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { streetFeatureCapture } from '../src/synthetic/sfm-capture.js';
import { selectPairs } from '../src/sfm/pairs.js';
import { matchPairs, defaultMatchOptions } from '../src/sfm/matching.js';
import { verifyPairs } from '../src/sfm/verify.js';
import { IncrementalMapper, defaultMapperOptions } from '../src/sfm/mapper.js';
import { SfmDatabase } from '../src/sfm/database.js';
import { evaluatePoses } from '../src/eval/poses.js';

describe('sfm on a 60-image synthetic street walk', () => {
  it('registers every image with the true poses', async () => {
    const n = 60;
    const cap = streetFeatureCapture({ images: n, seed: 3 });
    expect(cap.feats.every((f) => f.n > 300)).toBe(true);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-sfm-scale-'));
    const db = new SfmDatabase(path.join(dir, 'database.sqlite'));
    try {
      const { pairs } = selectPairs(n, 'sequential');
      const matches = await matchPairs(db, cap.feats, pairs, { ...defaultMatchOptions, silent: true });
      const cams = cap.feats.map(() => cap.camera);
      const geoms = await verifyPairs(db, cap.feats, cams, cams.map(() => true), pairs, matches, { maxError: 2, minInliers: 15, homographyRatio: 0.8, seed: 1, silent: true });
      // neighbours overlap: (nearly) every pair one step apart is verified
      const adjacent = pairs.map((p, k) => [p, geoms[k]!] as const).filter(([p]) => p.j === p.i + 1);
      expect(adjacent.filter(([, g]) => g.config !== 'degenerate').length).toBeGreaterThanOrEqual(n - 2);
      const res = new IncrementalMapper(
        { feats: cap.feats, cameras: [cap.camera], imageCamera: cap.feats.map(() => 0), refine: [{ focal: false, principalPoint: false, distortion: false }], pairs, geoms, trustedFocal: true },
        { ...defaultMapperOptions, maxError: 4, seed: 1, silent: true },
      ).run();
      expect(res.stats.registered).toBe(n);
      const ev = evaluatePoses(res.model, new Map(cap.feats.map((f, i) => [f.name, cap.views[i]!])));
      expect(ev.registered).toBe(n);
      expect(ev.rotErrDeg.median).toBeLessThan(0.05);
      expect(ev.rotErrDeg.max).toBeLessThan(0.15);
      expect(ev.centerErrRel.max).toBeLessThan(0.002);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
