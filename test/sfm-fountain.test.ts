/**
 * The whole sfm stage on real photos: 5 images of fountain-P11 (downscaled for the detector), known
 * intrinsics. All must register with rotation errors near 0.1° (see below); re-running is a no-op; the model is
 * written as text + binary with frame.json; bad input gives one-line errors.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { workspaceFromImages } from '../src/sfm/dataset-workspace.js';
import { defaultSfmOptions } from '../src/sfm/pipeline.js';
import { runSfmStage } from '../src/stages/library.js';
import { readColmapModel } from '../src/io/colmap.js';
import { evaluatePoses, loadGroundTruthW2C } from '../src/eval/poses.js';
import { UserError } from '../src/util/errors.js';

const data = path.resolve(__dirname, '../../shared/datasets/strecha_fountain-P11');
const have = existsSync(path.join(data, 'images'));

describe.skipIf(!have)('r2s sfm on fountain-P11 (5 images)', () => {
  it('registers every image with accurate rotations, and a re-run is a no-op', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'r2s-sfm-fountain-'));
    await workspaceFromImages(path.join(data, 'images'), ws, { names: ['0003.jpg', '0004.jpg', '0005.jpg', '0006.jpg', '0007.jpg'] });
    const opts = { ...defaultSfmOptions, intrinsicsFile: path.join(data, 'gt/K.txt'), maxImageSize: 1000, maxFeatures: 4000, silent: true };
    const r = await runSfmStage(ws, opts);
    expect(r.skipped).toBe(false);
    expect(r.summary!.registered).toBe(5);
    expect(r.summary!.failed).toEqual([]);
    expect(r.summary!.frame.scale).toBe('arbitrary');
    for (const f of ['cameras.txt', 'images.txt', 'points3D.txt', 'cameras.bin', 'images.bin', 'points3D.bin', 'frame.json']) {
      expect(existsSync(path.join(ws, 'sparse', f))).toBe(true);
    }
    expect(JSON.parse(readFileSync(path.join(ws, 'sparse/frame.json'), 'utf8')).method).toBe('none');
    const model = await readColmapModel(path.join(ws, 'sparse'));
    expect(model.images.size).toBe(5);
    expect(model.points3D.size).toBeGreaterThan(2000);
    const ev = evaluatePoses(model, loadGroundTruthW2C(path.join(data, 'gt/cameras_w2c.json')));
    expect(ev.registered).toBe(5);
    // 0.088° before track completion and merging (mapper-options.ts completeTracks), 0.102° with
    // it: on five images at 1000 px the longer tracks cost a little, where on the full captures
    // they help (moldGoldCape shuffled 0.148° → 0.128°, templeRing 0.196° → 0.189°; fountain-P11's
    // 11 images 0.0298° → 0.0304°). Left as a known cost, see issue 16's note.
    expect(ev.rotErrDeg.mean).toBeLessThan(0.11);
    expect(ev.rotErrDeg.max).toBeLessThan(0.2);
    const again = await runSfmStage(ws, opts);
    expect(again.skipped).toBe(true);
  });

  it('fails with a one-line error on a workspace without priors.json, and on a bad intrinsics file', async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'r2s-sfm-empty-'));
    await expect(runSfmStage(ws, defaultSfmOptions)).rejects.toThrow(UserError);
    const e = await runSfmStage(ws, defaultSfmOptions).catch((err: unknown) => err);
    expect((e as UserError).oneLine()).toMatch(/priors\.json.*fix: run 'r2s ingest/);
    const ws2 = mkdtempSync(path.join(os.tmpdir(), 'r2s-sfm-badk-'));
    await workspaceFromImages(path.join(data, 'images'), ws2, { names: ['0003.jpg', '0004.jpg'] });
    await expect(runSfmStage(ws2, { ...defaultSfmOptions, intrinsicsFile: path.join(ws2, 'nope.txt') })).rejects.toThrow(/intrinsics file not found/);
  });
});
