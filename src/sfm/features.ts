/**
 * Stage 1: keypoints and binary descriptors (AKAZE, or ORB) for every image, computed by a pool of
 * worker threads (opencv-js loaded once per worker) on a downscaled copy, with keypoints rescaled
 * to full-resolution pixels. Cached in the SfM database by image hash + options.
 */
import { runOnWorkers } from './worker-pool.js';
import { hashFile, hashString } from '../util/fsx.js';
import { Progress } from '../util/progress.js';
import { UserError } from '../util/errors.js';
import type { SfmDatabase } from './database.js';
import type { FeatureSet } from './types.js';

export interface FeatureOptions {
  type: 'akaze' | 'orb';
  /** longest side of the image the detector sees */
  maxImageSize: number;
  /** keep at most this many (strongest) keypoints per image */
  maxFeatures: number;
  /** AKAZE detector threshold (lower → more keypoints) */
  threshold: number;
  /** worker threads; default: every core the memory allows (worker-pool.ts defaultWorkerCount) */
  workers?: number;
  silent?: boolean;
}

export const defaultFeatureOptions: FeatureOptions = { type: 'akaze', maxImageSize: 1600, maxFeatures: 5000, threshold: 0.0002 };

interface WorkerReply {
  id: number;
  ok: boolean;
  error?: string;
  width: number;
  height: number;
  n: number;
  kp: Float32Array;
  desc: Uint32Array;
  words: number;
  rgb: Uint8Array;
}

/** Features of every image (paths in order); cached rows are reused. */
export async function extractFeatures(db: SfmDatabase, images: Array<{ name: string; path: string }>, opts: FeatureOptions): Promise<FeatureSet[]> {
  const optKey = JSON.stringify({ t: opts.type, s: opts.maxImageSize, n: opts.maxFeatures, th: opts.threshold, v: 3 });
  const out: Array<FeatureSet | null> = [];
  const todo: Array<{ idx: number; name: string; path: string; key: string }> = [];
  for (let i = 0; i < images.length; i++) {
    const im = images[i]!;
    const key = hashString((await hashFile(im.path)) + optKey);
    const cached = db.getFeatures(im.name, key);
    out.push(cached);
    if (!cached) todo.push({ idx: i, name: im.name, path: im.path, key });
  }
  if (todo.length > 0) {
    const progress = new Progress('sfm: features', todo.length, { silent: opts.silent });
    let done = 0;
    await runOnWorkers<(typeof todo)[number], WorkerReply>(new URL('./feature-worker.mjs', import.meta.url), todo, opts.workers, async (job, ask) => {
      const r = await ask({ id: job.idx, path: job.path, maxSize: opts.maxImageSize, type: opts.type, maxFeatures: opts.maxFeatures, threshold: opts.threshold });
      if (!r.ok) throw new UserError(`cannot extract features: ${r.error}`, { file: job.path, fix: 'check that the image is readable, or remove it from the workspace' });
      const f: FeatureSet = { name: job.name, key: job.key, width: r.width, height: r.height, n: r.n, kp: r.kp, desc: r.desc, words: r.words, rgb: r.rgb };
      db.putFeatures(f);
      out[job.idx] = f;
      progress.update(++done, `${job.name}: ${r.n} keypoints`);
    });
    progress.finish();
  }
  return out as FeatureSet[];
}
