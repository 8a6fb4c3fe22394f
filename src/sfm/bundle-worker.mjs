/**
 * Bundle-adjustment worker thread (bundle-pool.ts). Node 20 keeps module hooks per thread, so this
 * plain-JS entry registers tsx itself before loading the TypeScript kernel; it raises the READY
 * flag of its control block (slot 4) to -1 when that fails, so the pool falls back at once.
 */
import { workerData } from 'node:worker_threads';

try {
  const { register } = await import('tsx/esm/api');
  register();
  const { serveBundleWorker } = await import('./bundle-pool.ts');
  serveBundleWorker();
} catch (e) {
  console.error(e);
  const sync = new Int32Array(workerData.control, 0, 16);
  Atomics.store(sync, 4, -1);
  Atomics.notify(sync, 4);
}
