/**
 * The runner with toy stages: the whole chain must be current (or is refreshed when asked), the
 * workspace lock refuses a second holder and takes over a dead one's (a `lock: 'none'` stage runs
 * beside the holder), records keep their format.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { createRunner } from '../src/pipeline/runner.js';
import { defineStage, int, type StageSpec } from '../src/pipeline/stage.js';
import { Workspace } from '../src/pipeline/workspace.js';
import { acquireWorkspaceLock, lockFileOf } from '../src/pipeline/lock.js';
import { writeFileAtomic } from '../src/util/fsx.js';
import { UserError } from '../src/util/errors.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'r2s-runner-'));

/** a: input.txt → a.txt;  b: a.txt → b.txt;  c: b.txt → c.txt */
function toyStages(runs: string[]): StageSpec[] {
  const copy = (name: string, from: string, after: string[]) =>
    defineStage({
      name,
      summary: `toy ${name}`,
      reads: [from],
      writes: [`${name}.txt`],
      after,
      options: z.object({ k: int('k', { min: 0, max: 9, default: 1 }) }),
      plan: (_ws, o) => ({ inputs: [from], options: { k: o.k }, outputs: [`${name}.txt`] }),
      async run(ws: Workspace) {
        runs.push(name);
        await writeFileAtomic(ws.resolve(`${name}.txt`), readFileSync(ws.resolve(from), 'utf8') + name);
        return { bytes: 1 };
      },
    }) as unknown as StageSpec;
  return [copy('a', 'input.txt', []), copy('b', 'a.txt', ['a']), copy('c', 'b.txt', ['b'])];
}

describe('runner: freshness of the whole chain', () => {
  it('refuses to run on a stale stage, naming it and the command; refresh re-runs it instead', async () => {
    const runs: string[] = [];
    const [a, b, c] = toyStages(runs);
    const runner = createRunner([a!, b!, c!]);
    const ws = new Workspace(tmp());
    writeFileSync(ws.resolve('input.txt'), 'x');
    for (const s of [a!, b!, c!]) await runner.run(s, ws, { k: 1 }, { silent: true });
    expect(runs).toEqual(['a', 'b', 'c']);
    // the record format is StageRecord's
    expect(ws.readStage('b')).toMatchObject({ stage: 'b', status: 'done', options: { k: 1 }, outputs: ['b.txt'], summary: { bytes: 1 } });
    expect((await runner.run(c!, ws, { k: 1 }, { silent: true })).skipped).toBe(true);

    // a re-run upstream (like a forced re-ingest) leaves b stale: c must not run on b's old output
    writeFileSync(ws.resolve('input.txt'), 'y');
    await runner.run(a!, ws, { k: 1 }, { silent: true });
    const err = await runner.run(c!, ws, { k: 1 }, { silent: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).oneLine()).toBe(`stage 'b' is out of date: a.txt changed since it ran (run \`r2s b -w ${ws.root}\`)`);
    expect(runs).toEqual(['a', 'b', 'c', 'a']);

    // a stale stage further up is named first
    writeFileSync(ws.resolve('input.txt'), 'z');
    const far = await runner.run(c!, ws, { k: 1 }, { silent: true }).catch((e: unknown) => e);
    expect((far as UserError).message).toMatch(/^stage 'a' is out of date: input\.txt changed/);

    const out = await runner.run(c!, ws, { k: 1 }, { silent: true, refresh: true });
    expect(out.refreshed).toEqual(['a', 'b']);
    expect(readFileSync(ws.resolve('c.txt'), 'utf8')).toBe('zabc');
  });

  it('of several producers of the same files, the one that ran last counts', async () => {
    const runs: string[] = [];
    const [a, b] = toyStages(runs);
    const alt = { ...a!, name: 'alt', writes: ['a.txt'], plan: () => ({ inputs: ['other.txt'], options: {}, outputs: ['a.txt'] }), run: async (ws: Workspace) => { await writeFileAtomic(ws.resolve('a.txt'), 'alt'); return {}; } } as StageSpec;
    const b2 = { ...b!, after: ['a', 'alt'] } as StageSpec;
    const runner = createRunner([a!, alt, b2]);
    const ws = new Workspace(tmp());
    writeFileSync(ws.resolve('input.txt'), 'x');
    writeFileSync(ws.resolve('other.txt'), 'o');
    await runner.run(a!, ws, { k: 1 }, { silent: true });
    await runner.run(alt, ws, {}, { silent: true });
    writeFileSync(ws.resolve('input.txt'), 'changed'); // a is stale, but alt overwrote its output since
    await expect(runner.run(b2, ws, { k: 1 }, { silent: true })).resolves.toMatchObject({ skipped: false });
  });
});

describe('workspace lock', () => {
  it('a second holder is refused with who holds it; a dead holder\'s lock is taken over', async () => {
    const root = tmp();
    // a live process holds the lock
    const sleeper = spawn('sleep', ['30']);
    writeFileSync(lockFileOf(root), JSON.stringify({ pid: sleeper.pid, hostname: os.hostname(), startedAt: '2024-01-01T00:00:00.000Z', command: 'r2s train' }));
    try {
      const e = (() => { try { acquireWorkspaceLock(root, 'r2s sfm'); } catch (x) { return x; } })();
      expect((e as UserError).oneLine()).toMatch(new RegExp(`^workspace ${root} in use by pid ${sleeper.pid} \\(r2s train\\) since 2024-01-01T00:00:00.000Z`));
    } finally {
      sleeper.kill();
    }
    // a process that has exited
    const dead = spawnSync('true').pid;
    writeFileSync(lockFileOf(root), JSON.stringify({ pid: dead, hostname: os.hostname(), startedAt: '2024-01-01T00:00:00.000Z', command: 'r2s train' }));
    const release = acquireWorkspaceLock(root, 'r2s sfm');
    expect(JSON.parse(readFileSync(lockFileOf(root), 'utf8'))).toMatchObject({ pid: process.pid, command: 'r2s sfm' });
    // re-entrant within the process (reconstruct holds it across stages)
    const inner = acquireWorkspaceLock(root, 'r2s train');
    inner();
    expect(existsSync(lockFileOf(root))).toBe(true);
    release();
    expect(existsSync(lockFileOf(root))).toBe(false);
  });

  it("a stage with lock: 'none' runs while another process holds the lock; its record is written unless it says not to", async () => {
    const runs: string[] = [];
    const [a] = toyStages(runs);
    const reader = { ...a!, name: 'reader', writes: [], lock: 'none', recorded: (s: { listed?: boolean }) => !s.listed, plan: () => ({ inputs: ['input.txt'], options: {}, outputs: [], force: true }), run: async (_ws: Workspace, o: { list?: boolean }) => { runs.push('reader'); return { listed: Boolean(o.list) }; } } as unknown as StageSpec;
    const runner = createRunner([a!, reader]);
    const ws = new Workspace(tmp());
    writeFileSync(ws.resolve('input.txt'), 'x');
    const sleeper = spawn('sleep', ['30']);
    writeFileSync(lockFileOf(ws.root), JSON.stringify({ pid: sleeper.pid, hostname: os.hostname(), startedAt: '2024-01-01T00:00:00.000Z', command: 'r2s train' }));
    try {
      await expect(runner.run(a!, ws, { k: 1 }, { silent: true })).rejects.toThrow(/in use by pid/);
      await runner.run(reader, ws, { list: true }, { silent: true });
      expect(ws.readStage('reader')).toBeNull();
      const out = await runner.run(reader, ws, {}, { silent: true });
      expect(out.skipped).toBe(false);
      expect(ws.readStage('reader')).toMatchObject({ stage: 'reader', status: 'done', summary: { listed: false } });
      expect(runs).toEqual(['reader', 'reader']);
      expect(JSON.parse(readFileSync(lockFileOf(ws.root), 'utf8'))).toMatchObject({ pid: sleeper.pid }); // untouched
    } finally {
      sleeper.kill();
    }
  });
});
