/**
 * Batch benchmarks → bench/batch.json.
 *  - queue overhead per job of each backend: 200 no-op jobs (40 captures × 5 stages) through the
 *    scheduler with the job runner replaced by a no-op, so only the queue's own work is timed;
 *  - the child-process cost every real job pays on top (node + tsx + the stage list);
 *  - wall time of eight small synthetic captures (import → train 60 steps → eval) with one and
 *    two workers (skip with `tsx bench/batch.ts overhead`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteQueue } from '../src/batch/queue-sqlite.js';
import type { JobSpec } from '../src/batch/pipeline-types.js';
import { writeJsonAtomic } from '../src/util/fsx.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CLI = ['--import', 'tsx', path.join(root, 'src/cli/main.ts')];
const sections = process.argv.slice(2);
const want = (s: string) => sections.length === 0 || sections.includes(s);
const out: Record<string, unknown> = { machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`, date: new Date().toISOString() };

function noopJobs(captures: number, stages: number): JobSpec[] {
  const jobs: JobSpec[] = [];
  for (let c = 0; c < captures; c++)
    for (let s = 0; s < stages; s++)
      jobs.push({ id: `c${c}/s${s}`, capture: `c${c}`, stage: `s${s}`, step: s, workspace: `/tmp/none/c${c}`, options: {}, resources: { slots: 1, gpu: false }, retries: { attempts: 1, backoffS: 0 } });
  return jobs;
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
  out.bullmq = hasIoredis ? { note: 'not measured yet: run with redis-server on 127.0.0.1:6379' } : { skipped: "BullMQ 6 needs the 'ioredis' package, not installed here" };
  // Child-process cost: job-main loads tsx and the stage list, then fails on an unknown stage.
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/batch/job-main.ts'), JSON.stringify({ stage: 'none', workspace: dir, options: {}, resume: false, command: 'bench' })]);
    times.push(performance.now() - t);
  }
  out.childProcessMs = Math.round(Math.min(...times));
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

await writeJsonAtomic(path.join(here, 'batch.json'), out);
console.log(JSON.stringify(out, null, 2));
