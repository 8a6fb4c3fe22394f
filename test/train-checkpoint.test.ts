import { describe, it, expect, beforeAll, vi } from 'vitest';
import { mkdtempSync, readdirSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initTf } from '../src/scene/tf.js';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { writeSyntheticWorkspace } from '../src/synthetic/workspace.js';
import { findColmapModelDir, readColmapModel } from '../src/io/colmap.js';
import { trainScene, defaultTrainOptions, type RunTrainOptions } from '../src/scene/run-train.js';
import * as log from '../src/util/log.js';
import { UserError } from '../src/util/errors.js';

beforeAll(async () => {
  process.env.R2S_QUIET = '1';
  log.setQuiet(true);
  await initTf('cpu');
});

const ckpts = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.ckpt')).sort();

describe('checkpoints carry the identity of their run', () => {
  it('a killed run resumes only with its own options and then finishes bit-identical; another run starts afresh and never deletes the old run\'s checkpoints', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'r2s-ckpt-'));
    await writeSyntheticWorkspace(root, renderSyntheticCapture({ views: 9, size: 32, detail: 0.08, seed: 3 }));
    const model = await readColmapModel(findColmapModelDir(path.join(root, 'sparse'))!);
    const images = path.join(root, 'images');
    const o: RunTrainOptions = { ...defaultTrainOptions, iterations: 80, seed: 4, maxGaussians: 600, maxSize: 1600, checkpointEvery: 20, resume: false, backend: 'reference', tfBackend: 'cpu', silent: true };
    const dirs = (name: string) => ({ sceneDir: path.join(root, name), checkpointDir: path.join(root, name, 'checkpoints') });

    // the uninterrupted run
    const straight = await trainScene({ model, images, ...dirs('straight') }, o);

    // the same run killed after step 50 (an abort between steps, as kill -9 leaves the last checkpoint)
    const ac = new AbortController();
    const killed = dirs('killed');
    await expect(trainScene({ model, images, ...killed }, o, { signal: ac.signal, onStep: (s) => { if (s.step === 50) ac.abort(new Error('killed')); } })).rejects.toThrow('killed');
    const left = ckpts(killed.checkpointDir);
    expect(left.map((f) => f.slice(0, 12))).toEqual(['step-0000020', 'step-0000040']);
    const other = dirs('other');
    cpSync(killed.checkpointDir, other.checkpointDir, { recursive: true });

    // --resume with other options: not the killed run's checkpoint, a one-line warning, a fresh run
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => {});
    const ac2 = new AbortController();
    // killed before its first own checkpoint: the other run's checkpoints are all still there
    await expect(trainScene({ model, images, ...other }, { ...o, iterations: 30, checkpointEvery: 25, resume: true }, { signal: ac2.signal, onStep: (s) => { if (s.step === 10) ac2.abort(new Error('stop')); } })).rejects.toThrow('stop');
    expect(ckpts(other.checkpointDir)).toEqual(left);
    const short = await trainScene({ model, images, ...other }, { ...o, iterations: 30, checkpointEvery: 25, resume: true });
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/checkpoint .*step-0000040\.[0-9a-f]+\.ckpt belongs to another run \(iterations 80 → 30\); starting from scratch/),
      expect.stringMatching(/belongs to another run \(iterations 80 → 30\)/),
    ]);
    warn.mockRestore();
    expect(short.summary.resumedFrom).toBeUndefined();
    expect(short.summary.steps).toBe(30);
    // once it has its own checkpoints, the other run's are still there, untouched (issue 25 item 2)
    const now = ckpts(other.checkpointDir);
    expect(now.filter((f) => !f.includes(short.summary.run))).toEqual(left);
    expect(now.filter((f) => f.includes(short.summary.run)).length).toBeGreaterThan(0);

    // --resume with the same options: continues the killed run and ends exactly where the straight run did
    const resumed = await trainScene({ model, images, ...killed }, { ...o, resume: true });
    expect(resumed.summary.resumedFrom).toBe(40);
    expect(resumed.summary.steps).toBe(80);
    expect(resumed.summary.run).toBe(straight.summary.run);
    const a = resumed.trainer.params, b = straight.trainer.params;
    expect(a.count).toBe(b.count);
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) expect(Buffer.from(a[k].buffer).equals(Buffer.from(b[k].buffer)), k).toBe(true);
  });

  it('a diverged run fails with a one-line error instead of writing NaN splats', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'r2s-nan-'));
    await writeSyntheticWorkspace(root, renderSyntheticCapture({ views: 9, size: 24, detail: 0.05, seed: 5 }));
    const model = await readColmapModel(findColmapModelDir(path.join(root, 'sparse'))!);
    const o: RunTrainOptions = {
      ...defaultTrainOptions, iterations: 10, seed: 1, maxSize: 1600, checkpointEvery: 5, resume: false, backend: 'reference', tfBackend: 'cpu', silent: true,
      lrs: { ...defaultTrainOptions.lrs, scale: Infinity }, // an absurd learning rate: the scales leave the floats
    };
    const run = trainScene({ model, images: path.join(root, 'images'), sceneDir: path.join(root, 'scene') }, o);
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(/^training diverged at step 5: \d+ of \d+ Gaussians have NaN\/Inf parameters \(first: #\d+, \w+\)$/);
    const err = (await run.catch((e: unknown) => e)) as UserError;
    expect(err.fix).toMatch(/lower the learning rates, or --resume from the last good checkpoint/);
  });
});
