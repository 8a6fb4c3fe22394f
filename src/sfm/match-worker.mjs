/** Matching worker: { id, A, nA, B, nB, words, ratio, maxDist } → { id, ok, m: Uint32Array, ms }. */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { matchDescriptors } from './hamming.mjs';

parentPort.on('message', (msg) => {
  try {
    const t0 = performance.now();
    const m = matchDescriptors(msg.A, msg.nA, msg.B, msg.nB, msg.words, msg.ratio, msg.maxDist);
    // the compute time alone (no transfer, no queueing): the backend choice compares it with the GPU
    parentPort.postMessage({ id: msg.id, ok: true, m, ms: performance.now() - t0 }, [m.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e && e.message ? e.message : String(e) });
  }
});
