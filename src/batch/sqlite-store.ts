/**
 * Job state of a local batch in SQLite (`<output>/batch.db`, WAL): which jobs exist, which are
 * done, every try. Claims are transactions, so two batch processes on one output root share the
 * work instead of doubling it; a kill -9 leaves at most the jobs it was running marked 'running',
 * which the next process takes back once their owner is gone.
 */
import Database from 'better-sqlite3';
import os from 'node:os';
import { stableStringify } from '../pipeline/hash.js';
import { UserError, fsError } from '../util/errors.js';
import type { JobSpec } from './pipeline-types.js';
import type { AttemptRecord, JobState, JobStatus } from './queue.js';
import type { JobProgress } from './job-process.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, ord INTEGER NOT NULL, capture TEXT NOT NULL, stage TEXT NOT NULL, step INTEGER NOT NULL,
  spec TEXT NOT NULL, spec_key TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_run_at REAL NOT NULL DEFAULT 0, owner TEXT, interrupted INTEGER NOT NULL DEFAULT 0,
  started_at TEXT, finished_at TEXT, seconds REAL, progress TEXT, error TEXT, result TEXT);
CREATE TABLE IF NOT EXISTS attempts (
  job_id TEXT NOT NULL, attempt INTEGER NOT NULL, worker TEXT NOT NULL, started_at TEXT NOT NULL,
  finished_at TEXT, outcome TEXT NOT NULL, skipped INTEGER, resumed INTEGER, error TEXT,
  PRIMARY KEY (job_id, attempt));
`;

interface JobRow {
  id: string; ord: number; capture: string; stage: string; step: number; spec: string; spec_key: string; status: JobStatus;
  attempts: number; next_run_at: number; owner: string | null; interrupted: number; started_at: string | null;
  finished_at: string | null; seconds: number | null; progress: string | null; error: string | null; result: string | null;
}

/** A job handed to a runner. */
export interface ClaimedJob {
  spec: JobSpec;
  attempt: number;
  /** a try before this one was interrupted or failed: resume if the stage can */
  retry: boolean;
}

export class SqliteJobStore {
  private readonly db: Database.Database;

  constructor(readonly file: string) {
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (e) {
      const mapped = fsError(e, file);
      throw mapped instanceof UserError ? mapped : new UserError(`${file}: cannot open the batch database (${(e as Error).message})`, { file, fix: 'check the output folder, or delete batch.db to start the batch over' });
    }
  }

  close(): void {
    this.db.close();
  }

  /** See BatchQueue.submit. */
  submit(jobs: readonly JobSpec[]): void {
    const get = this.db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?');
    const insert = this.db.prepare(`INSERT INTO jobs (id, ord, capture, stage, step, spec, spec_key, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'waiting')`);
    const reset = this.db.prepare(`UPDATE jobs SET ord = ?, spec = ?, spec_key = ?, status = 'waiting', attempts = 0, next_run_at = 0, error = NULL WHERE id = ?`);
    const resetLater = this.db.prepare(`UPDATE jobs SET status = 'waiting', attempts = 0, next_run_at = 0, error = NULL WHERE capture = ? AND step > ? AND status != 'running'`);
    this.db.transaction(() => {
      jobs.forEach((job, ord) => {
        const key = stableStringify({ options: job.options, step: job.step });
        const row = get.get(job.id);
        if (!row) insert.run(job.id, ord, job.capture, job.stage, job.step, JSON.stringify(job), key);
        else if (row.spec_key !== key) {
          reset.run(ord, JSON.stringify(job), key, job.id);
          resetLater.run(job.capture, job.step);
        } else if (row.status === 'failed' || row.status === 'blocked') reset.run(ord, JSON.stringify(job), key, job.id);
        else this.db.prepare('UPDATE jobs SET ord = ?, spec = ? WHERE id = ?').run(ord, JSON.stringify(job), job.id);
      });
      // Jobs of captures or stages no longer in the pipeline are forgotten.
      const ids = new Set(jobs.map((j) => j.id));
      for (const { id } of this.db.prepare<[], { id: string }>('SELECT id FROM jobs').all()) if (!ids.has(id)) this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
    })();
  }

  /**
   * Take back jobs whose owner is gone (a batch killed with -9): they run again, resuming from a
   * checkpoint where the stage has one. `alive` says whether an owner (host:pid) still runs.
   */
  recoverOrphans(alive: (owner: string) => boolean): string[] {
    const rows = this.db.prepare<[], JobRow>(`SELECT * FROM jobs WHERE status = 'running'`).all();
    const orphans = rows.filter((r) => !r.owner || !alive(r.owner));
    this.db.transaction(() => {
      for (const r of orphans) {
        this.db.prepare(`UPDATE jobs SET status = 'waiting', interrupted = 1, owner = NULL, progress = NULL WHERE id = ?`).run(r.id);
        this.db.prepare(`UPDATE attempts SET outcome = 'interrupted', finished_at = ? WHERE job_id = ? AND outcome = 'running'`).run(new Date().toISOString(), r.id);
      }
    })();
    return orphans.map((r) => r.id);
  }

  /**
   * Claim the next runnable job that fits: waiting, its retry time reached, the stage before it
   * done. Later stages first, so captures finish (and show results) early.
   */
  claim(owner: string, fits: (spec: JobSpec) => boolean): ClaimedJob | null {
    return this.db.transaction((): ClaimedJob | null => {
      const rows = this.db
        .prepare<[number], JobRow>(
          `SELECT j.* FROM jobs j WHERE j.status = 'waiting' AND j.next_run_at <= ?
           AND (j.step = 0 OR EXISTS (SELECT 1 FROM jobs p WHERE p.capture = j.capture AND p.step = j.step - 1 AND p.status = 'done'))
           ORDER BY j.step DESC, j.ord`,
        )
        .all(Date.now());
      const row = rows.find((r) => fits(JSON.parse(r.spec) as JobSpec));
      if (!row) return null;
      const attempt = row.attempts + 1;
      const now = new Date().toISOString();
      this.db.prepare(`UPDATE jobs SET status = 'running', attempts = ?, owner = ?, started_at = ?, finished_at = NULL, progress = NULL WHERE id = ?`).run(attempt, owner, now, row.id);
      this.db.prepare(`INSERT OR REPLACE INTO attempts (job_id, attempt, worker, started_at, outcome) VALUES (?, ?, ?, ?, 'running')`).run(row.id, attempt, owner, now);
      return { spec: JSON.parse(row.spec) as JobSpec, attempt, retry: attempt > 1 || row.interrupted === 1 };
    })();
  }

  /** Jobs whose stage before them failed for good can never run. */
  blockAfterFailures(): void {
    this.db
      .prepare(
        `UPDATE jobs SET status = 'blocked' WHERE status = 'waiting' AND EXISTS (
           SELECT 1 FROM jobs p WHERE p.capture = jobs.capture AND p.step < jobs.step AND p.status IN ('failed', 'blocked'))`,
      )
      .run();
  }

  progress(id: string, p: JobProgress): void {
    this.db.prepare('UPDATE jobs SET progress = ? WHERE id = ?').run(JSON.stringify(p), id);
  }

  finish(id: string, attempt: number, o: { ok: boolean; seconds: number; result?: Record<string, unknown>; error?: string; skipped?: boolean; resumed?: boolean; retryAt?: number }): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      const status: JobStatus = o.ok ? 'done' : o.retryAt !== undefined ? 'waiting' : 'failed';
      this.db
        .prepare(`UPDATE jobs SET status = ?, finished_at = ?, seconds = ?, result = ?, error = ?, next_run_at = ?, owner = NULL, interrupted = 0 WHERE id = ?`)
        .run(status, now, o.seconds, o.result ? JSON.stringify(o.result) : null, o.error ?? null, o.retryAt ?? 0, id);
      this.db
        .prepare(`UPDATE attempts SET finished_at = ?, outcome = ?, skipped = ?, resumed = ?, error = ? WHERE job_id = ? AND attempt = ?`)
        .run(now, o.ok ? 'done' : 'failed', o.skipped ? 1 : 0, o.resumed ? 1 : 0, o.error ?? null, id, attempt);
    })();
  }

  /** Put a running job back (the batch was cancelled): it resumes next time. */
  release(id: string, attempt: number): void {
    this.db.prepare(`UPDATE jobs SET status = 'waiting', interrupted = 1, owner = NULL WHERE id = ?`).run(id);
    this.db.prepare(`UPDATE attempts SET outcome = 'interrupted', finished_at = ? WHERE job_id = ? AND attempt = ?`).run(new Date().toISOString(), id, attempt);
  }

  /** Earliest time a waiting job becomes due (for sleeping until a retry). */
  nextDue(): number | null {
    const r = this.db.prepare<[], { t: number | null }>(`SELECT MIN(next_run_at) AS t FROM jobs WHERE status = 'waiting'`).get();
    return r?.t ?? null;
  }

  snapshot(): JobState[] {
    return this.db.prepare<[], JobRow>('SELECT * FROM jobs ORDER BY ord').all().map(toState);
  }

  attempts(): AttemptRecord[] {
    type Row = { job_id: string; attempt: number; worker: string; started_at: string; finished_at: string | null; outcome: AttemptRecord['outcome']; skipped: number | null; resumed: number | null; error: string | null };
    return this.db.prepare<[], Row>('SELECT * FROM attempts ORDER BY started_at').all().map((r) => ({
      jobId: r.job_id, attempt: r.attempt, worker: r.worker, startedAt: r.started_at, outcome: r.outcome,
      ...(r.finished_at ? { finishedAt: r.finished_at } : {}), ...(r.skipped ? { skipped: true } : {}), ...(r.resumed ? { resumed: true } : {}), ...(r.error ? { error: r.error } : {}),
    }));
  }
}

function toState(r: JobRow): JobState {
  return {
    id: r.id, capture: r.capture, stage: r.stage, step: r.step, status: r.status, attempts: r.attempts,
    ...(r.progress ? { progress: JSON.parse(r.progress) as JobProgress } : {}),
    ...(r.started_at ? { startedAt: r.started_at } : {}),
    ...(r.finished_at ? { finishedAt: r.finished_at } : {}),
    ...(r.seconds !== null ? { seconds: r.seconds } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.result ? { result: JSON.parse(r.result) as Record<string, unknown> } : {}),
    ...(r.owner ? { worker: r.owner } : {}),
  };
}

/** Is the owner `host:pid` alive? Owners on other hosts are assumed alive (we cannot tell). */
export function ownerAlive(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== os.hostname()) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
