/**
 * Stage 1: keypoints and binary descriptors (AKAZE, or ORB) for every image, computed by a pool of
 * worker threads (opencv-js loaded once per worker) on a downscaled copy, with keypoints rescaled
 * to full-resolution pixels. Cached in the SfM database by image hash + options.
 */
import { defaultWorkerCount, runOnWorkers } from './worker-pool.js';
import { hashFile, hashString } from '../util/fsx.js';
import { Progress } from '../util/progress.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/log.js';
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
  /**
   * Start AKAZE above `threshold` where earlier images show the cap is reached well above it
   * (adaptiveStart), so that keypoints the cap drops are not described: same features, less time.
   */
  adaptiveThreshold: boolean;
  /** worker threads; default: every core the memory allows (worker-pool.ts defaultWorkerCount) */
  workers?: number;
  silent?: boolean;
}

export const defaultFeatureOptions: FeatureOptions = { type: 'akaze', maxImageSize: 1600, maxFeatures: 5000, threshold: 0.0002, adaptiveThreshold: true };

/**
 * The adaptive start threshold (measured on mold, kitti, fountain, fern, templeRing, Herz-Jesu).
 * AKAZE spends ~18 µs describing each keypoint, and its non-maximum suppression only lets a
 * stronger point suppress a weaker one, so at any threshold below rN (the response of the
 * maxFeatures-th strongest keypoint) the strongest maxFeatures are the nominal ones (4998-5000 of
 * 5000 identical). An image's rN is unknown until it is extracted, but images of one capture are
 * alike: an image starts at RAISE_FACTOR × the lowest rN of the RAISE_WINDOW images extracted
 * RAISE_LAG_PER_WORKER × workers places before it (so it rarely waits for them, and the result does
 * not depend on which worker finishes first), and is redone at the nominal threshold when that
 * leaves fewer than maxFeatures keypoints (a rerun costs about one more image). rN spreads ~5×
 * within a capture (mold 1.1e-3 to 5.4e-3). Simulated on the measured responses in name order and
 * 20 shuffles, factor 0.6 with a 16-image window reruns at most 2 of mold's 119 images (saving
 * ~11 % of the stage; 0.7-0.8 save ~1 % more but rerun up to 3) and at most 1 image of kitti or
 * fountain, whose rN (2e-4 to 5e-4) lies so near the nominal 2e-4 that there is little to gain;
 * captures whose images never reach the cap (templeRing) give rN = 0 and stay nominal.
 */
const RAISE_FACTOR = 0.6;
const RAISE_WINDOW = 16;
const RAISE_LAG_PER_WORKER = 2;

/** Start threshold from the rN of the images in the window (0 where an image has fewer keypoints than the cap). */
function adaptiveStart(windowRn: number[], nominal: number): number {
  if (windowRn.length === 0) return nominal;
  return Math.max(nominal, RAISE_FACTOR * Math.min(...windowRn));
}

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
  rN: number;
  reran: boolean;
}

/** Features of every image (paths in order); cached rows are reused. */
export async function extractFeatures(db: SfmDatabase, images: Array<{ name: string; path: string }>, opts: FeatureOptions): Promise<FeatureSet[]> {
  // The key keeps meaning "the maxFeatures strongest at the nominal threshold" with or without the
  // adaptive start: that gives the same keypoints up to rare suppression-order differences (see
  // adaptiveStart), and its start depends on which images were still to extract, which no key of
  // one image could name. For the same reason v stays 3: rows cached before the adaptive start hold
  // the same features.
  const optKey = JSON.stringify({ t: opts.type, s: opts.maxImageSize, n: opts.maxFeatures, th: opts.threshold, v: 3 });
  const out: Array<FeatureSet | null> = [];
  const todo: Array<{ idx: number; order: number; name: string; path: string; key: string }> = [];
  for (let i = 0; i < images.length; i++) {
    const im = images[i]!;
    const key = hashString((await hashFile(im.path)) + optKey);
    const cached = db.getFeatures(im.name, key);
    out.push(cached);
    if (!cached) todo.push({ idx: i, order: todo.length, name: im.name, path: im.path, key });
  }
  if (todo.length > 0) {
    const progress = new Progress('sfm: features', todo.length, { silent: opts.silent });
    let done = 0, reruns = 0;
    const workers = opts.workers ?? defaultWorkerCount();
    const lag = RAISE_LAG_PER_WORKER * workers;
    // rN of each todo image, settled once it is extracted (order = its place in todo)
    const rnResolve: Array<(rN: number) => void> = [];
    const rnOf = todo.map(() => new Promise<number>((resolve) => rnResolve.push(resolve)));
    await runOnWorkers<(typeof todo)[number], WorkerReply>(new URL('./feature-worker.mjs', import.meta.url), todo, workers, async (job, ask) => {
      let startThreshold = opts.threshold;
      if (opts.adaptiveThreshold && opts.type === 'akaze' && job.order >= lag) {
        const from = Math.max(0, job.order - lag - RAISE_WINDOW + 1);
        startThreshold = adaptiveStart(await Promise.all(rnOf.slice(from, job.order - lag + 1)), opts.threshold);
      }
      const r = await ask({ id: job.idx, path: job.path, maxSize: opts.maxImageSize, type: opts.type, maxFeatures: opts.maxFeatures, threshold: opts.threshold, startThreshold });
      if (!r.ok) throw new UserError(`cannot extract features: ${r.error}`, { file: job.path, fix: 'check that the image is readable, or remove it from the workspace' });
      rnResolve[job.order]!(r.rN);
      if (r.reran) reruns++;
      const f: FeatureSet = { name: job.name, key: job.key, width: r.width, height: r.height, n: r.n, kp: r.kp, desc: r.desc, words: r.words, rgb: r.rgb };
      db.putFeatures(f);
      out[job.idx] = f;
      progress.update(++done, `${job.name}: ${r.n} keypoints${startThreshold > opts.threshold ? ` (start threshold ${startThreshold.toExponential(1)}${r.reran ? ', redone at nominal' : ''})` : ''}`);
    });
    progress.finish();
    if (!opts.silent && reruns > 0) info(`sfm: features: ${reruns} of ${todo.length} images redone at the nominal threshold`);
  }
  return out as FeatureSet[];
}
