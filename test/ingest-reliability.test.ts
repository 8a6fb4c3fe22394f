/**
 * Ingest on awkward inputs (issue 13, item 10): duplicate photos, a truncated video, a single
 * photo, subfolders, symbolic-link loops, temporaries left by a killed run, and EXIF surviving a
 * re-ingest of workspace/images. Inputs are tiny: a few small JPEGs made with sharp, a few
 * seconds of samples/dashcam at 96 px.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from 'vitest';
import { promises as fs, readFileSync, readdirSync, existsSync, symlinkSync, utimesSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ingest, type IngestSummary } from '../src/stages/library.js';
import { findFfmpeg } from '../src/io/ffmpeg.js';
import { readExif } from '../src/io/exif.js';
import { UserError } from '../src/util/errors.js';
import type { Priors } from '../src/ingest/priors.js';

const root = path.resolve(__dirname, '..');
const lund = path.join(root, 'samples/lund');
const dashcam = path.join(root, 'samples/dashcam/solidWhiteRight-4s.mp4');
let tmp: string;
const readPriors = (ws: string) => JSON.parse(readFileSync(path.join(ws, 'priors.json'), 'utf8')) as Priors;
const env = { ...process.env, R2S_QUIET: '1' };

function r2s(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env });
}

/** Ingest in this process; returns the summary and the warning lines it printed. */
async function run(input: string, ws: string, extra: { fps?: number; maxSize?: number } = {}): Promise<{ s: IngestSummary; warnings: string[] }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    const s = await ingest({ input, workspace: ws, silent: true, ...extra });
    return { s, warnings: lines.filter((l) => l.startsWith('warning:')) };
  } finally {
    spy.mockRestore();
  }
}

/** A small JPEG of noise: distinct content for every seed. */
async function jpeg(file: string, seed: number, w = 64, h = 48): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < px.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    px[i] = x >>> 24;
  }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
}

async function photoDir(name: string, n: number): Promise<string> {
  const dir = path.join(tmp, name);
  await fs.mkdir(dir, { recursive: true });
  for (let i = 1; i <= n; i++) await jpeg(path.join(dir, `p${i}.jpg`), i);
  return dir;
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-ingest-reliability-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

describe('ingest reliability', () => {
  it('drops exact duplicate photos with a reason, and warns once with the count', async () => {
    const dir = await photoDir('dups', 2);
    for (let i = 1; i <= 6; i++) await fs.copyFile(path.join(dir, 'p1.jpg'), path.join(dir, `q${i}.jpg`));
    const ws = path.join(tmp, 'ws-dups');
    const { s, warnings } = await run(dir, ws);
    const dupWarnings = warnings.filter((w) => /duplicate/.test(w));
    expect(dupWarnings).toHaveLength(1);
    expect(dupWarnings[0]).toMatch(/6 of 8 photos are exact duplicates of others \(first: p1\.jpg = q1\.jpg\); they add nothing to the reconstruction/);
    expect(s.images).toBe(2);
    expect(s.dropped).toBe(6);
    expect(s.droppedBy).toEqual({ duplicate: 6 });
    const p = readPriors(ws);
    expect(p.images.map((i) => i.name)).toEqual(['p1.jpg', 'p2.jpg']);
    expect(p.dropped.map((d) => d.reason)).toEqual(Array(6).fill('duplicate: same bytes as p1.jpg'));
    expect(readdirSync(path.join(ws, 'images')).sort()).toEqual(['p1.jpg', 'p2.jpg']);
  });

  it('warns when a video decodes to much less than the duration its container announces', async () => {
    const ffmpeg = findFfmpeg();
    expect(ffmpeg).toBeTruthy();
    const full = path.join(tmp, 'full.mp4');
    // 9 s (the 4 s sample looped), 96 px wide, 5 fps, moov first: a cut keeps the header.
    const r = spawnSync(ffmpeg!, ['-v', 'error', '-y', '-stream_loop', '2', '-i', dashcam, '-t', '9', '-vf', 'scale=96:-2,fps=5', '-an', '-c:v', 'libx264', '-g', '5', '-movflags', '+faststart', full], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const cut = path.join(tmp, 'cut.mp4');
    const bytes = readFileSync(full);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.55)));

    const whole = await run(full, path.join(tmp, 'ws-full'), { fps: 1 });
    expect(whole.warnings.filter((w) => /truncated/.test(w))).toEqual([]);

    const { s, warnings } = await run(cut, path.join(tmp, 'ws-cut'), { fps: 1 });
    expect(s.images + s.dropped).toBeLessThan(8);
    const t = warnings.filter((w) => /truncated/.test(w));
    expect(t).toHaveLength(1);
    expect(t[0]).toMatch(new RegExp(`${cut.replace(/[.]/g, '\\.')}: decoded [3-6] s of an announced 9 s — the file looks truncated`));
  });

  it('warns on a single photo; sfm on that workspace refuses with one line', async () => {
    const dir = await photoDir('single', 1);
    const ws = path.join(tmp, 'ws-single');
    const { s, warnings } = await run(dir, ws);
    expect(s.images).toBe(1);
    expect(warnings.filter((w) => /at least 2 overlapping photos/.test(w))).toHaveLength(1);
    const r = r2s('sfm', '-w', ws);
    expect(r.status).not.toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('warning:'));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^r2s sfm: .*\(fix: /);
  }, 120_000);

  it('names the subfolders it does not read, in one warning line', async () => {
    const dir = await photoDir('nested', 2);
    for (const sub of ['a', 'b']) {
      mkdirSync(path.join(dir, sub));
      await jpeg(path.join(dir, sub, 'x.jpg'), sub.charCodeAt(0));
    }
    const { s, warnings } = await run(dir, path.join(tmp, 'ws-nested'));
    expect(s.images).toBe(2);
    expect(warnings.filter((w) => /subfolder/.test(w))).toEqual(['warning: skipped 2 subfolders (a/, b/) — ingest reads one folder; pass a subfolder to use it']);
  });

  it('skips symbolic-link loops with a warning instead of hanging or crashing', async () => {
    const dir = await photoDir('links', 2);
    symlinkSync('.', path.join(dir, 'here'));
    symlinkSync('..', path.join(dir, 'up'));
    symlinkSync('self', path.join(dir, 'self'));
    const { s, warnings } = await run(dir, path.join(tmp, 'ws-links'));
    expect(s.images).toBe(2);
    const w = warnings.filter((l) => /symbolic link/.test(l));
    expect(w).toHaveLength(1);
    expect(w[0]).toBe('warning: skipped 3 symbolic links (here/ (a loop: points to this folder or one above), self (a loop of links), up/ (a loop: points to this folder or one above)) — ingest reads only the regular files in the folder; copy the photos in');
    // a loop given as the input itself: one line, no hang
    const loop = path.join(tmp, 'loop-input');
    symlinkSync('loop-input', loop);
    await expect(ingest({ input: loop, workspace: path.join(tmp, 'ws-loop'), silent: true })).rejects.toBeInstanceOf(UserError);
  });

  it('removes temporaries a killed ingest left in the workspace, not live ones', async () => {
    const dir = await photoDir('tmps', 2);
    const ws = path.join(tmp, 'ws-tmps');
    await run(dir, ws);
    const dead = spawnSync('true').pid!;
    const stale = [
      path.join(ws, `.images.tmp-${dead}-0123abcd`),
      path.join(ws, `.images.tmp-${dead}-89abcdef-old`),
      path.join(ws, `.masks.tmp-${dead}-deadbeef`),
    ];
    for (const d of stale) {
      mkdirSync(d);
      writeFileSync(path.join(d, 'frame.jpg'), 'x');
    }
    const staleFile = path.join(ws, 'stages', `.ingest.json.tmp-${dead}-feedf00d`);
    writeFileSync(staleFile, '{');
    // a live process (pid 1) but older than this run: left by a killed run whose pid was reused
    const old = path.join(ws, '.scene.tmp-1-cafebabe');
    mkdirSync(old);
    utimesSync(old, new Date('2001-01-01'), new Date('2001-01-01'));
    // a live process and new: not ours to judge
    const live = path.join(ws, '.scene.tmp-1-0badf00d');
    mkdirSync(live);
    await jpeg(path.join(dir, 'p3.jpg'), 3); // a changed input, so ingest runs again
    const { s } = await run(dir, ws);
    expect(s.images).toBe(3);
    for (const p of [...stale, staleFile, old]) expect(existsSync(p), p).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  it('keeps EXIF (focal, GPS) in re-encoded images, with Orientation reset to 1', async () => {
    const dir = path.join(tmp, 'exif');
    mkdirSync(dir);
    for (const n of ['01.jpg', '02.jpg']) await fs.copyFile(path.join(lund, n), path.join(dir, n));
    // a rotated one: stored sideways (600×800), Orientation 6 turns it back to 800×600
    await sharp(path.join(lund, '03.jpg')).rotate(-90).keepExif().withMetadata({ orientation: 6 }).jpeg().toFile(path.join(dir, '03.jpg'));
    const ws1 = path.join(tmp, 'ws-exif1');
    const a = await run(dir, ws1, { maxSize: 160 });
    expect(a.s.gps).toBe(3);
    const ws2 = path.join(tmp, 'ws-exif2');
    const b = await run(path.join(ws1, 'images'), ws2);
    expect(b.s.focalSources).toEqual(a.s.focalSources);
    expect(b.s.focalSources['guess'] ?? 0).toBe(0);
    expect(b.s.gps).toBe(a.s.gps);
    const p1 = readPriors(ws1);
    const p2 = readPriors(ws2);
    expect(p2.images.map((i) => [i.width, i.height, i.focalPx, i.time])).toEqual(p1.images.map((i) => [i.width, i.height, i.focalPx, i.time]));
    const rotated = readFileSync(path.join(ws1, 'images', '03.jpg'));
    expect((await readExif(rotated)).orientation ?? 1).toBe(1);
    const m = await sharp(rotated).metadata();
    expect([m.width, m.height]).toEqual([160, 120]); // upright: Orientation 6 applied, then downscaled
  });
});
