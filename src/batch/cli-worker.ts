/**
 * `r2s worker --redis URL [--concurrency N]`: run batch jobs from BullMQ on this machine. Each job
 * runs as a child process (execute-job.ts), exactly as on the local backend. A worker that dies
 * loses only its job's progress since the last checkpoint: BullMQ's stalled-job check hands the
 * job to another worker once the lock expires, and that one resumes it.
 */
import { parseArgs } from 'node:util';
import { Worker, type Job } from 'bullmq';
import { UserError, errorMessage } from '../util/errors.js';
import { info } from '../util/log.js';
import { loadStageCatalog } from './stage-bridge.js';
import { executeJob, workerName } from './execute-job.js';
import { parseRedisUrl, readResultFile, writeAttempt, type BullJobData } from './bullmq-shared.js';
import { DEFAULT_QUEUE_NAME } from './queue-factory.js';
import { missingRedisClient } from './queue-bullmq.js';
import type { AttemptRecord } from './queue.js';

export const summary = 'run batch jobs from a BullMQ queue (r2s batch --redis) on this machine';
export const usage = `r2s worker --redis redis://HOST:6379 [options]
  --concurrency N     jobs at once (default 1)
  --queue NAME        queue to serve (default r2s)
  --lock-duration S   seconds a job's lock lasts without renewal; a dead worker's job is taken
                      over after about this long (default 30)
  --exit-when-idle S  stop after S seconds without work (default: run until stopped)`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOrFail(argv);
  if (!values.redis) throw new UserError('no Redis given', { fix: 'r2s worker --redis redis://HOST:6379' });
  const concurrency = positive(values.concurrency, 'concurrency', 1);
  const lockS = positive(values['lock-duration'], 'lock-duration', 30);
  const idleS = values['exit-when-idle'] !== undefined ? positive(values['exit-when-idle'], 'exit-when-idle', 0) : 0;
  const connection = { ...parseRedisUrl(values.redis), maxRetriesPerRequest: null, retryStrategy: () => 1000 };
  const catalog = await loadStageCatalog();
  const me = workerName();
  let lastWork = Date.now();
  let active = 0;

  const processor = async (job: Job<BullJobData>) => {
    active++;
    const { spec, output } = job.data;
    try {
      // Finished already (the job was re-submitted after a Redis restart): nothing to run.
      const done = readResultFile(output, spec);
      if (done?.ok) return done.result ?? {};
      const attempt: AttemptRecord = { jobId: spec.id, attempt: job.attemptsMade + 1, worker: me, startedAt: new Date().toISOString(), outcome: 'running' };
      await writeAttempt(output, attempt);
      const retry = job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0;
      let lastProgress = 0;
      info(`worker: ${spec.id} started${retry ? ' (retry)' : ''}`);
      const res = await executeJob(spec, {
        catalog,
        output,
        retry,
        onProgress: (p) => {
          if (Date.now() - lastProgress < 1000 && p.done < p.total) return;
          lastProgress = Date.now();
          void job.updateProgress(p).catch(() => {});
        },
      });
      await writeAttempt(output, { ...attempt, finishedAt: new Date().toISOString(), outcome: res.ok ? 'done' : 'failed', ...(res.skipped ? { skipped: true } : {}), ...(res.resumed ? { resumed: true } : {}), ...(res.error ? { error: res.error } : {}) });
      info(`worker: ${spec.id} ${res.ok ? `done in ${res.seconds.toFixed(1)} s` : `failed: ${res.error}`}`);
      if (!res.ok) throw new Error(res.error ?? 'failed');
      return res.result ?? {};
    } finally {
      active--;
      lastWork = Date.now();
    }
  };

  const worker = new Worker<BullJobData>(values.queue ?? DEFAULT_QUEUE_NAME, processor, {
    connection,
    concurrency,
    lockDuration: lockS * 1000,
    stalledInterval: Math.max(1000, (lockS * 1000) / 2),
    // A job may be taken over a few times (several workers dying) before it counts as failed.
    maxStalledCount: 3,
  });
  let down = false;
  worker.on('error', (e) => {
    if (down) return;
    down = true;
    process.stderr.write(`worker: redis ${values.redis} unreachable (${errorMessage(e)}); retrying\n`);
  });
  worker.on('ready', () => {
    if (down) process.stderr.write(`worker: redis ${values.redis} is back\n`);
    down = false;
  });
  try {
    await Promise.race([worker.waitUntilReady(), new Promise((_, rej) => setTimeout(() => rej(new Error('no answer in 4 s')), 4000))]);
  } catch (e) {
    await worker.close(true).catch(() => {});
    if (/optional 'ioredis' package/.test(errorMessage(e))) throw missingRedisClient();
    throw new UserError(`cannot reach Redis at ${values.redis}: ${errorMessage(e)}`, { fix: 'start redis-server there (or check --redis)' });
  }
  info(`worker ${me}: serving queue '${values.queue ?? DEFAULT_QUEUE_NAME}' with ${concurrency} slot(s)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (idleS > 0) setInterval(() => active === 0 && Date.now() - lastWork > idleS * 1000 && resolve(), 500).unref();
  });
  await worker.close();
  return 0;
}

function parseOrFail(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        redis: { type: 'string' },
        concurrency: { type: 'string' },
        queue: { type: 'string' },
        'lock-duration': { type: 'string' },
        'exit-when-idle': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UserError((e as Error).message.split('\n')[0]!, { fix: 'see r2s worker --help' });
  }
}

function positive(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new UserError(`--${name} must be a positive number, got '${v}'`);
  return n;
}
