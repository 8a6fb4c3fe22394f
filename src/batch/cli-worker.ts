/**
 * `r2s worker --redis URL [--concurrency N]`: run batch jobs from BullMQ on this machine. Each job
 * runs as a child process (execute-job.ts), exactly as on the local backend. A worker that dies
 * loses only its job's progress since the last checkpoint: BullMQ's stalled-job check hands the
 * job to another worker once the lock expires, and that one resumes it.
 */
import { parseArgs } from 'node:util';
import { Worker, WaitingError, type Job } from 'bullmq';
import { UserError, errorMessage } from '../util/errors.js';
import { info } from '../util/log.js';
import { loadStageCatalog } from './stage-bridge.js';
import { executeJob, workerName } from './execute-job.js';
import { connectOrFail, liveTries, markInterrupted, parseRedisUrl, readResultFile, useIoredis, writeAttempt, type BullJobData } from './bullmq-shared.js';
import { DEFAULT_QUEUE_NAME } from './queue-factory.js';
import type { AttemptRecord } from './queue.js';

export const summary = 'run batch jobs from a BullMQ queue (r2s batch --redis) on this machine';
export const usage = `r2s worker --redis redis://HOST:6379 [options]
  --concurrency N     jobs at once (default 1)
  --queue NAME        queue to serve (default r2s)
  --lock-duration S   seconds a job's lock lasts without renewal; a dead worker's job is taken
                      over after about this long (default 30)
  --exit-when-idle S  stop after S seconds without work (default: run until stopped)
SIGINT / SIGTERM: running jobs are stopped and handed back to the queue (they resume elsewhere).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOrFail(argv);
  if (!values.redis) throw new UserError('no Redis given', { fix: 'r2s worker --redis redis://HOST:6379' });
  const url = values.redis;
  const concurrency = positive(values.concurrency, 'concurrency', 1);
  const lockS = positive(values['lock-duration'], 'lock-duration', 30);
  const idleS = values['exit-when-idle'] !== undefined ? positive(values['exit-when-idle'], 'exit-when-idle', 0) : 0;
  const queueName = values.queue ?? DEFAULT_QUEUE_NAME;
  const redis = parseRedisUrl(url);
  await useIoredis();
  const catalog = await loadStageCatalog();
  const me = workerName();
  const stopping = new AbortController();
  let lastWork = Date.now();
  let active = 0;

  const processor = async (job: Job<BullJobData>, token?: string) => {
    active++;
    const { spec, output } = job.data;
    try {
      // A try of this job may still run on a live worker: Redis lost the job (restarted empty) and
      // the batch submitted it again. Wait for that try (its heartbeat) rather than run it twice.
      for (let live = liveTries(output, spec.id); live.length && !stopping.signal.aborted; live = liveTries(output, spec.id)) {
        await sleep(Math.min(2000, lockS * 500));
      }
      // Finished already (re-submitted after a Redis restart, or the worker that ran it died
      // between writing the result and telling Redis): nothing to run.
      const done = readResultFile(output, spec);
      if (done?.ok) return done.result ?? {};
      if (stopping.signal.aborted) return handBack(job, token);
      await markInterrupted(output, spec.id, me);
      const attempt: AttemptRecord = {
        jobId: spec.id,
        attempt: job.attemptsMade + 1,
        worker: me,
        startedAt: new Date().toISOString(),
        outcome: 'running',
        heartbeatAt: new Date().toISOString(),
        staleAfterS: lockS,
      };
      await writeAttempt(output, attempt);
      // Heartbeats are written one after another, and the last is awaited before the final
      // record, so a late heartbeat can never overwrite 'done' with 'running'.
      let beats = Promise.resolve();
      const beat = setInterval(() => {
        beats = beats.then(() => writeAttempt(output, { ...attempt, heartbeatAt: new Date().toISOString() })).catch(() => {});
      }, (lockS * 1000) / 3);
      const retry = job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0 || (job.attemptsStarted ?? 0) > 1;
      let lastProgress = 0;
      info(`worker: ${spec.id} started${retry ? ' (retry)' : ''}`);
      let res: Awaited<ReturnType<typeof executeJob>>;
      try {
        res = await executeJob(spec, {
          catalog,
          output,
          signal: stopping.signal,
          onProgress: (p) => {
            if (Date.now() - lastProgress < 1000 && p.done < p.total) return;
            lastProgress = Date.now();
            void job.updateProgress(p).catch(() => {});
          },
        });
      } finally {
        clearInterval(beat);
        await beats;
      }
      const stopped = !res.ok && stopping.signal.aborted;
      await writeAttempt(output, {
        ...attempt,
        heartbeatAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        outcome: res.ok ? 'done' : stopped ? 'interrupted' : 'failed',
        ...(res.skipped ? { skipped: true } : {}),
        ...(res.resumed ? { resumed: true } : {}),
        ...(res.error ? { error: stopped ? `worker ${me} stopped` : res.error } : {}),
      });
      info(`worker: ${spec.id} ${res.ok ? `done in ${res.seconds.toFixed(1)} s` : stopped ? 'stopped; handed back to the queue' : `failed: ${res.error}`}`);
      if (stopped) return handBack(job, token);
      if (!res.ok) throw new Error(res.error ?? 'failed');
      return res.result ?? {};
    } finally {
      active--;
      lastWork = Date.now();
    }
  };

  const worker = new Worker<BullJobData>(queueName, processor, {
    connection: { ...redis, maxRetriesPerRequest: null, retryStrategy: () => 1000, connectTimeout: 3000 },
    concurrency,
    autorun: false,
    // BullMQ's stalled-job mechanism: the lock is renewed every lockDuration/2 while the job runs;
    // a worker that dies stops renewing, and the stalled check of any other worker (every
    // stalledInterval) puts the job back in the queue once the lock expired.
    lockDuration: lockS * 1000,
    stalledInterval: Math.max(1000, (lockS * 1000) / 2),
    // A job may be taken over a few times (several workers dying) before it counts as failed.
    maxStalledCount: 3,
  });
  await connectOrFail(worker, url).catch(async (e: unknown) => {
    worker.on('error', () => {});
    await worker.close(true).catch(() => {});
    throw e;
  });
  let down = false;
  let lastOther = '';
  worker.on('error', (e) => {
    if (stopping.signal.aborted) return;
    const msg = errorMessage(e);
    if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection is closed|max retries/i.test(msg)) {
      if (!down) process.stderr.write(`worker: redis ${url} unreachable (${msg}); retrying\n`);
      down = true;
    } else if (msg !== lastOther) {
      // e.g. "Missing lock for job …": Redis lost the job while it ran (restarted empty); the
      // result file on the output root stands, and the batch re-submits what is missing.
      lastOther = msg;
      process.stderr.write(`worker: ${msg}\n`);
    }
  });
  // Back after an outage: the next job it takes (or finishes) says so.
  const onBack = () => {
    if (down) process.stderr.write(`worker: redis ${url} is back\n`);
    down = false;
  };
  worker.on('active', onBack);
  worker.on('completed', onBack);
  info(`worker ${me}: serving queue '${queueName}' with ${concurrency} slot(s), lock ${lockS} s`);
  const running = worker.run();
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (idleS > 0) setInterval(() => active === 0 && Date.now() - lastWork > idleS * 1000 && resolve(), 500).unref();
  });
  // Stop: end the running jobs' processes and hand the jobs back, then close every connection.
  stopping.abort();
  await worker.close();
  await running.catch(() => {});
  return 0;
}

/** Put a job we stopped back in the queue without counting a failed try (BullMQ's WaitingError). */
async function handBack(job: Job<BullJobData>, token: string | undefined): Promise<never> {
  await job.moveToWait(token);
  throw new WaitingError();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
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
