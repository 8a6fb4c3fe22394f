/**
 * What the BullMQ submitter (queue-bullmq.ts) and workers (bullmq-worker.ts) agree on: Redis
 * connection options from a URL, job ids, the job payload, and the durable files both read on the
 * shared output root (result files — see execute-job.ts — and one attempt file per try).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
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

/** One file per try (written at its start, rewritten at its end): the proof of what ran where. */
export async function writeAttempt(output: string, a: AttemptRecord): Promise<void> {
  const name = `${a.jobId.replace(/\//g, '.')}.${a.startedAt.replace(/[:.]/g, '')}.${a.worker.replace(/[^A-Za-z0-9_-]/g, '_')}.json`;
  await writeJsonAtomic(path.join(attemptsDir(output), name), a);
}

export function readAttempts(output: string): AttemptRecord[] {
  const dir = attemptsDir(output);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as AttemptRecord)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
