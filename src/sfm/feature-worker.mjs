/**
 * Feature-extraction worker (plain JS so it runs under node, tsx and vitest alike). opencv-js is a
 * large wasm module: it is loaded once per worker and reused for every image the pool sends.
 *
 * Message in:  { id, path, maxSize, type: 'akaze'|'orb', maxFeatures, threshold, startThreshold? }
 * Message out: { id, ok, width, height, n, kp: Float32Array (x,y,size,angle per keypoint, full-res
 *               pixels with COLMAP's +0.5 centre convention), desc: Uint32Array (words per
 *               descriptor, zero-padded), words, rgb: Uint8Array, rN (response of the
 *               maxFeatures-th strongest keypoint, 0 when fewer were found), reran (the raised
 *               startThreshold fell short and the image was redone at the nominal threshold) }
 *               or { id, ok: false, error }
 */
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';

// The emscripten module is a thenable whose then() hands back itself: resolving a promise with it
// loops forever, so it travels wrapped in an object.
let cvPromise = null;
async function loadCv() {
  if (!cvPromise) {
    cvPromise = (async () => {
      const mod = await import('@techstark/opencv-js');
      const cv = mod.default ?? mod;
      if (!cv.Mat) await new Promise((resolve) => { cv.onRuntimeInitialized = () => resolve(null); });
      return { cv };
    })();
  }
  return cvPromise;
}

async function extract(msg) {
  const { cv } = await loadCv();
  sharp.concurrency(1); // the pool already runs one worker per core
  const meta = await sharp(msg.path).metadata();
  const W = meta.width, H = meta.height;
  // small images are upsampled (up to 2×, like SIFT's first octave at -1): finer keypoint positions
  const scale = Math.min(2, msg.maxSize / Math.max(W, H));
  const w = Math.max(1, Math.round(W * scale)), h = Math.max(1, Math.round(H * scale));
  const base = sharp(msg.path).resize(w, h, { fit: 'fill', kernel: 'lanczos3' });
  const [grey, rgbImg] = await Promise.all([
    base.clone().greyscale().raw().toBuffer(),
    base.clone().removeAlpha().toColourspace('srgb').raw().toBuffer(),
  ]);
  const mat = cv.matFromArray(h, w, cv.CV_8UC1, grey);
  const mask = new cv.Mat();
  let kps = new cv.KeyPointVector();
  let desc = new cv.Mat();
  let det;
  let reran = false;
  // a detector run that is not kept: free it and start over with empty outputs
  const discard = () => {
    det.delete(); kps.delete(); desc.delete();
    det = undefined;
    kps = new cv.KeyPointVector();
    desc = new cv.Mat();
  };
  try {
    if (msg.type === 'orb') {
      det = new cv.ORB(msg.maxFeatures);
      det.detectAndCompute(mat, mask, kps, desc);
    } else {
      // A start threshold above the nominal one (features.ts) spares describing keypoints the cap
      // drops. Only when it still leaves maxFeatures keypoints are the strongest maxFeatures those
      // of the nominal threshold, so an image that falls short is redone at the nominal one.
      if (msg.startThreshold > msg.threshold) {
        det = new cv.AKAZE();
        det.setThreshold(msg.startThreshold);
        det.detectAndCompute(mat, mask, kps, desc);
        if (kps.size() < msg.maxFeatures) { reran = true; discard(); }
      }
      // low-texture or small images give few keypoints at the default threshold: lower it (twice at
      // most) until at least half the cap is reached
      let threshold = msg.threshold;
      for (let attempt = 0; !det; attempt++) {
        det = new cv.AKAZE();
        det.setThreshold(threshold);
        det.detectAndCompute(mat, mask, kps, desc);
        if (kps.size() >= msg.maxFeatures / 2 || attempt === 2) break;
        discard();
        threshold /= 4;
      }
    }
    const total = kps.size();
    const order = [];
    for (let i = 0; i < total; i++) order.push([kps.get(i).response, i]);
    // strongest first, so a cap keeps the most repeatable points
    order.sort((a, b) => b[0] - a[0]);
    const n = Math.min(total, msg.maxFeatures);
    const bytes = desc.cols;
    const words = Math.ceil(bytes / 4);
    const kp = new Float32Array(n * 4);
    const out = new Uint32Array(n * words);
    const outBytes = new Uint8Array(out.buffer);
    const rgb = new Uint8Array(n * 3);
    const sx = W / w, sy = H / h;
    const d = desc.data;
    for (let k = 0; k < n; k++) {
      const i = order[k][1];
      const p = kps.get(i);
      kp[k * 4] = (p.pt.x + 0.5) * sx;
      kp[k * 4 + 1] = (p.pt.y + 0.5) * sy;
      kp[k * 4 + 2] = p.size * sx;
      kp[k * 4 + 3] = p.angle;
      outBytes.set(d.subarray(i * bytes, (i + 1) * bytes), k * words * 4);
      const px = Math.min(w - 1, Math.max(0, Math.round(p.pt.x))), py = Math.min(h - 1, Math.max(0, Math.round(p.pt.y)));
      const o = (py * w + px) * 3;
      rgb[k * 3] = rgbImg[o]; rgb[k * 3 + 1] = rgbImg[o + 1]; rgb[k * 3 + 2] = rgbImg[o + 2];
    }
    const rN = total >= msg.maxFeatures ? order[msg.maxFeatures - 1][0] : 0;
    return { width: W, height: H, n, kp, desc: out, words, rgb, rN, reran };
  } finally {
    mat.delete(); mask.delete(); kps.delete(); desc.delete(); if (det) det.delete();
  }
}

parentPort.on('message', async (msg) => {
  try {
    const r = await extract(msg);
    parentPort.postMessage({ id: msg.id, ok: true, ...r }, [r.kp.buffer, r.desc.buffer, r.rgb.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: e && e.message ? e.message : String(e) });
  }
});
