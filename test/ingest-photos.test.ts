import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { promises as fs, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ingest } from '../src/stages/library.js';
import { focalPrior, cameraKey } from '../src/ingest/focal.js';
import { readExif, exifTime } from '../src/io/exif.js';
import { sensorWidthMm } from '../src/io/sensors.js';
import type { Priors } from '../src/ingest/priors.js';

const root = path.resolve(__dirname, '..');
const lund = path.resolve(root, '../shared/datasets/opensfm_lund/images');
let tmp: string;
const readPriors = (ws: string) => JSON.parse(readFileSync(path.join(ws, 'priors.json'), 'utf8')) as Priors;

beforeAll(async () => {
  process.env.R2S_QUIET = '1';
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-ingest-photos-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('ingest: photos with EXIF (opensfm_lund)', () => {
  it('records focal, camera, GPS and plausible ENU positions, and keeps the original bytes', async () => {
    const ws = path.join(tmp, 'lund');
    const s = await ingest({ input: lund, workspace: ws, silent: true });
    expect(s.skipped).toBe(false);
    expect(s.kind).toBe('photos');
    const p = readPriors(ws);
    const names = (await fs.readdir(lund)).filter((n) => n.endsWith('.jpg'));
    expect(p.images.length).toBe(names.length);
    expect(p.images.map((i) => i.name)).toEqual([...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
    for (const im of p.images) {
      expect(im.width).toBe(1024);
      expect(im.height).toBe(768);
      // iPhone 4S: 35 mm equivalent 35 → 35/36 · 1024 ≈ 996 px (true value ~965–1000 px)
      expect(im.focalSource).toBe('exif-35mm');
      expect(im.focalPx).toBeGreaterThan(900);
      expect(im.focalPx).toBeLessThan(1100);
      expect(im.make).toBe('Apple');
      expect(im.cameraKey).toBe(p.images[0]!.cameraKey);
      expect(im.gps).toBeDefined();
      expect(im.gps!.lat).toBeGreaterThan(55.69);
      expect(im.gps!.lat).toBeLessThan(55.71);
      expect(im.gps!.lon).toBeGreaterThan(13.18);
      expect(im.gps!.lon).toBeLessThan(13.21);
      expect(im.enu).toHaveLength(3);
      expect(im.time).toMatch(/^2014-06-07T\d{2}:\d{2}:\d{2}/);
      // unchanged photos are copied byte for byte
      expect(Buffer.compare(readFileSync(path.join(ws, 'images', im.name)), readFileSync(im.source))).toBe(0);
    }
    expect(p.enuOrigin).toBeDefined();
    expect(p.images[0]!.enu).toEqual([0, 0, 0]);
    // A street walk: consecutive photos a few metres apart, the whole walk a couple of hundred.
    const steps = p.images.slice(1).map((im, i) => Math.hypot(im.enu![0] - p.images[i]!.enu![0], im.enu![1] - p.images[i]!.enu![1]));
    const sorted = [...steps].sort((a, b) => a - b);
    const med = sorted[sorted.length >> 1]!;
    expect(med).toBeGreaterThan(2);
    expect(med).toBeLessThan(15);
    expect(Math.max(...steps)).toBeLessThan(40);
    const far = Math.max(...p.images.map((i) => Math.hypot(i.enu![0], i.enu![1])));
    expect(far).toBeGreaterThan(30);
    expect(far).toBeLessThan(500);
    for (const im of p.images) expect(Math.abs(im.enu![2])).toBeLessThan(20);

    // Running again with the same input and options does nothing.
    const again = await ingest({ input: lund, workspace: ws, silent: true });
    expect(again.skipped).toBe(true);
    expect(again.images).toBe(p.images.length);
  });

  it('--max-size downscales, re-encodes, and scales the focal prior with the image', async () => {
    const ws = path.join(tmp, 'lund-small');
    const dir = path.join(tmp, 'lund3');
    await fs.mkdir(dir);
    for (const n of ['01.jpg', '02.jpg', '03.jpg']) await fs.copyFile(path.join(lund, n), path.join(dir, n));
    await ingest({ input: dir, workspace: ws, maxSize: 512, silent: true });
    const p = readPriors(ws);
    expect(p.images).toHaveLength(3);
    for (const im of p.images) {
      expect([im.width, im.height]).toEqual([512, 384]);
      const meta = await sharp(path.join(ws, 'images', im.name)).metadata();
      expect([meta.width, meta.height, meta.format]).toEqual([512, 384, 'jpeg']);
      expect(im.focalPx).toBeCloseTo((35 / 36) * 512, 6);
      expect(im.cameraKey).toContain('512x384');
      expect(im.gps).toBeDefined();
    }
    // options changed → the stage runs again
    const s = await ingest({ input: dir, workspace: ws, maxSize: 256, silent: true });
    expect(s.skipped).toBe(false);
    expect(readPriors(ws).images[0]!.width).toBe(256);
  });
});

describe('ingest: orientation, formats, masks', () => {
  it('applies EXIF orientation, converts TIFF to PNG, guesses focal without EXIF, copies masks by stem', async () => {
    const dir = path.join(tmp, 'mixed');
    const masks = path.join(tmp, 'mixed-masks');
    await fs.mkdir(dir);
    await fs.mkdir(masks);
    // 60×40 stored, EXIF orientation 6 (rotate 90° clockwise to view) → 40×60 upright.
    const raw = Buffer.alloc(60 * 40 * 3);
    for (let y = 0; y < 40; y++) for (let x = 0; x < 60; x++) raw[(y * 60 + x) * 3] = x < 10 ? 255 : 0; // red band on the left
    await sharp(raw, { raw: { width: 60, height: 40, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(path.join(dir, 'a.jpg'));
    await sharp({ create: { width: 30, height: 20, channels: 3, background: '#336699' } }).tiff().toFile(path.join(dir, 'b.tif'));
    await sharp({ create: { width: 30, height: 20, channels: 3, background: '#996633' } }).png().toFile(path.join(dir, 'c.png'));
    await fs.writeFile(path.join(dir, 'README.txt'), 'notes are ignored');
    await fs.writeFile(path.join(dir, 'd.heic'), 'cannot decode');
    // masks: for a (different size, grey) and b (RGBA cut-out: alpha is the mask); none for c
    await sharp({ create: { width: 12, height: 18, channels: 3, background: '#ffffff' } }).png().toFile(path.join(masks, 'a.png'));
    await sharp({ create: { width: 30, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 1 } } }).png().toFile(path.join(masks, 'b.png'));

    const ws = path.join(tmp, 'mixed-ws');
    const s = await ingest({ input: dir, workspace: ws, masks, silent: true });
    expect(s.images).toBe(3);
    expect(s.masks).toBe(2);
    const p = readPriors(ws);
    const a = p.images.find((i) => i.name === 'a.jpg')!;
    expect([a.width, a.height]).toEqual([40, 60]);
    expect(a.focalSource).toBe('guess');
    expect(a.focalPx).toBeCloseTo(1.2 * 60, 6);
    expect(p.enuOrigin).toBeUndefined();
    // rotated 90° clockwise: the red band that was on the left is now on top
    const up = await sharp(path.join(ws, 'images', 'a.jpg')).raw().toBuffer({ resolveWithObject: true });
    expect(up.info.width).toBe(40);
    const red = (x: number, y: number) => up.data[(y * 40 + x) * up.info.channels]!;
    expect(red(20, 3)).toBeGreaterThan(200);
    expect(red(20, 50)).toBeLessThan(60);
    const b = p.images.find((i) => i.source.endsWith('b.tif'))!;
    expect(b.name).toBe('b.png');
    expect((await sharp(path.join(ws, 'images', 'b.png')).metadata()).format).toBe('png');
    expect(p.images.find((i) => i.name === 'c.png')!.mask).toBeUndefined();
    expect(p.dropped).toEqual([{ source: path.join(dir, 'd.heic'), reason: expect.stringContaining('unsupported') }]);
    expect(a.mask).toBe('a.jpg.png');
    const am = await sharp(path.join(ws, 'masks', 'a.jpg.png')).metadata();
    expect([am.width, am.height, am.channels]).toEqual([40, 60, 1]);
    const bmFile = path.join(ws, 'masks', b.mask!);
    const bmMeta = await sharp(bmFile).metadata();
    expect([bmMeta.width, bmMeta.height, bmMeta.channels]).toEqual([30, 20, 1]);
    const bm = await sharp(bmFile).extractChannel(0).raw().toBuffer();
    expect(bm[0]).toBe(255); // opaque alpha = use

    // Re-ingest without masks: stale masks go away with the old images.
    await ingest({ input: dir, workspace: ws, silent: true });
    expect(existsSync(path.join(ws, 'masks'))).toBe(false);
    expect(readPriors(ws).images.every((i) => !i.mask)).toBe(true);
  });
});

describe('focal priors and EXIF parsing', () => {
  it('35 mm equivalent, then lens focal + sensor table, then a flagged guess', () => {
    expect(focalPrior({ focal35: 36 }, 3000, 2000)).toEqual({ focalPx: 3000, focalSource: 'exif-35mm' });
    const s = focalPrior({ make: 'NIKON CORPORATION', model: 'NIKON D800', focalMm: 35.9 }, 7360, 4912);
    expect(s.focalSource).toBe('exif-sensor');
    expect(s.focalPx).toBeCloseTo(7360, 6);
    expect(focalPrior({ make: 'Acme', model: 'X', focalMm: 5 }, 1000, 800)).toEqual({ focalPx: 1200, focalSource: 'guess' });
    // a broken tag does not become a prior
    expect(focalPrior({ focal35: 0.5 }, 1000, 800).focalSource).toBe('guess');
    expect(sensorWidthMm('Canon', 'Canon EOS 5D Mark III')).toBe(36.0);
    expect(sensorWidthMm('DJI', 'FC6310')).toBe(13.2);
    expect(cameraKey({ make: 'Apple', model: 'iPhone4,1', focalMm: 4.28 }, 800, 600)).toBe('Apple|iPhone4,1|800x600|4.28mm');
  });

  it('reads EXIF time stamps as written, with the offset when given', () => {
    expect(exifTime('2014:06:07 10:24:05')).toBe('2014-06-07T10:24:05');
    expect(exifTime('2014:06:07 10:24:05', '+02:00', '656')).toBe('2014-06-07T10:24:05.656+02:00');
    expect(exifTime('0000:00:00 00:00:00')).toBeUndefined();
  });

  it('the bundled samples/lund copies still carry focal length and GPS', async () => {
    const dir = path.join(root, 'samples/lund');
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.jpg'));
    expect(names.length).toBeGreaterThan(20);
    let bytes = 0;
    for (const n of names) {
      const buf = readFileSync(path.join(dir, n));
      bytes += buf.length;
      const e = await readExif(buf);
      expect(e.focal35).toBe(35);
      expect(e.focalMm).toBeCloseTo(4.3, 3);
      expect(e.gps?.lat).toBeGreaterThan(55.69);
    }
    expect(bytes).toBeLessThan(3e6);
  });
});
