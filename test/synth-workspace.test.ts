import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run as synthCmd } from '../src/cli/commands/synth.js';
import { readColmapModel } from '../src/io/colmap.js';
import { quatToMat, rotationAngleDeg, matVec3, cameraCenter } from '../src/geometry/rotation.js';
import { renderSyntheticCapture, syntheticPoints } from '../src/synthetic/generate.js';
import { setQuiet } from '../src/util/log.js';
import { UserError } from '../src/util/errors.js';
import type { SyntheticTruth } from '../src/synthetic/workspace.js';

setQuiet(true);

describe('r2s synth', () => {
  it('writes images, priors, a COLMAP model whose points reproject exactly, and the truth', async () => {
    const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'r2s-synth-')), 'ws');
    expect(await synthCmd([root, '--views', '6', '--size', '40', '--detail', '0.1', '--seed', '3', '--exposure-jitter', '1'])).toBe(0);
    expect(readdirSync(path.join(root, 'images')).sort()).toEqual(['view_000.png', 'view_001.png', 'view_002.png', 'view_003.png', 'view_004.png', 'view_005.png']);
    const priors = JSON.parse(readFileSync(path.join(root, 'priors.json'), 'utf8'));
    expect(priors.images).toHaveLength(6);
    expect(existsSync(path.join(root, 'sparse', 'cameras.txt')) && existsSync(path.join(root, 'sparse', 'images.bin'))).toBe(true);
    const model = await readColmapModel(path.join(root, 'sparse'));
    const cam = model.cameras.get(1)!;
    expect(cam.width).toBe(40);
    expect(cam.height).toBe(30);
    const truth = JSON.parse(readFileSync(path.join(root, 'synthetic-truth.json'), 'utf8')) as SyntheticTruth;
    expect(truth.images.find((i) => i.name === 'view_001.png')!.ev).toBe(0); // the anchor view
    expect(truth.images.some((i) => Math.abs(i.ev) > 0.05)).toBe(true);
    // every observation is the exact projection of its point
    let checked = 0;
    for (const im of model.images.values()) {
      const R = quatToMat(im.qvec);
      im.point3DIds.forEach((pid, k) => {
        const X = model.points3D.get(pid)!.xyz;
        const p = matVec3(R, X);
        const z = p[2] + im.tvec[2];
        const [fx, fy, cx, cy] = cam.params as [number, number, number, number];
        expect(Math.abs((fx * (p[0] + im.tvec[0])) / z + cx - im.xys[2 * k]!)).toBeLessThan(1e-3);
        expect(Math.abs((fy * (p[1] + im.tvec[1])) / z + cy - im.xys[2 * k + 1]!)).toBeLessThan(1e-3);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(100);
    // a second run into the same folder is refused, leaving the workspace intact
    await expect(synthCmd([root, '--views', '4'])).rejects.toBeInstanceOf(UserError);
    expect(readdirSync(path.join(root, 'images'))).toHaveLength(6);
  });

  it('pose noise moves given cameras by exactly the asked angle and keeps the truth', () => {
    const cap = renderSyntheticCapture({ views: 5, size: 24, detail: 0.05, poseNoiseDeg: 1, seed: 2 });
    cap.images.forEach((im, i) => {
      const a = rotationAngleDeg(im.truth.R, im.given.R);
      if (i === 1) expect(a).toBe(0); // the reference view
      else {
        expect(a).toBeCloseTo(1, 6);
        const c0 = cameraCenter(im.truth.R, im.truth.t), c1 = cameraCenter(im.given.R, im.given.t);
        const d = Math.hypot(c0[0] - c1[0], c0[1] - c1[1], c0[2] - c1[2]) / Math.hypot(...c0);
        expect(d).toBeCloseTo(0.02, 6);
      }
    });
    // points are observed in several views (tracks)
    const pts = syntheticPoints(cap);
    expect(pts.filter((p) => p.track.length >= 2).length).toBeGreaterThan(pts.length / 10);
  });

  it('rejects bad options with one-line errors', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'r2s-synth-bad-'));
    await expect(synthCmd([root, '--views', 'many'])).rejects.toThrow(/--views must be a number/);
    await expect(synthCmd([root, '--size', '4'])).rejects.toThrow(/--size/);
    mkdirSync(path.join(root, 'images'));
    writeFileSync(path.join(root, 'images', 'keep.png'), 'x');
    await expect(synthCmd([root])).rejects.toThrow(/already holds a workspace/);
  });
});
