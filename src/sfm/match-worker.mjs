/**
 * Matching worker: { id, A, nA, kpA, B, nB, kpB, words, ratio, maxDist, precheck } → { id, ok, m: Uint32Array, skipped, ms }.
 * `precheck` null: a plain full match; otherwise see matchWithPrecheck (kpA / kpB are needed then,
 * for the pre-check's rows only).
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { matchDescriptors, matchWithPrecheck } from './hamming.mjs';

parentPort.on('message', (msg) => {
  try {
    const t0 = performance.now();
    const { m, skipped } = msg.precheck
      ? matchWithPrecheck(msg.A, msg.nA, msg.kpA, msg.B, msg.nB, msg.kpB, msg.words, msg.ratio, msg.maxDist, msg.precheck)
      : { m: matchDescriptors(msg.A, msg.nA, msg.B, msg.nB, msg.words, msg.ratio, msg.maxDist), skipped: false };
    // the compute time alone (no transfer, no queueing): the backend choice compares it with the GPU
    parentPort.postMessage({ id: msg.id, ok: true, m, skipped, ms: performance.now() - t0 }, [m.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e && e.message ? e.message : String(e) });
  }
});
