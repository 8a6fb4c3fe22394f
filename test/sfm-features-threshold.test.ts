/**
 * The adaptive AKAZE start threshold (features.ts adaptiveStart, feature-worker.mjs): starting
 * above the nominal threshold but below the response of the maxFeatures-th keypoint keeps the
 * nominal strongest maxFeatures; a start that leaves too few keypoints is redone at the nominal
 * threshold; and extractFeatures with the adaptive start gives (almost) the nominal features,
 * the same on every run. Real photos (two LLFF fern frames, ~12 000 keypoints each at 1600 px).
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SfmDatabase } from '../src/sfm/database.js';
import { extractFeatures, defaultFeatureOptions } from '../src/sfm/features.js';
import { runOnWorkers } from '../src/sfm/worker-pool.js';
import type { FeatureSet } from '../src/sfm/types.js';

// every message features.ts sends its workers, to see which start threshold each image got
const asked = vi.hoisted(() => [] as Array<Record<string, unknown>>);
vi.mock('../src/sfm/worker-pool.js', async (importOriginal) => {
  const pool = await importOriginal<typeof import('../src/sfm/worker-pool.js')>();
  type Ask<R> = (msg: Record<string, unknown>, transfer?: readonly ArrayBuffer[]) => Promise<R>;
  const runOnWorkers = <J, R>(script: URL, jobs: readonly J[], workers: number | undefined, handle: (job: J, ask: Ask<R>) => Promise<void>) =>
    pool.runOnWorkers<J, R>(script, jobs, workers, (job, ask) => handle(job, (msg, transfer) => { asked.push(msg); return ask(msg, transfer); }));
  return { ...pool, runOnWorkers };
});

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fern = path.resolve(repoRoot, '../shared/datasets/llff_fern/images');
const haveFern = existsSync(path.join(fern, '000.png'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'r2s-feat-th-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Reply { ok: boolean; n: number; kp: Float32Array; desc: Uint32Array; words: number; rN: number; reran: boolean }

/** Keypoint (position, size, angle) + descriptor of each feature, as comparable strings. */
function featureKeys(kp: Float32Array, desc: Uint32Array, words: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${Array.from(kp.subarray(4 * i, 4 * i + 4)).join(',')}:${Array.from(desc.subarray(i * words, (i + 1) * words)).join(',')}`);
}

/** Fraction of the reference features also present in `other`. */
function sharedFraction(ref: string[], other: string[]): number {
  const set = new Set(other);
  return ref.filter((k) => set.has(k)).length / ref.length;
}

const keysOf = (f: FeatureSet) => featureKeys(f.kp, f.desc, f.words, f.n);

describe.skipIf(!haveFern)('adaptive AKAZE threshold', () => {
  const opts = { ...defaultFeatureOptions, workers: 1, silent: true };

  it('a start below rN keeps the nominal features; a start above it is redone at the nominal threshold', async () => {
    const replies: Reply[] = [];
    const msg = { id: 0, path: path.join(fern, '000.png'), maxSize: opts.maxImageSize, type: 'akaze', maxFeatures: opts.maxFeatures, threshold: opts.threshold };
    await runOnWorkers<number, Reply>(new URL('../src/sfm/feature-worker.mjs', import.meta.url), [0], 1, async (_, ask) => {
      const nominal = await ask(msg);
      replies.push(nominal);
      replies.push(await ask({ ...msg, startThreshold: 0.9 * nominal.rN }));
      replies.push(await ask({ ...msg, startThreshold: 2 * nominal.rN }));
    });
    const [nominal, below, above] = replies as [Reply, Reply, Reply];
    expect(nominal.ok && below.ok && above.ok).toBe(true);
    expect(nominal.n).toBe(opts.maxFeatures);
    expect(nominal.rN).toBeGreaterThan(3 * opts.threshold); // fern has room to raise the start
    expect(nominal.reran || below.reran).toBe(false);
    const ref = featureKeys(nominal.kp, nominal.desc, nominal.words, nominal.n);
    expect(below.n).toBe(opts.maxFeatures);
    expect(sharedFraction(ref, featureKeys(below.kp, below.desc, below.words, below.n))).toBeGreaterThanOrEqual(0.995);
    expect(above.reran).toBe(true);
    expect(featureKeys(above.kp, above.desc, above.words, above.n)).toEqual(ref);
  }, 60_000);

  it('extractFeatures with the adaptive start gives the nominal features, deterministically', async () => {
    // with one worker the third image is the first to start raised (lag 2 per worker): it is the
    // first one again under another name, so its nominal rN lies above the raised start
    const images = ['000.png', '002.png', '000.png'].map((f, i) => ({ name: `${i}-${f}`, path: path.join(fern, f) }));
    const run = async (label: string, adaptiveThreshold: boolean) => {
      const db = new SfmDatabase(path.join(tmp, `${label}.db`));
      try {
        return await extractFeatures(db, images, { ...opts, adaptiveThreshold });
      } finally {
        db.close();
      }
    };
    const nominal = await run('nominal', false);
    asked.length = 0;
    const adaptive = await run('adaptive', true);
    const starts = asked.map((m) => m.startThreshold as number);
    expect(starts.slice(0, 2)).toEqual([opts.threshold, opts.threshold]);
    expect(starts[2]).toBeGreaterThan(2 * opts.threshold);
    const again = await run('again', true);
    for (let i = 0; i < images.length; i++) {
      expect(adaptive[i]!.n).toBe(nominal[i]!.n);
      expect(sharedFraction(keysOf(nominal[i]!), keysOf(adaptive[i]!))).toBeGreaterThanOrEqual(0.995);
      expect(keysOf(again[i]!)).toEqual(keysOf(adaptive[i]!));
    }
  }, 90_000);
});
