/**
 * A video → frames sampled at a fixed rate, minus blurry ones and near-duplicates, each kept frame
 * with an ImagePrior and each dropped one recorded with its reason.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { extractFrames, probeVideo } from '../io/video.js';
import { imageSize, readGrey } from '../io/images.js';
import { UserError } from '../util/errors.js';
import { warn } from '../util/log.js';
import { Progress } from '../util/progress.js';
import { downsample, laplacianVariance, selectFrames, type FrameMeasure } from './frames.js';
import { GUESS_FACTOR } from './focal.js';
import type { DroppedInput, ImagePrior } from './priors.js';

export const DEFAULT_FPS = 2;
/** Sharpness is measured at this size: enough detail to see blur, cheap to compute. */
const SHARPNESS_SIDE = 480;
/** Motion is measured on thumbnails this wide: insensitive to noise and compression. */
const THUMB_SIDE = 64;

export interface VideoResult {
  images: ImagePrior[];
  dropped: DroppedInput[];
  sampled: number;
}

export async function ingestVideo(file: string, outDir: string, opts: { fps?: number; maxSize?: number; silent?: boolean } = {}): Promise<VideoResult> {
  const fps = opts.fps ?? DEFAULT_FPS;
  const info = await probeVideo(file);
  const expected = Number.isFinite(info.duration) ? Math.max(1, Math.round(info.duration * fps)) : 0;
  const extractBar = new Progress('ingest extract', expected, { silent: opts.silent });
  const frames = await extractFrames(file, outDir, { fps, maxSize: opts.maxSize, info, onFrame: (n) => extractBar.update(n) });
  extractBar.finish();
  if (frames.length === 0) {
    throw new UserError(`${file}: no frames could be decoded`, { file, fix: 'check the file plays, or lower --fps for very short clips' });
  }

  warnIfTruncated(file, info.duration, frames, fps);

  const bar = new Progress('ingest frames', frames.length, { silent: opts.silent });
  const measures: FrameMeasure[] = [];
  const sizes: Array<{ width: number; height: number }> = [];
  for (const f of frames) {
    const grey = await readGrey(f.file, SHARPNESS_SIDE);
    measures.push({ sharpness: laplacianVariance(grey), thumb: downsample(grey, THUMB_SIDE) });
    const { width, height } = await imageSize(f.file);
    sizes.push({ width, height });
    bar.tick();
  }
  bar.finish();

  const names = frames.map((f) => path.basename(f.file));
  const decisions = selectFrames(measures, names);
  const images: ImagePrior[] = [];
  const dropped: DroppedInput[] = [];
  const base = info.creationTime ? Date.parse(info.creationTime) : NaN;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    const d = decisions[i]!;
    const source = `${file}@${f.time.toFixed(3)}s`;
    const videoTime = +f.time.toFixed(3);
    if (!d.keep) {
      await fs.rm(f.file, { force: true });
      dropped.push({ source, reason: d.reason, name: names[i]!, videoTime });
      continue;
    }
    const { width, height } = sizes[i]!;
    const prior: ImagePrior = {
      name: names[i]!,
      width,
      height,
      cameraKey: `video|${width}x${height}`,
      // A video carries no lens data: SfM must refine this.
      focalPx: GUESS_FACTOR * Math.max(width, height),
      focalSource: 'guess',
      source,
      videoTime,
    };
    if (Number.isFinite(base)) prior.time = new Date(base + f.time * 1000).toISOString();
    images.push(prior);
  }
  return { images, dropped, sampled: frames.length };
}

/**
 * A file cut mid-stream (a copy that stopped, a camera that lost power) still announces its full
 * duration in the container, and ffmpeg decodes what is there without failing: compare the span
 * the sampled frames cover with the announced duration. Returns the warning given, if any.
 */
export function truncationWarning(file: string, announced: number, frameTimes: number[], fps: number): string | undefined {
  if (!Number.isFinite(announced) || announced <= 0 || frameTimes.length === 0) return undefined;
  const decoded = frameTimes.reduce((m, t) => Math.max(m, t), -Infinity) + 1 / fps;
  // Rounding of the last sample and audio running a little longer than the video are not a cut.
  const slack = Math.max(1.5 / fps, 0.5, 0.05 * announced);
  if (announced - decoded <= slack) return undefined;
  const s = (v: number) => `${+v.toFixed(1)} s`;
  return `${file}: decoded ${s(decoded)} of an announced ${s(announced)} — the file looks truncated (frames after ${s(decoded)} are missing)`;
}

function warnIfTruncated(file: string, announced: number, frames: Array<{ time: number }>, fps: number): void {
  const w = truncationWarning(file, announced, frames.map((f) => f.time), fps);
  if (w) warn(w);
}
