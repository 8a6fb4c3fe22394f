/**
 * A fixed pool of worker threads draining a job list: each worker takes the next job when it
 * finishes one. Used by feature extraction and matching, whose workers load opencv / wasm once
 * and then answer one request message with one reply message.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';

/** Send one message to a worker and wait for its one reply. */
export function askWorker<R>(w: Worker, msg: Record<string, unknown>): Promise<R> {
  return new Promise((resolve, reject) => {
    const onMsg = (r: R) => { cleanup(); resolve(r); };
    const onErr = (e: Error) => { cleanup(); reject(e); };
    const cleanup = () => { w.off('message', onMsg); w.off('error', onErr); };
    w.on('message', onMsg);
    w.on('error', onErr);
    w.postMessage(msg);
  });
}

/**
 * Run `handle(job, ask)` for every job on up to `workers` threads of `script` (default: 2, or
 * fewer cores / jobs). Workers are always terminated, also when a job throws.
 */
export async function runOnWorkers<J, R>(
  script: URL,
  jobs: readonly J[],
  workers: number | undefined,
  handle: (job: J, ask: (msg: Record<string, unknown>) => Promise<R>) => Promise<void>,
): Promise<void> {
  if (jobs.length === 0) return;
  const n = Math.max(1, Math.min(workers ?? Math.min(2, os.availableParallelism()), jobs.length));
  const pool = Array.from({ length: n }, () => new Worker(script));
  try {
    let next = 0;
    await Promise.all(
      pool.map(async (w) => {
        while (next < jobs.length) await handle(jobs[next++]!, (msg) => askWorker<R>(w, msg));
      }),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
