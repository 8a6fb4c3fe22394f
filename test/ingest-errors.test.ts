import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { promises as fs, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { ingest } from '../src/stages/library.js';
import { UserError } from '../src/util/errors.js';
import { hashFile } from '../src/util/fsx.js';
import { readPriors as loadPriors } from '../src/pipeline/workspace.js';

const root = path.resolve(__dirname, '..');
const lund = path.resolve(root, '../shared/datasets/opensfm_lund/images');
let tmp: string;
let ws: string;
let before: string;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Names and hashes of everything ingest owns in the workspace. */
async function snapshot(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const n of readdirSync(path.join(dir, 'images')).sort()) parts.push(`${n}:${await hashFile(path.join(dir, 'images', n))}`);
  parts.push(`priors:${await hashFile(path.join(dir, 'priors.json'))}`);
  parts.push(`stage:${await hashFile(path.join(dir, 'stages', 'ingest.json'))}`);
  return parts.join('\n');
}

/** Runs a failing ingest into the good workspace; returns the one-line message. */
async function fails(input: string, extra: { masks?: string; maxSize?: number; fps?: number } = {}): Promise<string> {
  let err: unknown;
  try {
    await ingest({ input, workspace: ws, silent: true, ...extra });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  const line = (err as UserError).oneLine();
  expect(line.split('\n')).toHaveLength(1);
  expect(line).toContain('fix:');
  // ...and the earlier good ingest is untouched, with no temporary leftovers.
  expect(await snapshot(ws)).toBe(before);
  expect(readdirSync(ws).filter((n) => n.startsWith('.'))).toEqual([]);
  return line;
}

beforeAll(async () => {
  process.env.R2S_QUIET = '1';
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-ingest-errors-'));
  const good = path.join(tmp, 'good');
  await fs.mkdir(good);
  for (const n of ['01.jpg', '02.jpg', '03.jpg']) await fs.copyFile(path.join(lund, n), path.join(good, n));
  ws = path.join(tmp, 'ws');
  await ingest({ input: good, workspace: ws, silent: true });
  before = await snapshot(ws);
});
afterAll(async () => {
  await fs.chmod(path.join(tmp, 'locked'), 0o755).catch(() => {});
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('ingest: bad inputs fail with one line naming the file, and keep the earlier ingest', () => {
  it('a truncated (corrupt) JPEG among good photos', async () => {
    const dir = path.join(tmp, 'corrupt');
    await fs.mkdir(dir);
    await fs.copyFile(path.join(lund, '04.jpg'), path.join(dir, '04.jpg'));
    const bytes = readFileSync(path.join(lund, '05.jpg'));
    await fs.writeFile(path.join(dir, '05.jpg'), bytes.subarray(0, bytes.length >> 1));
    const msg = await fails(dir);
    expect(msg).toContain(path.join(dir, '05.jpg'));
    expect(msg).toMatch(/not a readable image/);
  });

  it('a text file named .jpg', async () => {
    const dir = path.join(tmp, 'text');
    await fs.mkdir(dir);
    await fs.copyFile(path.join(lund, '04.jpg'), path.join(dir, '04.jpg'));
    await fs.writeFile(path.join(dir, 'notes.jpg'), 'this is not a picture\n');
    const msg = await fails(dir);
    expect(msg).toContain(path.join(dir, 'notes.jpg'));
  });

  it('an empty folder', async () => {
    const dir = path.join(tmp, 'empty');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'README.md'), 'no photos here');
    const msg = await fails(dir);
    expect(msg).toContain(dir);
    expect(msg).toMatch(/no photos found/);
  });

  it.skipIf(isRoot)('an unreadable folder (permissions; root reads anything, so skipped as root)', async () => {
    const dir = path.join(tmp, 'locked');
    await fs.mkdir(dir);
    await fs.chmod(dir, 0o000);
    const msg = await fails(dir);
    expect(msg).toContain(dir);
    expect(msg).toMatch(/cannot read/);
  });

  it('a path that is a file, neither a photo folder nor a video', async () => {
    const file = path.join(tmp, 'notes.txt');
    await fs.writeFile(file, 'hello');
    const msg = await fails(file);
    expect(msg).toContain(file);
    expect(msg).toMatch(/not a folder of photos nor a video/);
  });

  it('a folder path that runs through a file (unreadable as any user)', async () => {
    await fs.writeFile(path.join(tmp, 'notes.txt'), 'hello');
    const p = path.join(tmp, 'notes.txt', 'photos');
    const msg = await fails(p);
    expect(msg).toContain(p);
    expect(msg).toMatch(/part of the path is a file/);
  });

  it('a video that is not a video', async () => {
    const file = path.join(tmp, 'fake.mp4');
    await fs.writeFile(file, 'not really a video, just text\n'.repeat(10));
    const msg = await fails(file);
    expect(msg).toContain(file);
    expect(msg).toMatch(/not a readable video/);
  });

  it('a missing path', async () => {
    const p = path.join(tmp, 'no-such-folder');
    const msg = await fails(p);
    expect(msg).toContain(p);
    expect(msg).toMatch(/no such file or folder/);
  });

  it('masks that match no image, and bad option values', async () => {
    const masks = path.join(tmp, 'masks');
    await fs.mkdir(masks);
    await fs.copyFile(path.join(lund, '10.jpg'), path.join(masks, 'zz.jpg'));
    const good = path.join(tmp, 'good');
    expect(await fails(good, { masks })).toContain(masks);
    expect(await fails(good, { maxSize: 0 })).toMatch(/--max-size/);
    expect(await fails(good, { fps: -1 })).toMatch(/--fps/);
  });

  it('later stages read priors.json, or learn to run ingest first', () => {
    expect(loadPriors(ws).images.map((i) => i.name)).toEqual(['01.jpg', '02.jpg', '03.jpg']);
    expect(() => loadPriors(path.join(tmp, 'nowhere'))).toThrow(expect.objectContaining({ fix: expect.stringContaining("run 'r2s ingest") }));
  });

  it('the command prints exactly one line and exits non-zero', () => {
    const fake = path.join(tmp, 'fake.mp4');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'ingest', fake, '-w', ws], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, R2S_QUIET: '1' },
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^r2s ingest: /);
    expect(lines[0]).toContain(fake);
  });
});
