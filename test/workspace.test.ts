import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Workspace, stableStringify } from '../src/pipeline/workspace.js';
import { writeFileAtomic, replaceDirAtomic } from '../src/util/fsx.js';

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'r2s-ws-'));
}

describe('Workspace stages', () => {
  it('runs a stage once, skips it when inputs and options are unchanged, reruns when they change', async () => {
    const ws = new Workspace(tmp());
    writeFileSync(path.join(ws.root, 'in.txt'), 'a');
    let runs = 0;
    const spec = () => ({ inputs: ['in.txt'], options: { k: 1 }, outputs: ['out.txt'] });
    const body = async () => {
      runs++;
      await writeFileAtomic(ws.resolve('out.txt'), readFileSync(ws.resolve('in.txt')));
      return { summary: { runs } };
    };
    expect((await ws.runStage('s', spec(), body)).skipped).toBe(false);
    expect((await ws.runStage('s', spec(), body)).skipped).toBe(true);
    expect(runs).toBe(1);
    writeFileSync(path.join(ws.root, 'in.txt'), 'b');
    expect((await ws.runStage('s', spec(), body)).skipped).toBe(false);
    expect(runs).toBe(2);
    expect((await ws.runStage('s', { ...spec(), options: { k: 2 } }, body)).skipped).toBe(false);
    expect(runs).toBe(3);
    const rec = ws.readStage('s')!;
    expect(rec.options).toEqual({ k: 2 });
    expect(rec.inputs['in.txt']).toMatch(/^[0-9a-f]{64}$/);
    expect(rec.summary).toEqual({ runs: 3 });
  });

  it('a failing stage writes no record and keeps the previous outputs', async () => {
    const ws = new Workspace(tmp());
    writeFileSync(path.join(ws.root, 'in.txt'), 'a');
    const spec = { inputs: ['in.txt'], options: {}, outputs: ['out.txt'] };
    await ws.runStage('s', spec, async () => {
      await writeFileAtomic(ws.resolve('out.txt'), 'good');
    });
    const before = readFileSync(ws.stagePath('s'), 'utf8');
    await expect(
      ws.runStage('s', { ...spec, force: true }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(readFileSync(ws.stagePath('s'), 'utf8')).toBe(before);
    expect(readFileSync(ws.resolve('out.txt'), 'utf8')).toBe('good');
  });

  it('reruns when a recorded output is missing', async () => {
    const ws = new Workspace(tmp());
    let runs = 0;
    const spec = { inputs: [], options: {}, outputs: ['out.txt'] };
    const body = async () => {
      runs++;
      await writeFileAtomic(ws.resolve('out.txt'), 'x');
    };
    await ws.runStage('s', spec, body);
    (await import('node:fs')).rmSync(ws.resolve('out.txt'));
    await ws.runStage('s', spec, body);
    expect(runs).toBe(2);
  });

  it('reruns a stage recorded by another r2s version', async () => {
    const ws = new Workspace(tmp());
    let runs = 0;
    const spec = { inputs: [], options: {}, outputs: [] };
    await ws.runStage('s', spec, async () => { runs++; });
    const rec = JSON.parse(readFileSync(ws.stagePath('s'), 'utf8'));
    writeFileSync(ws.stagePath('s'), JSON.stringify({ ...rec, r2sVersion: '0.0.0-old' }));
    await ws.runStage('s', spec, async () => { runs++; });
    expect(runs).toBe(2);
  });

  it('stableStringify ignores key order', () => {
    expect(stableStringify({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(stableStringify({ a: [1, { c: 3, d: 2 }], b: 1 }));
  });
});

describe('atomic writes', () => {
  it('replaceDirAtomic keeps the old folder when the build fails', async () => {
    const root = tmp();
    const dir = path.join(root, 'out');
    await replaceDirAtomic(dir, async (t) => writeFileSync(path.join(t, 'a.txt'), '1'));
    await expect(
      replaceDirAtomic(dir, async (t) => {
        writeFileSync(path.join(t, 'a.txt'), '2');
        throw new Error('half way');
      }),
    ).rejects.toThrow('half way');
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('1');
    expect(readdirSync(root)).toEqual(['out']); // no temp folders left behind
    await replaceDirAtomic(dir, async (t) => writeFileSync(path.join(t, 'b.txt'), '3'));
    expect(existsSync(path.join(dir, 'a.txt'))).toBe(false);
    expect(readFileSync(path.join(dir, 'b.txt'), 'utf8')).toBe('3');
  });
});
