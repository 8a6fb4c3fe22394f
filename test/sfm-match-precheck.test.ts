/**
 * The overlap pre-check of matching (matchWithPrecheck, consistentMatches): real AKAZE features of
 * neighbouring photos of the Lund sample pass it and keep their full matches; frames of the
 * dash-cam sample (another place) against those photos are mostly skipped (chance matches agree
 * on a rotation and scale now and then: the rule trades a few of these for keeping weak true
 * pairs), and cached as skipped; the GPU matcher (lavapipe here) decides the same.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { consistentMatches } from '../src/sfm/hamming.mjs';
import { SfmDatabase } from '../src/sfm/database.js';
import { extractFeatures, defaultFeatureOptions } from '../src/sfm/features.js';
import { matchPairs, defaultMatchOptions } from '../src/sfm/matching.js';
import { findFfmpeg } from '../src/io/ffmpeg.js';
import { getDevice } from '../src/gpu/device.js';
import { mulberry32 } from '../src/util/rng.js';
import type { ImagePair } from '../src/sfm/types.js';

describe('consistentMatches', () => {
  it('counts the largest group agreeing on rotation and scale, across the ±180° wrap', () => {
    const rng = mulberry32(5);
    const n = 40;
    const kpA = new Float32Array(n * 4), kpB = new Float32Array(n * 4);
    const m = new Uint32Array(n * 2);
    for (let k = 0; k < n; k++) {
      kpA[4 * k + 2] = 4 + rng() * 8; kpA[4 * k + 3] = rng() * 360;
      // the first 12: rotated by 175° ± 8° (some wrap past 360), scaled by 1.5 ± 10 %; the rest random
      const agree = k < 12;
      kpB[4 * k + 2] = kpA[4 * k + 2]! * (agree ? 1.5 * (0.9 + 0.2 * rng()) : 2 ** (4 * rng() - 2));
      kpB[4 * k + 3] = (kpA[4 * k + 3]! + (agree ? 167 + 16 * rng() : rng() * 360)) % 360;
      m[2 * k] = k; m[2 * k + 1] = k;
    }
    const c = consistentMatches(kpA, kpB, m, 20, 0.5);
    expect(c).toBeGreaterThanOrEqual(12);
    expect(c).toBeLessThan(17); // chance agreement of 28 random matches with the group stays small
    expect(consistentMatches(kpA, kpB, m.subarray(24), 20, 0.5)).toBeLessThan(6);
    expect(consistentMatches(kpA, kpB, new Uint32Array(0), 20, 0.5)).toBe(0);
  });
});

const ffmpeg = findFfmpeg();

describe.skipIf(!ffmpeg)('overlap pre-check on real photos', () => {
  it('keeps neighbouring photos with their full matches, skips another place and caches that', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-precheck-'));
    const lund = path.resolve(import.meta.dirname, '../samples/lund');
    const frames = [0.5, 1.5, 2.5, 3.5].map((t) => {
      const file = path.join(dir, `dashcam-${t}.jpg`);
      execFileSync(ffmpeg!, ['-v', 'error', '-ss', String(t), '-i', path.resolve(import.meta.dirname, '../samples/dashcam/solidWhiteRight-4s.mp4'), '-frames:v', '1', file]);
      return { name: path.basename(file), path: file };
    });
    const images = [...['01.jpg', '02.jpg', '03.jpg'].map((n) => ({ name: n, path: path.join(lund, n) })), ...frames];
    const db = new SfmDatabase(path.join(dir, 'db.sqlite'));
    try {
      const feats = await extractFeatures(db, images, { ...defaultFeatureOptions, maxImageSize: 800, workers: 1, silent: true });
      // the pre-check must look at a part of the features only, or it would not save anything
      for (const f of feats) expect(f.n).toBeGreaterThan(1000);
      const near: ImagePair[] = [{ i: 0, j: 1 }, { i: 1, j: 2 }, { i: 0, j: 2 }];
      const far: ImagePair[] = [];
      for (let i = 0; i < 3; i++) for (let j = 3; j < images.length; j++) far.push({ i, j });
      const pairs = [...near, ...far];
      const full = await matchPairs(db, feats, pairs, { ...defaultMatchOptions, backend: 'cpu', workers: 1, silent: true });
      for (let p = 0; p < near.length; p++) expect(full[p]!.length / 2).toBeGreaterThan(100);
      const checked = await matchPairs(db, feats, pairs, { ...defaultMatchOptions, pairSelection: 'retrieval', backend: 'cpu', workers: 1, silent: true });
      // overlapping pairs: exactly the full matches; the other place: mostly skipped, no matches
      for (let p = 0; p < near.length; p++) expect(Array.from(checked[p]!)).toEqual(Array.from(full[p]!));
      let skipped = 0;
      for (let p = near.length; p < pairs.length; p++) {
        expect(full[p]!.length).toBeGreaterThan(0); // the full match does find chance matches there
        if (checked[p]!.length === 0) skipped++;
        else expect(Array.from(checked[p]!)).toEqual(Array.from(full[p]!));
      }
      expect(skipped).toBeGreaterThanOrEqual(8); // of 12
      // skipped pairs are cached like any other: a rerun takes them from the database. Proof: the
      // frames' features replaced by a copy of photo 01's under their own keys (a recomputed
      // 01–frame pair would now match an image with itself)
      const swapped = feats.map((f, k) => (k >= 3 ? { ...feats[0]!, name: f.name, key: f.key } : f));
      const rerun = await matchPairs(db, swapped, pairs, { ...defaultMatchOptions, pairSelection: 'retrieval', backend: 'cpu', workers: 1, silent: true });
      expect(rerun.map((m) => m.length)).toEqual(checked.map((m) => m.length));
      // exhaustive selections are not pre-checked (their cache entries are the plain matches)
      const exhaustive = await matchPairs(db, feats, far, { ...defaultMatchOptions, pairSelection: 'exhaustive', backend: 'cpu', workers: 1, silent: true });
      expect(exhaustive.map((m) => m.length)).toEqual(full.slice(near.length).map((m) => m.length));
      // neither are neighbours in capture order (a sequential window): the same far pairs, marked
      // adjacent, get their full matches although the selection is pre-checked
      const asNeighbours = await matchPairs(db, feats, far.map((p) => ({ ...p, adjacent: true })), { ...defaultMatchOptions, pairSelection: 'sequential', backend: 'cpu', workers: 1, silent: true });
      expect(asNeighbours.map((m) => Array.from(m))).toEqual(full.slice(near.length).map((m) => Array.from(m)));
      if (await getDevice()) {
        for (const backend of ['gpu', 'measure'] as const) {
          const gdb = new SfmDatabase(path.join(dir, `${backend}.sqlite`));
          try {
            const onGpu = await matchPairs(gdb, feats, pairs, { ...defaultMatchOptions, pairSelection: 'retrieval', backend, workers: 1, silent: true });
            expect(onGpu.map((m) => Array.from(m)), backend).toEqual(checked.map((m) => Array.from(m)));
          } finally {
            gdb.close();
          }
        }
      }
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
