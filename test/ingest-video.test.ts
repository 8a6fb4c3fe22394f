import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { promises as fs, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ingest } from '../src/stages/library.js';
import { findFfmpeg } from '../src/io/ffmpeg.js';
import { laplacianVariance, meanAbsDiff, selectFrames, type FrameMeasure } from '../src/ingest/frames.js';
import type { GreyImage } from '../src/io/images.js';
import type { Priors } from '../src/ingest/priors.js';

const root = path.resolve(__dirname, '..');
const dashcam = path.resolve(root, '../shared/datasets/udacity_dashcam/solidWhiteRight.mp4');
let tmp: string;
const readPriors = (ws: string) => JSON.parse(readFileSync(path.join(ws, 'priors.json'), 'utf8')) as Priors;

beforeAll(async () => {
  process.env.R2S_QUIET = '1';
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-ingest-video-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('ingest: video (udacity_dashcam)', () => {
  it('samples frames at --fps, downscales, names them sortably and records time stamps', async () => {
    const ws = path.join(tmp, 'dash');
    const s = await ingest({ input: dashcam, workspace: ws, fps: 2, maxSize: 480, silent: true });
    expect(s.kind).toBe('video');
    const p = readPriors(ws);
    // 8.8 s at 2 fps: 17–18 samples; driving at speed, nearly all of them move and are sharp.
    expect(p.images.length + p.dropped.length).toBeGreaterThanOrEqual(17);
    expect(p.images.length + p.dropped.length).toBeLessThanOrEqual(19);
    expect(p.images.length).toBeGreaterThanOrEqual(15);
    for (const d of p.dropped) expect(d.reason).toMatch(/^(blurry|near-duplicate)/);
    const files = readdirSync(path.join(ws, 'images')).sort();
    expect(files).toEqual(p.images.map((i) => i.name));
    for (const im of p.images) {
      expect(im.name).toMatch(/^frame_\d{6}\.jpg$/);
      expect([im.width, im.height]).toEqual([480, 270]);
      expect(im.cameraKey).toBe('video|480x270');
      expect(im.focalSource).toBe('guess');
      expect(im.focalPx).toBeGreaterThan(0);
      expect(im.source.startsWith(dashcam + '@')).toBe(true);
      // the container's creation time plus the frame's time
      expect(im.time).toMatch(/^2016-08-28T21:16:\d{2}/);
    }
    const t = p.images.map((i) => i.videoTime!);
    for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeGreaterThanOrEqual(0.5 - 1e-6);
    expect(t[0]).toBeLessThan(0.6);
    expect(t[t.length - 1]).toBeGreaterThan(8.0);
  });

  it('drops a frozen stretch as near-duplicates and blurred frames as blurry, each with its reason', async () => {
    const ffmpeg = findFfmpeg();
    expect(ffmpeg).toBeTruthy();
    // 4 s of the drive at 480 px with the frame at 1 s held for 2 s, then frames 4.35–4.65 s blurred.
    const clip = path.join(tmp, 'freeze-blur.mp4');
    execFileSync(ffmpeg!, ['-y', '-loglevel', 'error', '-t', '4', '-i', dashcam, '-an', '-vf',
      "scale=480:-2,loop=loop=50:size=1:start=25,setpts=N/25/TB,boxblur=3:1:enable='between(t,4.35,4.65)'",
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-pix_fmt', 'yuv420p', clip]);
    const ws = path.join(tmp, 'freeze');
    const s = await ingest({ input: clip, workspace: ws, fps: 5, silent: true });
    const p = readPriors(ws);
    expect(p.images.length + p.dropped.length).toBe(30);
    const dup = p.dropped.filter((d) => d.reason.startsWith('near-duplicate'));
    const blur = p.dropped.filter((d) => d.reason.startsWith('blurry'));
    expect(s.droppedBy['near-duplicate']).toBe(dup.length);
    // the hold spans 1.0–3.0 s: the frame at 1.0 s is kept, the following ones are duplicates
    expect(dup.length).toBeGreaterThanOrEqual(8);
    for (const d of dup) {
      expect(d.videoTime!).toBeGreaterThan(1.0);
      expect(d.videoTime!).toBeLessThan(3.05);
      expect(d.name).toMatch(/^frame_\d{6}\.jpg$/);
    }
    expect(blur.length).toBeGreaterThanOrEqual(1);
    for (const d of blur) {
      expect(d.videoTime!).toBeGreaterThan(4.3);
      expect(d.videoTime!).toBeLessThan(4.7);
    }
    // the moving, sharp frames on either side are kept, and dropped frames leave no file behind
    const kept = p.images.map((i) => i.videoTime!);
    expect(kept.filter((t) => t < 1.0).length).toBe(5);
    expect(kept.filter((t) => t > 3.05 && t < 4.3).length).toBeGreaterThanOrEqual(5);
    expect(readdirSync(path.join(ws, 'images')).length).toBe(p.images.length);

    // One mask named like the video applies to every kept frame.
    const masks = path.join(tmp, 'masks');
    await fs.mkdir(masks);
    await sharp({ create: { width: 96, height: 54, channels: 3, background: '#ffffff' } }).png().toFile(path.join(masks, 'freeze-blur.png'));
    const m = await ingest({ input: clip, workspace: ws, fps: 5, masks, silent: true });
    expect(m.skipped).toBe(false);
    expect(m.masks).toBe(p.images.length);
    const withMasks = readPriors(ws);
    expect(withMasks.images.map((i) => i.mask)).toEqual(p.images.map((i) => i.name + '.png'));
    expect(readdirSync(path.join(ws, 'masks')).sort()).toEqual(p.images.map((i) => i.name + '.png'));
  });
});

describe('frame selection', () => {
  const img = (f: (x: number, y: number) => number, w = 64, h = 48): GreyImage => {
    const data = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
    return { data, width: w, height: h };
  };
  const stripes = (shift: number) => img((x, y) => 128 + 100 * Math.sin((x + shift) * 0.9) * Math.cos(y * 0.7));

  it('measures sharpness and brightness-independent change', () => {
    const sharp = stripes(0);
    const flat = img(() => 128);
    expect(laplacianVariance(sharp)).toBeGreaterThan(1000);
    expect(laplacianVariance(flat)).toBe(0);
    expect(meanAbsDiff(sharp, sharp)).toBe(0);
    const brighter = img((x, y) => sharp.data[y * 64 + x]! + 20);
    expect(meanAbsDiff(sharp, brighter)).toBeCloseTo(0, 4);
    expect(meanAbsDiff(sharp, stripes(2))).toBeGreaterThan(10);
  });

  it('keeps moving sharp frames, drops a blurred one and a repeat', () => {
    const frames: FrameMeasure[] = [0, 3, 6, 9, 9, 12, 15, 18].map((s) => ({ sharpness: 100, thumb: stripes(s) }));
    frames[5] = { sharpness: 20, thumb: stripes(12) }; // blurred
    const names = frames.map((_, i) => `f${i}`);
    const d = selectFrames(frames, names);
    expect(d.map((x) => x.keep)).toEqual([true, true, true, true, false, false, true, true]);
    expect(d[4]).toMatchObject({ keep: false, reason: expect.stringMatching(/^near-duplicate of f3/) });
    expect(d[5]).toMatchObject({ keep: false, reason: expect.stringMatching(/^blurry/) });
  });
});
