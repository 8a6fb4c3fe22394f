/**
 * Batch benchmarks → bench/batch.json.
 *  - queue overhead per job of each backend: 200 no-op jobs (40 captures × 5 stages) through the
 *    scheduler with the job runner replaced by a no-op, so only the queue's own work is timed;
 *  - the child-process cost every real job pays on top (node + tsx + the stage list);
 *  - wall time of eight small synthetic captures (import → train 60 steps → eval) with one and
 *    two workers, locally (`wall`) and as one or two `r2s worker` processes on BullMQ
 *    (`wall-bullmq`); run sections by name: `tsx bench/batch.ts overhead wall wall-bullmq`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteQueue } from '../src/batch/queue-sqlite.js';
import { BullmqQueue } from '../src/batch/queue-bullmq.js';
import { useIoredis } from '../src/batch/bullmq-shared.js';
import type { JobSpec } from '../src/batch/pipeline-types.js';
import { writeJsonAtomic } from '../src/util/fsx.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CLI = ['--import', 'tsx', path.join(root, 'src/cli/main.ts')];
const sections = process.argv.slice(2);
const want = (s: string) => sections.length === 0 || sections.includes(s);
const out: Record<string, unknown> = { machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`, date: new Date().toISOString(), loadAvgAtStart: os.loadavg().map((x) => +x.toFixed(1)) };

function noopJobs(captures: number, stages: number): JobSpec[] {
  const jobs: JobSpec[] = [];
  for (let c = 0; c < captures; c++)
    for (let s = 0; s < stages; s++)
      jobs.push({ id: `c${c}/s${s}`, capture: `c${c}`, stage: `s${s}`, step: s, workspace: `/tmp/none/c${c}`, options: {}, resources: { slots: 1, gpu: false }, retries: { attempts: 1, backoffS: 0 } });
  return jobs;
}

/**
 * BullMQ: the same 200 no-op jobs as flows (one chain per capture) on a redis-server started here,
 * run by an in-process BullMQ Worker (concurrency 2) whose processor does nothing, while the
 * submitter polls as `r2s batch --redis` does (once a second) until every job is done.
 */
async function startRedis(): Promise<{ port: number; stop: () => void }> {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().includes('PONG'); i++) await new Promise((r) => setTimeout(r, 100));
  return { port, stop: () => redis.kill('SIGKILL') };
}

async function bullmqOverhead(): Promise<Record<string, unknown>> {
  const { port, stop } = await startRedis();
  try {
    await useIoredis();
    const { Worker } = await import('bullmq');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-bench-bull-'));
    const url = `redis://127.0.0.1:${port}`;
    const jobs = noopJobs(40, 5);
    const q = await BullmqQueue.connect({ url, queueName: 'bench', output: dir });
    const worker = new Worker('bench', async () => ({}), { connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null }, concurrency: 2 });
    const t0 = performance.now();
    await q.submit(jobs);
    const tSubmit = performance.now() - t0;
    await q.runToCompletion({ concurrency: 2, gpus: 1, output: dir });
    const ms = performance.now() - t0;
    const done = (await q.snapshot()).filter((s) => s.status === 'done').length;
    await worker.close();
    await q.close();
    return { jobs: jobs.length, done, msPerJob: +(ms / jobs.length).toFixed(2), totalMs: Math.round(ms), submitMs: Math.round(tSubmit), note: 'from the first flow added until the submitter (polling as r2s batch --redis does) sees all done; no-op processor in one in-process Worker, concurrency 2' };
  } finally {
    stop();
  }
}

if (want('overhead')) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-bench-batch-'));
  const jobs = noopJobs(40, 5);
  const q = new SqliteQueue(dir, null, async () => ({ ok: true, seconds: 0 }));
  const t0 = performance.now();
  await q.submit(jobs);
  await q.runToCompletion({ concurrency: 2, gpus: 1, output: dir });
  const ms = performance.now() - t0;
  const done = (await q.snapshot()).filter((s) => s.status === 'done').length;
  await q.close();
  out.sqlite = { jobs: jobs.length, done, msPerJob: +(ms / jobs.length).toFixed(2), totalMs: Math.round(ms) };
  let hasIoredis = true;
  try {
    createRequire(path.join(root, 'node_modules/bullmq/package.json')).resolve('ioredis');
  } catch {
    hasIoredis = false;
  }
  const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
  out.bullmq = !hasIoredis ? { skipped: "BullMQ 6 needs the 'ioredis' package, not installed here" } : !hasRedis ? { skipped: 'redis-server is not installed' } : await bullmqOverhead();
  // Child-process cost: job-main loads tsx, the stage runner and only the job's stage module
  // (src/stages/catalog.ts), then fails at once on a missing workspace; 'none' loads no stage.
  const byStage: Record<string, number> = {};
  for (const stage of ['none', 'import', 'ingest', 'sfm', 'train', 'eval']) {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/batch/job-main.ts'), JSON.stringify({ stage, workspace: path.join(dir, 'missing'), options: {}, resume: false, command: 'bench' })]);
      times.push(performance.now() - t);
    }
    byStage[stage] = Math.round(Math.min(...times));
  }
  out.childProcessMs = byStage.none;
  out.childProcessByStageMs = byStage;
}

if (want('wall')) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-bench-batch-wall-'));
  for (let i = 1; i <= 8; i++) execFileSync(process.execPath, [...CLI, 'synth', path.join(dir, 'caps', `syn${i}`), '--views', '8', '--size', '48', '--detail', '0.2', '--seed', String(i)], { stdio: 'ignore' });
  const wall: Record<string, number> = {};
  for (const workers of [1, 2]) {
    const yaml = path.join(dir, `p${workers}.yaml`);
    writeFileSync(yaml, `inputs: [caps/*]\noutput: out${workers}\nstages:\n  - stage: import\n  - stage: train\n    options: { iterations: 60, max-size: 48, photometric: false }\n  - stage: eval\n`);
    const t = performance.now();
    const r = spawnSync(process.execPath, [...CLI, 'batch', yaml, '--workers', String(workers)], { stdio: 'ignore' });
    wall[`workers${workers}`] = +((performance.now() - t) / 1000).toFixed(1);
    if (r.status !== 0) wall[`workers${workers}Failed`] = r.status ?? -1;
  }
  out.eightCapturesWallS = wall;
}

// The same eight captures on BullMQ: `r2s batch --redis` and one or two `r2s worker` processes
// (concurrency 1 each), started together; wall time of the batch command.
if (want('wall-bullmq') && spawnSync('redis-server', ['--version']).status === 0) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-bench-batch-wallbull-'));
  for (let i = 1; i <= 8; i++) execFileSync(process.execPath, [...CLI, 'synth', path.join(dir, 'caps', `syn${i}`), '--views', '8', '--size', '48', '--detail', '0.2', '--seed', String(i)], { stdio: 'ignore' });
  const wall: Record<string, number> = {};
  for (const workers of [1, 2]) {
    const { port, stop } = await startRedis();
    const url = `redis://127.0.0.1:${port}`;
    const yaml = path.join(dir, `p${workers}.yaml`);
    writeFileSync(yaml, `inputs: [caps/*]\noutput: out${workers}\nstages:\n  - stage: import\n  - stage: train\n    options: { iterations: 60, max-size: 48, photometric: false }\n  - stage: eval\n`);
    const t = performance.now();
    const ws = Array.from({ length: workers }, () => spawn(process.execPath, [...CLI, 'worker', '--redis', url], { stdio: 'ignore' }));
    const batch = spawn(process.execPath, [...CLI, 'batch', yaml, '--redis', url], { stdio: 'ignore' });
    const code = await new Promise<number>((r) => batch.once('exit', (c) => r(c ?? 1)));
    wall[`workers${workers}`] = +((performance.now() - t) / 1000).toFixed(1);
    if (code !== 0) wall[`workers${workers}Failed`] = code;
    for (const w of ws) w.kill('SIGTERM');
    await Promise.all(ws.map((w) => new Promise((r) => (w.exitCode !== null ? r(0) : w.once('exit', r)))));
    stop();
  }
  out.eightCapturesWallBullmqS = wall;
}

// Sections not run this time (and the "drive" figures, recorded by hand) are kept.
const file = path.join(here, 'batch.json');
const prev = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
await writeJsonAtomic(file, { ...prev, ...out });
console.log(JSON.stringify(out, null, 2));
