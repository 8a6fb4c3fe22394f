/**
 * The distributed backend, submitter side: each capture's remaining stages become one BullMQ flow
 * (a chain: a stage is the parent of the stage before it, so BullMQ starts it only when that one
 * completed; `failParentOnFailure` stops the chain at a failure). Workers (`r2s worker`) run the
 * jobs anywhere the output root is mounted. The submitter waits, shows progress, and survives
 * Redis outages: result files on the output root are the durable truth, so when Redis comes back
 * — even empty — the flows of unfinished captures are submitted again from where they stopped.
 */
import { FlowProducer, Queue, type FlowJob, type Job } from 'bullmq';
import { writeJsonAtomic } from '../util/fsx.js';
import { errorMessage } from '../util/errors.js';
import { existsSync, readFileSync } from 'node:fs';
import type { JobSpec } from './pipeline-types.js';
import { allSettled, type AttemptRecord, type DriveOptions, type DrivenQueue, type JobState } from './queue.js';
import { bullJobId, connectOrFail, jobListFile, parseRedisUrl, readAttempts, readResultFile, useIoredis, type BullJobData, type RedisConnection } from './bullmq-shared.js';

export class BullmqQueue implements DrivenQueue {
  readonly backend = 'bullmq' as const;
  private jobs: JobSpec[] = [];

  private constructor(
    private readonly url: string,
    private readonly output: string,
    private readonly queue: Queue,
    private readonly flows: FlowProducer,
    /** the last connection error, for the outage line */
    private readonly last: { error: string },
  ) {
    const list = jobListFile(output);
    if (existsSync(list)) this.jobs = JSON.parse(readFileSync(list, 'utf8')) as JobSpec[];
  }

  /** Connect, or fail in one line when Redis is not there. */
  static async connect(o: { url: string; queueName: string; output: string }): Promise<BullmqQueue> {
    const redis = parseRedisUrl(o.url);
    await useIoredis();
    // Not a blocking client: a command fails after one reconnect try (≈1 s) during an outage, so
    // the polling loop notices and says so; reconnecting goes on every second until Redis is back.
    const connection = { ...redis, maxRetriesPerRequest: 1, retryStrategy: () => 1000, connectTimeout: 3000 };
    const queue = new Queue(o.queueName, { connection });
    const flows = new FlowProducer({ connection });
    // Errors are reported by the polling loop, once per outage, with the last one as the reason.
    const last = { error: '' };
    queue.on('error', (e) => (last.error = errorMessage(e)));
    flows.on('error', (e) => (last.error = errorMessage(e)));
    try {
      await connectOrFail(queue, o.url);
      await connectOrFail(flows, o.url);
    } catch (e) {
      await Promise.allSettled([withTimeout(queue.close(), 2000), withTimeout(flows.close(), 2000)]);
      throw e;
    }
    return new BullmqQueue(o.url, o.output, queue, flows, last);
  }

  async submit(jobs: readonly JobSpec[]): Promise<void> {
    this.jobs = [...jobs];
    await writeJsonAtomic(jobListFile(this.output), this.jobs);
    await this.enqueueMissing({ retryFailed: true });
  }

  /**
   * For every capture, the stages after the last one with a result file form a flow; it is added
   * when its last job is not in Redis (never submitted, or Redis lost it — restarted without
   * persistence) and, on a (re-)submission, when it failed. Safe to call again at any time: the
   * batch calls it on every poll, so a Redis that came back empty gets the missing jobs again.
   */
  private async enqueueMissing(o: { retryFailed: boolean }): Promise<number> {
    let added = 0;
    for (const chain of byCapture(this.jobs)) {
      const firstOpen = chain.findIndex((j) => !readResultFile(this.output, j)?.ok);
      if (firstOpen < 0) continue;
      const remaining = chain.slice(firstOpen);
      const root = remaining[remaining.length - 1]!;
      const existing = await this.queue.getJob(bullJobId(this.output, root));
      if (existing) {
        const state = await existing.getState();
        if (!o.retryFailed || (state !== 'failed' && state !== 'unknown')) continue;
        // A re-run retries a failed capture: drop its old jobs, add them afresh.
        for (const j of remaining) await (await this.queue.getJob(bullJobId(this.output, j)))?.remove({ removeChildren: true }).catch(() => {});
      }
      await this.flows.add(flowOf(remaining, this.output, this.queue.name));
      added += remaining.length;
    }
    return added;
  }

  /** Without Redis: what the output root knows (finished jobs; the others as waiting). */
  static offlineSnapshot(output: string): JobState[] {
    const list = jobListFile(output);
    const jobs = existsSync(list) ? (JSON.parse(readFileSync(list, 'utf8')) as JobSpec[]) : [];
    return jobs.map((j) => {
      const file = readResultFile(output, j);
      const base = { id: j.id, capture: j.capture, stage: j.stage, step: j.step };
      return file?.ok ? { ...base, status: 'done' as const, attempts: 1, startedAt: file.startedAt, finishedAt: file.finishedAt, seconds: file.seconds, worker: file.worker } : { ...base, status: 'waiting' as const, attempts: 0 };
    });
  }

  async snapshot(): Promise<JobState[]> {
    const out: JobState[] = [];
    for (const j of this.jobs) out.push(await this.stateOf(j));
    return markBlocked(out);
  }

  private async stateOf(j: JobSpec): Promise<JobState> {
    const base = { id: j.id, capture: j.capture, stage: j.stage, step: j.step };
    const file = readResultFile(this.output, j);
    if (file?.ok) return { ...base, status: 'done', attempts: 1, startedAt: file.startedAt, finishedAt: file.finishedAt, seconds: file.seconds, worker: file.worker, ...(file.result ? { result: file.result } : {}) };
    const job = (await this.queue.getJob(bullJobId(this.output, j))) as Job<BullJobData> | undefined;
    if (!job) return { ...base, status: 'waiting', attempts: 0 };
    const state = await job.getState();
    const common = { ...base, attempts: job.attemptsMade + (state === 'active' ? 1 : 0), ...(job.processedOn ? { startedAt: new Date(job.processedOn).toISOString() } : {}) };
    if (state === 'completed') return { ...common, status: 'done', ...(job.returnvalue ? { result: job.returnvalue as Record<string, unknown> } : {}) };
    if (state === 'failed') return { ...common, status: /child/i.test(job.failedReason ?? '') ? 'blocked' : 'failed', error: job.failedReason ?? 'failed' };
    if (state === 'active') {
      const p = job.progress as { label?: string; done?: number; total?: number } | number;
      return { ...common, status: 'running', ...(typeof p === 'object' && p && typeof p.done === 'number' ? { progress: { label: String(p.label ?? ''), done: p.done, total: Number(p.total ?? 0) } } : {}) };
    }
    return { ...common, status: 'waiting' };
  }

  async attempts(): Promise<AttemptRecord[]> {
    return readAttempts(this.output);
  }

  async runToCompletion(o: DriveOptions): Promise<void> {
    let down: string | null = null;
    let since = 0;
    for (;;) {
      if (o.signal?.aborted) return;
      try {
        const added = await withTimeout(this.enqueueMissing({ retryFailed: false }), 10_000);
        if (down) {
          const s = Math.round((Date.now() - since) / 1000);
          o.onEvent?.({ kind: 'recovered', message: `redis: ${this.url} is back after ${s} s${added ? `; re-submitted ${added} jobs it had lost` : ''}` });
          down = null;
          this.last.error = '';
        } else if (added) {
          o.onEvent?.({ kind: 'note', message: `redis: re-submitted ${added} jobs missing from the queue` });
        }
        const states = await withTimeout(this.snapshot(), 10_000);
        if (allSettled(states)) return;
      } catch (e) {
        if (!down) {
          down = this.last.error || errorMessage(e);
          since = Date.now();
          o.onEvent?.({ kind: 'outage', message: `redis: connection to ${this.url} lost (${down}); waiting for it — finished jobs are safe in ${this.output}` });
        }
      }
      await sleep(1000, o.signal);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([withTimeout(this.queue.close(), 2000), withTimeout(this.flows.close(), 2000)]);
  }
}

/** A chain as a BullMQ flow: the last stage at the root, each stage the child of the next. */
function flowOf(chain: readonly JobSpec[], output: string, queueName: string): FlowJob {
  let node: FlowJob | undefined;
  for (const spec of chain) {
    const data: BullJobData = { spec, output };
    const next: FlowJob = {
      name: spec.stage,
      queueName,
      data,
      opts: {
        jobId: bullJobId(output, spec),
        attempts: spec.retries.attempts,
        backoff: { type: 'exponential', delay: spec.retries.backoffS * 1000 },
        failParentOnFailure: true,
        removeOnComplete: false,
        removeOnFail: false,
      },
      ...(node ? { children: [node] } : {}),
    };
    node = next;
  }
  return node!;
}

function byCapture(jobs: readonly JobSpec[]): JobSpec[][] {
  const m = new Map<string, JobSpec[]>();
  for (const j of jobs) m.set(j.capture, [...(m.get(j.capture) ?? []), j]);
  return [...m.values()].map((c) => c.sort((a, b) => a.step - b.step));
}

/** A waiting job after a failed or blocked one can never run. */
function markBlocked(states: JobState[]): JobState[] {
  return states.map((s) =>
    s.status === 'waiting' && states.some((o) => o.capture === s.capture && o.step < s.step && (o.status === 'failed' || o.status === 'blocked')) ? { ...s, status: 'blocked' } : s,
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}


