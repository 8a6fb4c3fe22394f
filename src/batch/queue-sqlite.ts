/**
 * The local backend: job state in `<output>/batch.db` (SQLite), jobs run by this process as up to
 * `concurrency` child processes, each job only after the stage before it succeeded. Nothing to
 * install; kill -9 and run again continues where it stopped.
 */
import path from 'node:path';
import { ensureWritableDir } from '../util/fsx.js';
import type { StageCatalog } from './stage-bridge.js';
import type { JobSpec } from './pipeline-types.js';
import { allSettled, type AttemptRecord, type DriveOptions, type DrivenQueue, type JobState } from './queue.js';
import { SqliteJobStore, ownerAlive, type ClaimedJob } from './sqlite-store.js';
import { executeJob, workerName } from './execute-job.js';

export const batchDbFile = (output: string) => path.join(output, 'batch.db');

/** Injected job runner (tests run fake stages); default: executeJob. */
export type JobExecutor = (job: ClaimedJob, o: { onProgress: (p: { label: string; done: number; total: number }) => void; signal: AbortSignal }) => Promise<{ ok: boolean; seconds: number; result?: Record<string, unknown>; error?: string; skipped?: boolean; resumed?: boolean }>;

export class SqliteQueue implements DrivenQueue {
  readonly backend = 'sqlite' as const;
  private readonly store: SqliteJobStore;

  constructor(
    readonly output: string,
    private readonly catalog: StageCatalog | null,
    private readonly executor?: JobExecutor,
  ) {
    ensureWritableDir(output);
    this.store = new SqliteJobStore(batchDbFile(output));
  }

  async submit(jobs: readonly JobSpec[]): Promise<void> {
    this.store.submit(jobs);
  }

  async snapshot(): Promise<JobState[]> {
    return this.store.snapshot();
  }

  async attempts(): Promise<AttemptRecord[]> {
    return this.store.attempts();
  }

  async close(): Promise<void> {
    this.store.close();
  }

  async runToCompletion(o: DriveOptions): Promise<void> {
    const me = workerName();
    const recovered = this.store.recoverOrphans(ownerAlive);
    if (recovered.length) o.onEvent?.({ kind: 'note', message: `continuing an interrupted batch: ${recovered.join(', ')} will resume` });
    const running = new Map<string, { promise: Promise<void>; slots: number; gpu: boolean }>();
    const stop = new AbortController();
    o.signal?.addEventListener('abort', () => stop.abort(), { once: true });
    let wake: () => void = () => {};
    for (;;) {
      this.store.blockAfterFailures();
      if (stop.signal.aborted) break;
      // Fill free slots.
      for (;;) {
        const usedSlots = [...running.values()].reduce((a, r) => a + r.slots, 0);
        const usedGpus = [...running.values()].filter((r) => r.gpu).length;
        const claimed = this.store.claim(me, (spec) => {
          const slots = Math.min(spec.resources.slots, o.concurrency);
          return usedSlots + slots <= o.concurrency && (!spec.resources.gpu || usedGpus < o.gpus);
        });
        if (!claimed) break;
        const slots = Math.min(claimed.spec.resources.slots, o.concurrency);
        const promise = this.runOne(claimed, o, stop.signal).finally(() => {
          running.delete(claimed.spec.id);
          wake();
        });
        running.set(claimed.spec.id, { promise, slots, gpu: claimed.spec.resources.gpu });
      }
      if (running.size === 0) {
        const due = this.store.nextDue();
        const states = this.store.snapshot();
        if (allSettled(states) || due === null) break;
        if (states.some((s) => s.status === 'running')) {
          // Another batch process on this output root runs them; wait for it.
          await sleep(1000, stop.signal);
          continue;
        }
        await sleep(Math.max(50, due - Date.now()), stop.signal);
        continue;
      }
      // Sleep until a job finishes or a retry falls due.
      const due = this.store.nextDue();
      await new Promise<void>((resolve) => {
        const timer = due !== null ? setTimeout(done, Math.max(50, due - Date.now())) : undefined;
        function done() {
          clearTimeout(timer);
          stop.signal.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        stop.signal.addEventListener('abort', done, { once: true });
      });
    }
    await Promise.all([...running.values()].map((r) => r.promise));
  }

  private async runOne(job: ClaimedJob, o: DriveOptions, signal: AbortSignal): Promise<void> {
    const exec: JobExecutor =
      this.executor ??
      ((j, x) => executeJob(j.spec, { catalog: this.catalog!, output: o.output, onProgress: x.onProgress, signal: x.signal }));
    let lastWrite = 0;
    const res = await exec(job, {
      signal,
      onProgress: (p) => {
        // Progress is for people: a write every 0.5 s per job is plenty.
        if (Date.now() - lastWrite < 500 && p.done < p.total) return;
        lastWrite = Date.now();
        this.store.progress(job.spec.id, p);
      },
    }).catch((e: unknown) => ({ ok: false, seconds: 0, error: String((e as Error)?.message ?? e) }));
    if (signal.aborted && !res.ok) {
      this.store.release(job.spec.id, job.attempt);
      return;
    }
    const retryAt = !res.ok && job.attempt < job.spec.retries.attempts ? Date.now() + job.spec.retries.backoffS * 1000 * 2 ** (job.attempt - 1) : undefined;
    this.store.finish(job.spec.id, job.attempt, { ...res, ...(retryAt !== undefined ? { retryAt } : {}) });
    if (!res.ok) o.onEvent?.({ kind: 'note', message: `${job.spec.id} failed (try ${job.attempt}/${job.spec.retries.attempts}): ${res.error ?? 'unknown error'}${retryAt ? `; retrying in ${Math.round((retryAt - Date.now()) / 1000)} s` : ''}` });
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
