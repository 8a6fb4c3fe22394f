/**
 * What the BullMQ submitter (queue-bullmq.ts) and workers (bullmq-worker.ts) agree on: Redis
 * connection options from a URL, job ids, the job payload, and the durable files both read on the
 * shared output root (result files — see execute-job.ts — and one attempt file per try).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RedisConnection as BullRedisConnection, createIORedisClient } from 'bullmq';
import { UserError, errorMessage } from '../util/errors.js';
import { hashString } from '../util/fsx.js';
import { writeJsonAtomic } from '../util/fsx.js';
import type { JobSpec } from './pipeline-types.js';
import type { AttemptRecord } from './queue.js';
import { jobResultFile, type JobResultFile } from './execute-job.js';

/** The payload of a BullMQ job. */
export interface BullJobData {
  spec: JobSpec;
  /** output root on the shared file system */
  output: string;
}

export interface RedisConnection {
  host: string;
  port: number;
  password?: string;
  db?: number;
}

export function parseRedisUrl(url: string): RedisConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--redis: not a URL: '${url}'`, { fix: 'use redis://HOST:6379' });
  }
  if (u.protocol !== 'redis:') throw new UserError(`--redis: expected redis://HOST:PORT, got '${url}'`, { fix: 'use redis://HOST:6379' });
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379), ...(u.password ? { password: decodeURIComponent(u.password) } : {}), ...(db !== undefined && Number.isInteger(db) ? { db } : {}) };
}

/**
 * BullMQ 6 loads its optional ioredis driver with `require`, which an ES module does not have, so
 * we hand it a factory (its documented `RedisConnection.clientFactory`): every Queue, Worker and
 * FlowProducer then makes — and on close() quits — its own ioredis client.
 */
export async function useIoredis(): Promise<void> {
  if (BullRedisConnection.clientFactory) return;
  let Redis: typeof import('ioredis').Redis;
  try {
    Redis = (await import('ioredis')).Redis;
  } catch {
    throw missingRedisClient();
  }
  BullRedisConnection.clientFactory = (opts) => createIORedisClient(new Redis(opts as import('ioredis').RedisOptions));
}

/** BullMQ 6 ships without a Redis client; it needs the ioredis package. */
export function missingRedisClient(): UserError {
  return new UserError("the BullMQ backend needs the 'ioredis' package, which is not installed", { fix: 'npm install ioredis@5 (or run the batch without --redis)' });
}

/**
 * Resolves when `client` (a Queue, Worker or FlowProducer) is connected; rejects at the first
 * connection error (ECONNREFUSED …) or after `ms`, so a wrong URL is one line, fast.
 */
export function connectOrFail(client: { waitUntilReady(): Promise<unknown>; on(ev: 'error', fn: (e: Error) => void): unknown; off(ev: 'error', fn: (e: Error) => void): unknown }, url: string, ms = 4000): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (e: unknown) => {
      clearTimeout(timer);
      client.off('error', onError);
      reject(new UserError(`cannot reach Redis at ${url}: ${errorMessage(e) || 'no answer'}`, { fix: 'start redis-server there (or check --redis); nothing finished is lost' }));
    };
    const onError = (e: Error) => fail(e);
    const timer = setTimeout(() => fail(new Error(`no answer in ${ms / 1000} s`)), ms);
    client.on('error', onError);
    client.waitUntilReady().then(
      () => {
        clearTimeout(timer);
        client.off('error', onError);
        resolve();
      },
      (e: unknown) => fail(e),
    );
  });
}

/** BullMQ forbids ':' in custom ids; a short hash of the output root keeps batches apart. */
export function bullJobId(output: string, job: Pick<JobSpec, 'capture' | 'stage'>): string {
  return `${hashString(path.resolve(output)).slice(0, 10)}|${job.capture}|${job.stage}`;
}

/** The batch's job list, kept in the output root so `batch status` and re-submission know it. */
export const jobListFile = (output: string) => path.join(output, 'batch-jobs.json');

export function readResultFile(output: string, job: Pick<JobSpec, 'capture' | 'stage'>): JobResultFile | null {
  const file = jobResultFile(output, job);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JobResultFile;
  } catch {
    return null;
  }
}

const attemptsDir = (output: string) => path.join(output, 'attempts');

const attemptFile = (output: string, a: Pick<AttemptRecord, 'jobId' | 'startedAt' | 'worker'>) =>
  path.join(attemptsDir(output), `${a.jobId.replace(/\//g, '.')}.${a.startedAt.replace(/[:.]/g, '')}.${a.worker.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);

/**
 * One file per try (written at its start, rewritten with a heartbeat while it runs and at its
 * end): the proof of what ran where, and how a worker tells a try still running elsewhere (fresh
 * heartbeat) from one whose worker died.
 */
export async function writeAttempt(output: string, a: AttemptRecord): Promise<void> {
  await writeJsonAtomic(attemptFile(output, a), a);
}

/** A try that says 'running' but whose heartbeat is older than its own `staleAfterS`: its worker died. */
function isStale(a: AttemptRecord, now = Date.now()): boolean {
  if (a.outcome !== 'running') return false;
  const beat = Date.parse(a.heartbeatAt ?? a.startedAt);
  return now - beat > (a.staleAfterS ?? 60) * 1000;
}

/** Tries of one job still running on a live worker (this one included). */
export function liveTries(output: string, jobId: string): AttemptRecord[] {
  return readAttempts(output, jobId).filter((a) => a.outcome === 'running' && !isStale(a));
}

/** Mark the dead workers' 'running' tries of a job as interrupted (the takeover proves it). */
export async function markInterrupted(output: string, jobId: string, by: string): Promise<void> {
  for (const a of readAttempts(output, jobId)) {
    if (isStale(a)) await writeAttempt(output, { ...a, outcome: 'interrupted', finishedAt: new Date().toISOString(), error: `worker gone (no heartbeat); taken over by ${by}` });
  }
}

/** Every try, or only those of one job (read by file name, so a job start reads a few files). */
export function readAttempts(output: string, jobId?: string): AttemptRecord[] {
  const dir = attemptsDir(output);
  if (!existsSync(dir)) return [];
  const prefix = jobId ? `${jobId.replace(/\//g, '.')}.` : '';
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.') && f.startsWith(prefix))
    .flatMap((f) => {
      try {
        const a = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as AttemptRecord;
        return !jobId || a.jobId === jobId ? [a] : [];
      } catch {
        return []; // vanished or half-visible on a shared file system: read it next time
      }
    })
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
