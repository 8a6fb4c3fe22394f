/**
 * A fixed pool of worker threads draining a job list: each worker takes the next job when it
 * finishes one. Used by feature extraction, matching and verification, whose workers load their
 * modules (opencv / wasm / the TypeScript loader) once and then answer one request message with
 * one reply message.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';

/**
 * Memory one worker may need (MiB): a feature worker holds opencv-js (~100-200 MB resident once
 * its wasm heap has grown on a large image), so 256 MiB with headroom; match and verify workers
 * need far less, so the bound is conservative for them.
 */
const WORKER_MIB = 256;

/**
 * Default pool size: one worker per available core (the main thread only waits and writes the
 * database meanwhile), but no more than half the memory currently available (or of a container's
 * limit, when lower) divided by WORKER_MIB, so a many-core machine with little memory does not
 * start swapping.
 */
export function defaultWorkerCount(): number {
  const limit = process.constrainedMemory?.() || Infinity;
  const byMemory = Math.floor((0.5 * Math.min(os.freemem(), limit)) / (WORKER_MIB * 1024 * 1024));
  return Math.max(1, Math.min(os.availableParallelism(), byMemory));
}

/** Send one message to a worker and wait for its one reply. */
export function askWorker<R>(w: Worker, msg: Record<string, unknown>, transfer?: readonly ArrayBuffer[]): Promise<R> {
  return new Promise((resolve, reject) => {
    const onMsg = (r: R) => { cleanup(); resolve(r); };
    const onErr = (e: Error) => { cleanup(); reject(e); };
    const cleanup = () => { w.off('message', onMsg); w.off('error', onErr); };
    w.on('message', onMsg);
    w.on('error', onErr);
    w.postMessage(msg, transfer);
  });
}

/**
 * Run `handle(job, ask)` for every job on up to `workers` threads of `script` (default:
 * defaultWorkerCount(), never more than there are jobs). `setup(ask)`, when given, runs once per
 * worker before its first job (to send data every job shares). Workers are always terminated,
 * also when a job throws.
 */
export async function runOnWorkers<J, R>(
  script: URL,
  jobs: readonly J[],
  workers: number | undefined,
  handle: (job: J, ask: (msg: Record<string, unknown>, transfer?: readonly ArrayBuffer[]) => Promise<R>) => Promise<void>,
  setup?: (ask: (msg: Record<string, unknown>) => Promise<unknown>) => Promise<void>,
): Promise<void> {
  if (jobs.length === 0) return;
  const n = Math.max(1, Math.min(workers ?? defaultWorkerCount(), jobs.length));
  const pool = Array.from({ length: n }, () => new Worker(script));
  try {
    let next = 0;
    await Promise.all(
      pool.map(async (w) => {
        if (setup) await setup((msg) => askWorker(w, msg));
        while (next < jobs.length) await handle(jobs[next++]!, (msg, transfer) => askWorker<R>(w, msg, transfer));
      }),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
