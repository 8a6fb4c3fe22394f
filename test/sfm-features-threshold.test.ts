/**
 * The feature worker detects at a threshold raised from its earlier images (fewer keypoints to
 * describe) and must keep exactly the keypoints and descriptors the default threshold keeps.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const images = ['01', '02', '03', '04', '05'].map((n) => path.join(here, '../samples/lund', `${n}.jpg`));

type Reply = { id: number; ok: boolean; error?: string; n: number; kp: Float32Array; desc: Uint32Array; detectThreshold: number };

async function extractAll(adaptiveThreshold: boolean): Promise<Reply[]> {
  const worker = new Worker(new URL('../src/sfm/feature-worker.mjs', import.meta.url));
  try {
    const out: Reply[] = [];
    for (let id = 0; id < images.length; id++) {
      const reply = new Promise<Reply>((resolve) => worker.once('message', resolve));
      worker.postMessage({ id, path: images[id], maxSize: 800, type: 'akaze', maxFeatures: 1500, threshold: 0.0002, adaptiveThreshold });
      const r = await reply;
      if (!r.ok) throw new Error(r.error);
      out.push(r);
    }
    return out;
  } finally {
    await worker.terminate();
  }
}

describe('feature worker: raised detection threshold', () => {
  it('keeps exactly the default threshold\'s keypoints and descriptors, and does raise it', async () => {
    const [fast, exact] = await Promise.all([extractAll(true), extractAll(false)]);
    for (let k = 0; k < images.length; k++) {
      expect(fast[k]!.n).toBe(exact[k]!.n);
      expect(Array.from(fast[k]!.kp)).toEqual(Array.from(exact[k]!.kp));
      expect(Array.from(fast[k]!.desc)).toEqual(Array.from(exact[k]!.desc));
      expect(exact[k]!.detectThreshold).toBe(0.0002);
    }
    // the first image has no history; later ones must have been detected at a raised threshold
    expect(fast[0]!.detectThreshold).toBe(0.0002);
    expect(fast.slice(1).filter((r) => r.detectThreshold > 0.0003).length).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
