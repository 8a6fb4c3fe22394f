/**
 * Worker threads for bundle adjustment's loops. bundleAdjust is synchronous and called hundreds of
 * times per reconstruction, so the pool is persistent (started on first use, unref'ed so it never
 * keeps the process alive) and driven through shared memory: a call posts its context (typed arrays
 * on SharedArrayBuffers) once, then each phase is one Atomics store + notify per worker; the
 * calling thread works too and then blocks in Atomics.wait until every worker has answered.
 *
 * The work of a phase is cut into a fixed number of chunks (ranges of observations or points) that
 * the threads claim one at a time from a shared counter: when a worker waits for a core (other jobs
 * on the machine) the calling thread takes its chunks instead of idling. Each chunk sums its
 * camera-side terms into its own accumulator and the chunks are added in chunk order, so the result
 * does not depend on which thread ran which chunk, nor on how many threads there are (bundle.ts
 * fixes the chunks by the problem alone).
 * When workers cannot start (or one fails), bundleAdjust runs on the calling thread alone.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { defaultWorkerCount } from './worker-pool.js';
import { BAPhase, kernelScratch, runPhase, type BAKernelContext, type BAPhaseCode, type CameraAccumulator, type KernelRange, type KernelScratch } from './bundle-kernel.js';

/** Control command that ends a call's session (the phases are BAPhase's codes). */
const END = 9;
// Int32 slots of a worker's control block, then Float64 slots from byte ARG_BYTE (the phase argument).
const SEQ = 0, CMD = 1, DONE = 2, RESULT = 3, READY = 4, ARG_BYTE = 64, CONTROL_BYTES = 128;
/** A worker that is alive but does not answer within this long is treated as lost. */
const STALL_MS = 120_000;
const START_MS = 30_000;

interface PoolWorker { worker: Worker; sync: Int32Array; args: Float64Array; seq: number }

/**
 * One call's chunks (shared with the workers): chunk c covers observations oB[c] .. oB[c+1] and
 * points pB[c] .. pB[c+1], sums into accs[c] and costs[4c .. 4c+4); claim[0] is the next unclaimed
 * chunk, claim[1] is set when a point block was singular.
 */
export interface ChunkPlan { oB: Int32Array; pB: Int32Array; accs: CameraAccumulator[]; costs: Float64Array; claim: Int32Array }

const workers: PoolWorker[] = [];
let broken = false;
let busy = false;

/**
 * Threads (the calling one included) bundleAdjust uses for a large problem: `requested` (the
 * option), else R2S_BA_THREADS, else one per core the worker pools would use.
 */
export function baThreads(requested?: number): number {
  const env = Number(process.env.R2S_BA_THREADS);
  // the default is fixed at first use (it depends on free memory): a pool that does not grow and
  // shrink with it (the result does not depend on the count)
  defaultThreads ??= defaultWorkerCount();
  const n = requested ?? (env > 0 ? env : defaultThreads);
  return Math.max(1, Math.floor(n));
}
let defaultThreads: number | undefined;

/** Worker threads started in this thread so far (the pool only grows). */
export function baPoolSize(): number {
  return workers.length;
}

function startWorker(): PoolWorker | null {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const sync = new Int32Array(control, 0, ARG_BYTE / 4);
  let worker: Worker;
  try { worker = new Worker(new URL('./bundle-worker.mjs', import.meta.url), { workerData: { control } }); } catch { return null; }
  worker.unref();
  worker.on('error', () => { broken = true; });
  // The worker registers the TypeScript loader and loads the kernel on its own thread; the calling
  // thread only waits for its flag (1: ready, -1: could not load).
  const t0 = Date.now();
  while (Atomics.load(sync, READY) === 0 && Date.now() - t0 < START_MS) Atomics.wait(sync, READY, 0, 100);
  if (Atomics.load(sync, READY) !== 1) { void worker.terminate(); return null; }
  return { worker, sync, args: new Float64Array(control, ARG_BYTE), seq: 0 };
}

/**
 * Claims chunks of `plan` until none is left and runs `phase` on each (zeroing the chunk's
 * accumulator first where the phase sums into it). Every thread of a session runs this.
 */
export function runClaimedChunks(ctx: BAKernelContext, sc: KernelScratch, plan: ChunkPlan, phase: BAPhaseCode, arg: number): void {
  const n = plan.accs.length;
  for (let c = Atomics.add(plan.claim, 0, 1); c < n; c = Atomics.add(plan.claim, 0, 1)) {
    const acc = plan.accs[c]!;
    if (phase === BAPhase.Linearize || phase === BAPhase.Reduce) { acc.M.fill(0); acc.v.fill(0); }
    const r: KernelRange = { o0: plan.oB[c]!, o1: plan.oB[c + 1]!, p0: plan.pB[c]!, p1: plan.pB[c + 1]! };
    if (!runPhase(ctx, sc, phase, arg, r, acc, plan.costs.subarray(4 * c, 4 * c + 4))) Atomics.store(plan.claim, 1, 1);
  }
}

/**
 * One bundleAdjust call's use of the pool: `extra` workers (started now if need be) bound to the
 * call's context and chunk plan. Null when no pool can be had (workers unavailable, or the pool
 * already serves an outer call on this thread); the caller then runs every phase itself.
 */
export class BAPoolSession {
  private constructor(private readonly ws: PoolWorker[], private readonly ctx: BAKernelContext, private readonly plan: ChunkPlan, private readonly sc: KernelScratch) {}

  /** `fresh`: the call's arrays are not the reusable arena's (the workers collect after it, see serveSession) */
  static open(extra: number, ctx: BAKernelContext, plan: ChunkPlan, sc: KernelScratch, fresh: boolean): BAPoolSession | null {
    if (broken || busy || extra < 1) return null;
    while (workers.length < extra) {
      const w = startWorker();
      if (!w) { broken = true; return null; }
      workers.push(w);
    }
    const ws = workers.slice(0, extra);
    busy = true;
    for (const w of ws) w.worker.postMessage({ ctx, plan, seq: w.seq, fresh });
    return new BAPoolSession(ws, ctx, plan, sc);
  }

  /**
   * Runs `phase` over every chunk on all threads; `meanwhile` runs on the calling thread after the
   * workers are woken and before it claims chunks itself. False when a point block was singular.
   */
  run(phase: BAPhaseCode, arg: number, meanwhile?: () => void): boolean {
    Atomics.store(this.plan.claim, 0, 0);
    Atomics.store(this.plan.claim, 1, 0);
    this.signal(phase, arg);
    meanwhile?.();
    runClaimedChunks(this.ctx, this.sc, this.plan, phase, arg);
    this.wait();
    return Atomics.load(this.plan.claim, 1) === 0;
  }

  private signal(cmd: number, arg: number): void {
    for (const w of this.ws) {
      w.sync[CMD] = cmd; w.args[0] = arg;
      Atomics.store(w.sync, SEQ, ++w.seq);
      Atomics.notify(w.sync, SEQ);
    }
  }

  private wait(): void {
    for (const w of this.ws) {
      const t0 = Date.now();
      for (let done = Atomics.load(w.sync, DONE); done !== w.seq; done = Atomics.load(w.sync, DONE)) {
        if (Date.now() - t0 > STALL_MS) { broken = true; throw new Error('bundleAdjust: a worker thread stopped answering'); }
        Atomics.wait(w.sync, DONE, done, 1000);
      }
      if (w.sync[RESULT]! < 0) { broken = true; throw new Error('bundleAdjust: a worker thread failed (see its error above)'); }
    }
  }

  /** Releases the workers from this call's context (they return to their message loop). */
  close(): void {
    try {
      this.signal(END, 0);
      // (a pool that failed is not used again: its workers are only told to leave the session)
      if (!broken) this.wait();
    } finally { busy = false; }
  }
}

interface SessionMessage { ctx: BAKernelContext; plan: ChunkPlan; seq: number; fresh: boolean }

/**
 * A worker allocates almost nothing, so it rarely collects garbage on its own, and a shared buffer
 * is freed only once every thread holding it has: after a call on fresh buffers (not the arena's:
 * shared-arena.ts) the worker collects at once. V8's gc() is reached through a new context once
 * its flag is set (it is not exposed by default); without it the buffers wait for a natural GC.
 */
function workerGc(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch { return null; }
}

/** Worker side (bundle-worker.mjs, after the TypeScript loader is registered): serve sessions until the process ends. */
export function serveBundleWorker(): void {
  const { control } = workerData as { control: SharedArrayBuffer };
  const sync = new Int32Array(control, 0, ARG_BYTE / 4), args = new Float64Array(control, ARG_BYTE);
  const gc = workerGc();
  parentPort!.on('message', (m: SessionMessage) => {
    serveSession(m, sync, args);
    // (once this handler has returned: nothing of the session is reachable any more)
    if (m.fresh && gc) setImmediate(gc);
  });
  Atomics.store(sync, READY, 1);
  Atomics.notify(sync, READY);
}

/** Runs the phases of one bundleAdjust call, blocking between them, until END. */
function serveSession({ ctx, plan, seq }: SessionMessage, sync: Int32Array, args: Float64Array): void {
  const sc = kernelScratch(ctx);
  for (let seen = seq; ;) {
    Atomics.wait(sync, SEQ, seen);
    seen = Atomics.load(sync, SEQ);
    const cmd = sync[CMD]!;
    let result = 1;
    try {
      if (cmd !== END) runClaimedChunks(ctx, sc, plan, cmd as BAPhaseCode, args[0]!);
    } catch (e) {
      console.error(e);
      result = -1;
    }
    sync[RESULT] = result;
    Atomics.store(sync, DONE, seen);
    Atomics.notify(sync, DONE);
    if (cmd === END) return;
  }
}
