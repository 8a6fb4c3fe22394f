/** Matching worker: { id, A, nA, B, nB, words, ratio, maxDist } → { id, m: Uint32Array }. */
import { parentPort } from 'node:worker_threads';
import { matchDescriptors } from './hamming.mjs';

parentPort.on('message', (msg) => {
  try {
    const m = matchDescriptors(msg.A, msg.nA, msg.B, msg.nB, msg.words, msg.ratio, msg.maxDist);
    parentPort.postMessage({ id: msg.id, ok: true, m }, [m.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e && e.message ? e.message : String(e) });
  }
});
