/**
 * The BullMQ backend with a real redis-server on a free port (started and killed here): two
 * `r2s worker` processes, one killed with -9 mid-train (after a checkpoint) — every job completes
 * exactly once, the killed try is marked interrupted and its job resumed by another worker (a
 * third one joins after the kill); Redis stopped mid-batch and started again on the same port
 * (empty) — the batch reports the outage, re-submits what Redis lost, and completes with no job
 * lost or run twice. Skipped, saying why, without redis-server or the
 * ioredis package BullMQ 6 needs.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn, execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const hasClient = (() => {
  try {
    createRequire(path.resolve('node_modules/bullmq/package.json')).resolve('ioredis');
    return true;
  } catch {
    return false;
  }
})();
const skipReason = !hasRedis ? 'redis-server is not installed (apt-get install redis-server)' : !hasClient ? "BullMQ 6 needs the 'ioredis' package (npm install ioredis@5)" : '';
if (skipReason) console.warn(`batch-bullmq: skipped — ${skipReason}`);

let dir: string;
let port: number;
let redis: ChildProcess | null = null;
const workers: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().includes('PONG')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}

function worker(): ChildProcess {
  const w = spawn(process.execPath, [...CLI, 'worker', '--redis', `redis://127.0.0.1:${port}`, '--lock-duration', '4'], { stdio: ['ignore', 'ignore', 'pipe'] });
  workers.push(w);
  return w;
}

describe.skipIf(Boolean(skipReason))('r2s batch --redis / r2s worker', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-batch-bull-'));
    for (let i = 1; i <= 3; i++) execFileSync(process.execPath, [...CLI, 'synth', path.join(dir, 'caps', `syn${i}`), '--views', '8', '--size', '48', '--detail', '0.2', '--seed', String(i)], { stdio: 'ignore' });
    writeFileSync(
      path.join(dir, 'p.yaml'),
      `inputs: [caps/*]\noutput: out\nretries: { attempts: 3, backoff: 1s }\nstages:\n  - stage: import\n  - stage: train\n    options: { iterations: 120, checkpoint-every: 10, max-size: 48, photometric: false }\n  - stage: eval\n`,
    );
    port = await freePort();
    await startRedis();
  }, 120_000);

  afterAll(() => {
    for (const w of workers) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
  });

  it('unreachable Redis: one line', () => {
    const r = spawnSync(process.execPath, [...CLI, 'batch', path.join(dir, 'p.yaml'), '--redis', 'redis://127.0.0.1:1'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it('a worker killed mid-job and a Redis restart lose no job', async () => {
    const a = worker();
    worker();
    const batch = spawn(process.execPath, [...CLI, 'batch', path.join(dir, 'p.yaml'), '--redis', `redis://127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    batch.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    // Kill worker a while it runs a train; later stop Redis and start it again, empty.
    let killed = false;
    let killedJob = '';
    let restarted = false;
    const started = Date.now();
    while (batch.exitCode === null && Date.now() - started < 600_000) {
      await new Promise((r) => setTimeout(r, 500));
      const attempts = readAttempts();
      // Kill a mid-train, once its train has written a checkpoint (the takeover must resume it).
      const training = attempts.find((x) => x.outcome === 'running' && x.jobId.endsWith('/train') && x.worker.endsWith(`:${a.pid}`));
      if (!killed && training && hasCheckpoint(training.jobId.split('/')[0]!)) {
        a.kill('SIGKILL');
        killed = true;
        killedJob = training.jobId;
        // A fresh worker joins: at the Redis restart two live workers may both be offered a job
        // that is still running on the other; its heartbeat must keep it from running twice.
        worker();
      } else if (killed && !restarted && attempts.filter((x) => x.outcome === 'done').length >= 4) {
        redis!.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 3000));
        await startRedis();
        restarted = true;
      }
    }
    const code = await new Promise<number>((r) => (batch.exitCode !== null ? r(batch.exitCode) : batch.once('exit', (c) => r(c ?? 1))));
    if (code !== 0) console.error(log);
    else console.log(log.split('\n').filter((l) => /redis:/.test(l)).join('\n')); // the outage, as the batch reported it
    expect(killed).toBe(true);
    expect(restarted).toBe(true);
    expect(code).toBe(0);
    expect(log).toMatch(/redis: connection to .* lost/);
    expect(log).toMatch(/redis: .* is back after \d+ s; re-submitted \d+ jobs/);
    const all = readAttempts();
    const done = all.filter((x) => x.outcome === 'done' && !x.skipped);
    // Exactly once: one finished try per job, and its stage record written once.
    for (let i = 1; i <= 3; i++) for (const s of ['import', 'train', 'eval']) expect(done.filter((x) => x.jobId === `syn${i}/${s}`)).toHaveLength(1);
    // The killed worker's try is marked interrupted by the worker that took the job over after the
    // lock expired, and that one resumed from the checkpoint.
    const mine = all.filter((x) => x.jobId === killedJob);
    expect(mine.find((x) => x.worker.endsWith(`:${a.pid}`))?.outcome).toBe('interrupted');
    const takeover = mine.find((x) => x.outcome === 'done')!;
    expect(takeover.worker.endsWith(`:${a.pid}`)).toBe(false);
    expect(takeover.resumed).toBe(true);
    expect(all.filter((x) => x.worker.endsWith(`:${a.pid}`) && x.outcome === 'done').every((x) => x.jobId !== killedJob)).toBe(true);
    const report = JSON.parse(readFileSync(path.join(dir, 'out', 'batch-report.json'), 'utf8')) as { totals: { done: number } };
    expect(report.totals.done).toBe(3);
    const status = spawnSync(process.execPath, [...CLI, 'batch', 'status', path.join(dir, 'out')], { encoding: 'utf8' });
    expect(status.stdout).toMatch(/bullmq/);
    expect(status.stdout).toMatch(/9\/9 done/);
    // Redis gone: status still shows what the output root knows.
    redis!.kill('SIGKILL');
    const offline = spawnSync(process.execPath, [...CLI, 'batch', 'status', path.join(dir, 'out')], { encoding: 'utf8' });
    expect(offline.status).toBe(0);
    expect(offline.stdout).toMatch(/bullmq \(redis unreachable\)[\s\S]*9\/9 done/);
  }, 900_000);
});

function hasCheckpoint(capture: string): boolean {
  try {
    return readdirSync(path.join(dir, 'out', capture, 'scene', 'checkpoints')).some((f) => !f.startsWith('.'));
  } catch {
    return false;
  }
}

function readAttempts(): { jobId: string; worker: string; outcome: string; skipped?: boolean; resumed?: boolean }[] {
  const d = path.join(dir, 'out', 'attempts');
  try {
    return readdirSync(d).filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((f) => JSON.parse(readFileSync(path.join(d, f), 'utf8')));
  } catch {
    return [];
  }
}
