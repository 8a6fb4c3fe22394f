/**
 * Execute one job the same way on both backends: decide whether it resumes from a checkpoint,
 * build the command line from the stage spec, run it as a child process (job-process.ts), and
 * leave a result file on the shared output root — the durable record that outlives a queue
 * (Redis without persistence forgets; the file does not).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeJsonAtomic } from '../util/fsx.js';
import type { StageCatalog } from './stage-bridge.js';
import type { JobSpec } from './pipeline-types.js';
import { runJobProcess, type JobProgress, type JobRunResult } from './job-process.js';

export interface ExecuteOptions {
  catalog: StageCatalog;
  /** output root (logs and result files go under it) */
  output: string;
  onProgress?: (p: JobProgress) => void;
  onStart?: (pid: number) => void;
  signal?: AbortSignal;
}

export interface JobResultFile {
  id: string;
  capture: string;
  stage: string;
  ok: boolean;
  worker: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  resumed: boolean;
  /** the runner found it up to date and did not run it */
  skipped: boolean;
  result?: Record<string, unknown>;
  error?: string;
}

export const workerName = () => `${os.hostname()}:${process.pid}`;
export const jobLogFile = (output: string, job: Pick<JobSpec, 'capture' | 'stage'>) => path.join(output, 'logs', job.capture, `${job.stage}.log`);
export const jobResultFile = (output: string, job: Pick<JobSpec, 'capture' | 'stage'>) => path.join(output, 'jobs', job.capture, `${job.stage}.json`);

export async function executeJob(job: JobSpec, o: ExecuteOptions): Promise<JobRunResult & { resumed: boolean; skipped: boolean }> {
  const stage = o.catalog.stages.get(job.stage);
  const startedAt = new Date().toISOString();
  if (!stage) {
    const error = o.catalog.unavailable(job.stage) ?? `unknown stage '${job.stage}'`;
    return { ok: false, error, exitCode: null, signal: null, pid: -1, seconds: 0, resumed: false, skipped: false };
  }
  // Resume whenever an interrupted run left a checkpoint, whether the queue counts this as a retry
  // or not (a job re-submitted after Redis lost it is a fresh job to BullMQ); the trainer resumes
  // only a checkpoint of the same run (its identity), so this never continues a different run.
  const resumeRequested = stage.resumable && hasFreshCheckpoint(job.workspace, job.stage);
  const res = await runJobProcess(
    {
      // What a person would type for the same job, for the log and the workspace lock.
      job: { stage: job.stage, workspace: job.workspace, options: job.options, resume: resumeRequested, command: `r2s ${job.stage} ${stage.argv(job.workspace, job.options, { resume: resumeRequested }).join(' ')}` },
      logFile: jobLogFile(o.output, job),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(job.timeoutS ? { timeoutS: job.timeoutS } : {}),
      env: { R2S_BATCH_JOB: job.id },
    },
    o.onStart,
  );
  const skipped = res.result?.skipped === true;
  // what the stage reports (train's resumedFrom), not what was asked: another run's checkpoint is not resumed
  const resumed = resumeRequested && (res.result ? res.result.resumedFrom !== undefined : false);
  const file: JobResultFile = {
    id: job.id,
    capture: job.capture,
    stage: job.stage,
    ok: res.ok,
    worker: workerName(),
    startedAt,
    finishedAt: new Date().toISOString(),
    seconds: res.seconds,
    resumed,
    skipped,
    ...(res.result ? { result: res.result } : {}),
    ...(res.error ? { error: res.error } : {}),
  };
  if (res.ok) await writeJsonAtomic(jobResultFile(o.output, job), file);
  return { ...res, resumed, skipped };
}

/** A checkpoint newer than the stage's record: an interrupted run left work to resume. */
function hasFreshCheckpoint(workspace: string, stage: string): boolean {
  const dir = path.join(workspace, 'scene', 'checkpoints');
  if (!existsSync(dir)) return false;
  const newest = Math.max(0, ...readdirSync(dir).filter((f) => !f.startsWith('.')).map((f) => statSync(path.join(dir, f)).mtimeMs));
  if (newest === 0) return false;
  const record = path.join(workspace, 'stages', `${stage}.json`);
  return !existsSync(record) || statSync(record).mtimeMs < newest;
}
