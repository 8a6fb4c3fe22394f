/**
 * The local backend end to end: four synthetic captures and one broken one (a folder of
 * non-images), two jobs at once; kill -9 of the batch in the middle of a train, then a re-run
 * that completes without running any finished stage twice (the attempt log and the workspaces'
 * stage records prove it) and resumes the interrupted train from its checkpoint.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
let dir: string;
let yaml: string;

function r2s(args: string[]): { code: number; stderr: string; stdout: string } {
  try {
    const stdout = execFileSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-batch-local-'));
  for (let i = 1; i <= 4; i++) r2s(['synth', path.join(dir, 'caps', `syn${i}`), '--views', '8', '--size', '48', '--detail', '0.2', '--seed', String(i)]);
  mkdirSync(path.join(dir, 'caps', 'broken'), { recursive: true });
  writeFileSync(path.join(dir, 'caps', 'broken', 'notes.txt'), 'not an image');
  yaml = path.join(dir, 'p.yaml');
  writeFileSync(
    yaml,
    `inputs: [caps/*]
output: out
concurrency: 2
retries: { attempts: 1 }
stages:
  - stage: import
  - stage: train
    options: { iterations: 120, checkpoint-every: 10, max-size: 48, photometric: false }
  - stage: eval
`,
  );
}, 120_000);

const db = () => new Database(path.join(dir, 'out', 'batch.db'), { readonly: true, fileMustExist: true });

describe('r2s batch (sqlite)', () => {
  it('kill -9 mid-train, re-run completes; no finished stage runs twice', async () => {
    const child = spawn(process.execPath, [...CLI, 'batch', yaml], { stdio: 'ignore' });
    // Wait for a train with a checkpoint on disk, then kill the batch hard.
    let victim = '';
    for (let t = 0; t < 600 && !victim; t++) {
      await new Promise((r) => setTimeout(r, 500));
      if (!existsSync(path.join(dir, 'out', 'batch.db'))) continue;
      const d = db();
      let running: { capture: string }[];
      try {
        running = d.prepare(`SELECT capture FROM jobs WHERE stage = 'train' AND status = 'running'`).all() as { capture: string }[];
      } catch {
        continue; // the file exists, its tables not yet (caught between the two once under load)
      } finally {
        d.close();
      }
      victim = running.map((r) => r.capture).find((c) => {
        const ck = path.join(dir, 'out', c, 'scene', 'checkpoints');
        return existsSync(ck) && readdirSync(ck).some((f) => !f.startsWith('.'));
      }) ?? '';
    }
    expect(victim).not.toBe('');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const recordsBefore = stageRecordTimes();

    const rerun = r2s(['batch', yaml]);
    expect(rerun.code).toBe(1); // the broken capture failed
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'batch-report.json'), 'utf8')) as {
      captures: { capture: string; status: string; psnr?: number; registered?: number; error?: string }[];
    };
    const byName = new Map(report.captures.map((c) => [c.capture, c]));
    for (let i = 1; i <= 4; i++) {
      const c = byName.get(`syn${i}`)!;
      expect(c.status).toBe('done');
      expect(c.psnr).toBeGreaterThan(10);
      expect(c.registered).toBe(8);
    }
    expect(byName.get('broken')!.status).toBe('failed');
    expect(byName.get('broken')!.error).toMatch(/no COLMAP model/);
    expect(byName.get('broken')!.error).not.toContain('\n');
    expect(existsSync(path.join(dir, 'out', 'report.html'))).toBe(true);

    // Every job finished exactly once; the killed train resumed from its checkpoint.
    const d = db();
    const attempts = d.prepare('SELECT job_id, outcome, resumed FROM attempts').all() as { job_id: string; outcome: string; resumed: number }[];
    d.close();
    for (let i = 1; i <= 4; i++) for (const s of ['import', 'train', 'eval']) expect(attempts.filter((a) => a.job_id === `syn${i}/${s}` && a.outcome === 'done')).toHaveLength(1);
    expect(attempts.some((a) => a.job_id === `${victim}/train` && a.outcome === 'interrupted')).toBe(true);
    expect(attempts.some((a) => a.job_id === `${victim}/train` && a.outcome === 'done' && a.resumed === 1)).toBe(true);
    // Stage records written before the kill were not rewritten by the re-run.
    const after = stageRecordTimes();
    for (const [k, t] of recordsBefore) expect(after.get(k)).toBe(t);
    const train = JSON.parse(readFileSync(path.join(dir, 'out', victim, 'stages', 'train.json'), 'utf8')) as { summary?: { resumedFrom?: number } };
    expect(train.summary?.resumedFrom).toBeGreaterThan(0);

    // A third run has nothing to do.
    const again = r2s(['batch', yaml]);
    expect(again.code).toBe(1);
    const d2 = db();
    expect((d2.prepare(`SELECT COUNT(*) AS n FROM attempts WHERE outcome = 'done'`).get() as { n: number }).n).toBe(12);
    d2.close();
    const status = r2s(['batch', 'status', path.join(dir, 'out')]);
    expect(status.stdout).toMatch(/syn1 +✓/);
  }, 900_000);
});

function stageRecordTimes(): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 1; i <= 4; i++) {
    const st = path.join(dir, 'out', `syn${i}`, 'stages');
    if (!existsSync(st)) continue;
    for (const f of readdirSync(st)) out.set(`syn${i}/${f}`, (JSON.parse(readFileSync(path.join(st, f), 'utf8')) as { startedAt: string }).startedAt);
  }
  return out;
}
