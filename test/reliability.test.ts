/**
 * Reliability through the real CLI: bad inputs, stale stages, a busy workspace, a read-only
 * workspace and a full disk. Each case asserts the exit code, one line on stderr naming the
 * problem, and that the workspace's files are unchanged (hashed before and after).
 *
 * Read-only and full disks are real: a small tmpfs mounted here (tests run as root in CI;
 * chmod means nothing to root). Where mount is not permitted those cases are skipped, saying why.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, readdirSync, existsSync, rmSync, statSync, openSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashFile } from '../src/util/fsx.js';
import { Workspace } from '../src/pipeline/workspace.js';
import { writeColmapModel } from '../src/io/colmap.js';
import { captureToModel } from '../src/synthetic/workspace.js';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';

const root = path.resolve(__dirname, '..');
const lund = path.resolve(root, '../shared/datasets/opensfm_lund/images');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'r2s-reliability-'));
const env = { ...process.env, R2S_QUIET: '1' };

function r2s(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 180_000, env });
}

/** Every file under `dir` with its hash (the lock and temp files are dot-files: included too). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out[path.relative(dir, p)] = await hashFile(p);
    }
  };
  await walk(dir);
  return out;
}

/** Runs a failing command; checks exit code, one stderr line and unchanged files; returns the line. */
async function fails(ws: string, code: number, ...args: string[]): Promise<string> {
  const before = await snapshot(ws);
  const r = r2s(...args);
  expect(r.status, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^r2s( [a-z]+)?: /);
  expect(await snapshot(ws)).toEqual(before);
  return lines[0]!;
}

let synthWs: string;

beforeAll(() => {
  synthWs = path.join(tmp, 'synth');
  const r = r2s('synth', synthWs, '--views', '6', '--size', '40', '--detail', '0.1');
  expect(r.status, r.stderr).toBe(0);
});

afterAll(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('numbers are checked against their range, through the CLI', () => {
  const cases: Array<[string[], RegExp]> = [
    [['train', '-w', '$WS', '--iterations', '-5'], /--iterations must be an integer in 1\.\.1e7, got -5/],
    [['train', '-w', '$WS', '--iterations', '0x10'], /--iterations must be a number \(an integer in 1\.\.1e7\), got '0x10'/],
    [['train', '-w', '$WS', '--iterations', '1e20'], /--iterations must be an integer in 1\.\.1e7, got '1e20'/],
    [['train', '-w', '$WS', '--max-size', '0'], /--max-size must be an integer in 16\.\./],
    [['ingest', lund, '-w', '$WS', '--fps', '-1'], /--fps must be a number > 0 and ≤ 240, got -1/],
    [['sfm', '-w', '$WS', '--camera-height', '-2'], /--camera-height must be a number > 0/],
    [['view', '$WS', '--port', '-1'], /--port must be 0\.\.65535, got -1/],
    [['train', '-w', '$WS', '--bogus'], /unknown option '--bogus'/],
  ];
  for (const [args, re] of cases) {
    it(args.filter((a) => a !== '$WS' && a !== lund).join(' '), async () => {
      const line = await fails(synthWs, 1, ...args.map((a) => (a === '$WS' ? synthWs : a)));
      expect(line).toMatch(re);
    });
  }
  it('an unknown command exits 2', async () => {
    await fails(synthWs, 2, 'frobnicate', '-w', synthWs);
  });
});

describe('the whole chain must be current', () => {
  it('re-ingest other photos, then train: refused, naming the stale sfm and its command', async (ctx) => {
    if (!existsSync(lund)) return ctx.skip();
    const photos = (names: string[]) => {
      const d = mkdtempSync(path.join(tmp, 'photos-'));
      for (const n of names) copyFileSync(path.join(lund, n), path.join(d, n));
      return d;
    };
    const ws = path.join(tmp, 'chain');
    expect(r2s('ingest', photos(['01.jpg', '02.jpg', '03.jpg']), '-w', ws).status).toBe(0);
    // stands in for a finished sfm (the real one takes minutes): a model and its record
    const w = new Workspace(ws);
    const model = captureToModel(renderSyntheticCapture({ views: 3, size: 24, detail: 0.05, seed: 1 }));
    await w.runStage('sfm', { inputs: ['images', 'priors.json'], options: {}, outputs: ['sparse/cameras.bin'] }, () => writeColmapModel(w.sparseDir, model));
    expect(r2s('ingest', photos(['04.jpg', '05.jpg', '06.jpg']), '-w', ws, '--force').status).toBe(0);
    const line = await fails(ws, 1, 'train', '-w', ws, '--iterations', '5');
    expect(line).toBe(`r2s train: stage 'sfm' is out of date: images/ changed since it ran (run \`r2s sfm -w ${ws}\`)`);
  });
});

describe('one process per workspace', () => {
  it('a second train is refused while one runs; the lock goes with the process; a dead one\'s lock is taken over', async () => {
    const ws = path.join(tmp, 'busy');
    expect(r2s('synth', ws, '--views', '6', '--size', '40', '--detail', '0.1').status).toBe(0);
    const first = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'train', '-w', ws, '--iterations', '100000', '--backend', 'reference', '--tf-backend', 'cpu'], { cwd: root, env, stdio: 'ignore' });
    const lock = path.join(ws, '.r2s.lock');
    for (let i = 0; i < 600 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(lock)).toBe(true);
    try {
      const line = await fails(ws, 1, 'train', '-w', ws, '--iterations', '5');
      expect(line).toMatch(new RegExp(`^r2s train: workspace ${ws} in use by pid ${first.pid} \\(r2s train\\) since \\d{4}-\\d\\d-\\d\\dT`));
    } finally {
      first.kill('SIGTERM');
      await new Promise((r) => first.once('exit', r));
    }
    expect(existsSync(lock)).toBe(false);
    // a lock left by a process that died without cleaning up
    const dead = spawnSync('true').pid;
    writeFileSync(lock, JSON.stringify({ pid: dead, hostname: os.hostname(), startedAt: new Date().toISOString(), command: 'r2s train' }));
    const r = r2s('synth', ws, '--views', '4', '--size', '32', '--detail', '0.1', '--force');
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });
});

describe('file-system errors are one line naming the path and the fix', () => {
  it('a workspace path that runs through a file (ENOTDIR)', async () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const line = await fails(tmp, 1, 'synth', path.join(file, 'ws'));
    expect(line).toContain(path.join(file, 'ws'));
    expect(line).toMatch(/part of the path is a file/);
    const line2 = await fails(tmp, 1, 'synth', file);
    expect(line2).toMatch(/exists and is not a folder/);
  });
});

const mounts: string[] = [];
function mountTmpfs(dir: string, size: string): string | null {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `mount -t tmpfs not permitted here (${(r.stderr || r.error?.message || '').trim()})`;
  mounts.push(dir);
  return null;
}
const canMount = process.getuid?.() === 0;

describe.skipIf(!canMount)('a read-only and a full disk (tmpfs; needs root)', () => {
  it('read-only workspace: train, sfm and ingest refuse at once, before any work', async (ctx) => {
    const mnt = path.join(tmp, 'ro');
    const why = mountTmpfs(mnt, '2m');
    if (why) return ctx.skip(why);
    const ws = path.join(mnt, 'ws');
    expect(r2s('synth', ws, '--views', '6', '--size', '40', '--detail', '0.1').status).toBe(0);
    expect(spawnSync('mount', ['-o', 'remount,ro', mnt]).status).toBe(0);
    const t0 = Date.now();
    const line = await fails(ws, 1, 'train', '-w', ws, '--force', '--iterations', '50', '--backend', 'reference', '--tf-backend', 'cpu');
    expect(line).toContain(ws);
    expect(line).toMatch(/read-only file system.*fix: /);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(await fails(ws, 1, 'sfm', '-w', ws)).toMatch(/read-only file system/);
    if (existsSync(lund)) {
      const line3 = await fails(mnt, 1, 'ingest', lund, '-w', path.join(mnt, 'new', 'ws'));
      expect(line3).toMatch(/new\/ws.*not writable, read-only file system/);
    }
  });

  it('full disk: training fails with one line, earlier files intact, no record, no leftovers', async (ctx) => {
    const mnt = path.join(tmp, 'full');
    const why = mountTmpfs(mnt, '400k');
    if (why) return ctx.skip(why);
    const ws = path.join(mnt, 'ws');
    expect(r2s('synth', ws, '--views', '6', '--size', '40', '--detail', '0.1').status).toBe(0);
    // fill the disk, leaving room for the lock but not for the scene
    const filler = openSync(path.join(mnt, 'filler'), 'w');
    try {
      for (;;) writeSync(filler, Buffer.alloc(4096));
    } catch {
      // ENOSPC: full
    }
    closeSync(filler);
    const { size } = statSync(path.join(mnt, 'filler'));
    spawnSync('truncate', ['-s', String(Math.max(0, size - 16 * 1024)), path.join(mnt, 'filler')]);
    const line = await fails(ws, 1, 'train', '-w', ws, '--iterations', '3', '--backend', 'reference', '--tf-backend', 'cpu');
    expect(line).toMatch(/no space left on device.*fix: free disk space/);
    expect(existsSync(path.join(ws, 'stages', 'train.json'))).toBe(false);
    expect(existsSync(path.join(ws, '.r2s.lock'))).toBe(false);
  });
});
