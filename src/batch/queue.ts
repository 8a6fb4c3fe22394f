/**
 * The batch queue as the scheduler, the live table, `batch status` and the report see it. Two
 * implementations: `sqlite` (one machine, no server; queue-sqlite.ts) and `bullmq` (Redis, workers
 * on any machine; queue-bullmq.ts). This module never imports them: queue-factory.ts picks one.
 */
import type { JobSpec } from './pipeline-types.js';
import type { JobProgress } from './job-process.js';

export type JobStatus =
  | 'waiting' // not started, or waiting for the stage before it, or for a retry
  | 'running'
  | 'done'
  | 'failed' // failed on its last try
  | 'blocked'; // a stage before it failed

export interface JobState {
  id: string;
  capture: string;
  stage: string;
  step: number;
  status: JobStatus;
  /** tries started so far */
  attempts: number;
  progress?: JobProgress;
  /** ISO times of the latest try */
  startedAt?: string;
  finishedAt?: string;
  /** seconds of the successful (or last) try */
  seconds?: number;
  /** the one-line error of the last failed try */
  error?: string;
  /** the stage's --json result */
  result?: Record<string, unknown>;
  /** where it runs or ran (host:pid) */
  worker?: string;
}

/** Every try of a job, for proving that a finished stage was not run twice. */
export interface AttemptRecord {
  jobId: string;
  attempt: number;
  worker: string;
  startedAt: string;
  finishedAt?: string;
  outcome: 'done' | 'failed' | 'interrupted' | 'running';
  /** the stage was up to date and did not run (the runner skipped it) */
  skipped?: boolean;
  /** started with --resume after an interruption */
  resumed?: boolean;
  error?: string;
  /** BullMQ: last sign of life of a running try, and how old it may get before the try counts as dead */
  heartbeatAt?: string;
  staleAfterS?: number;
}

/** What happened while waiting, for the live table's notes ("redis: connection lost …"). */
export type QueueEvent = { kind: 'note'; message: string } | { kind: 'outage'; message: string } | { kind: 'recovered'; message: string };

export interface BatchQueue {
  readonly backend: 'sqlite' | 'bullmq';
  /**
   * Add a pipeline's jobs. Jobs already done stay done (a re-run continues); failed and blocked
   * ones are tried again; a job whose options changed runs again with the stages after it.
   */
  submit(jobs: readonly JobSpec[]): Promise<void>;
  /** Every job's state, in pipeline order. */
  snapshot(): Promise<JobState[]>;
  /** Every try of every job. */
  attempts(): Promise<AttemptRecord[]>;
  close(): Promise<void>;
}

/** A queue that the batch process itself drives to completion (runs or waits for the jobs). */
export interface DrivenQueue extends BatchQueue {
  /** Resolves when no job can make progress any more; `onEvent` hears notes and outages. */
  runToCompletion(o: DriveOptions): Promise<void>;
}

export interface DriveOptions {
  /** jobs at once (local child processes); ignored by queues whose workers run elsewhere */
  concurrency: number;
  /** GPU jobs at once */
  gpus: number;
  /** output root, for job logs */
  output: string;
  onEvent?: (e: QueueEvent) => void;
  signal?: AbortSignal;
}

/** true when every job has reached a final state. */
export function allSettled(states: readonly JobState[]): boolean {
  return states.every((s) => s.status === 'done' || s.status === 'failed' || s.status === 'blocked');
}
