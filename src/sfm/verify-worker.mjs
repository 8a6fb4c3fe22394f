/**
 * Verification worker. Node 20 keeps module hooks per thread and the main thread's tsx
 * registration (bin/r2s.mjs, or vitest's own transform) does not reach workers, so this plain-JS
 * entry registers tsx itself before importing the TypeScript module.
 *
 * Messages in:  { type: 'init', feats: [{ kp }] per image, cams }  → { ok: true }
 *               { type: 'verify', jobs: [{ i, j, cal, m }], opts }           → { ok, geoms } (inliers transferred)
 * On failure:   { ok: false, error }
 */
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { verifyBatch } = await import('./verify.ts');

let ctx = null;
parentPort.on('message', (msg) => {
  try {
    if (msg.type === 'init') {
      ctx = { feats: msg.feats, cams: msg.cams };
      parentPort.postMessage({ ok: true });
      return;
    }
    if (!ctx) throw new Error('verify worker used before init');
    const geoms = verifyBatch(ctx.feats, ctx.cams, msg.jobs, msg.opts);
    parentPort.postMessage({ ok: true, geoms }, geoms.map((g) => g.inliers.buffer));
  } catch (e) {
    parentPort.postMessage({ ok: false, error: e && e.message ? e.message : String(e) });
  }
});
