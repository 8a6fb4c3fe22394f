/**
 * Which video frames to keep: drop blurry ones (sharpness well below that of their neighbours) and
 * near-duplicates (too little change since the last kept frame: a camera standing still adds
 * nothing to SfM but matching time). Pure functions on small grey images, so they are testable
 * without video.
 */
import type { GreyImage } from '../io/images.js';

/** Variance of the 4-neighbour Laplacian: high for sharp images, low for blurred ones. */
export function laplacianVariance(g: GreyImage): number {
  const { data, width: w, height: h } = g;
  if (w < 3 || h < 3) return 0;
  let sum = 0;
  let sum2 = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const l = data[i - 1]! + data[i + 1]! + data[i - w]! + data[i + w]! - 4 * data[i]!;
      sum += l;
      sum2 += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return sum2 / n - mean * mean;
}

/**
 * Mean absolute difference of two same-size grey thumbnails after removing each one's mean
 * brightness, so an exposure change alone does not count as motion. 0..255.
 */
export function meanAbsDiff(a: GreyImage, b: GreyImage): number {
  if (a.width !== b.width || a.height !== b.height) return Infinity;
  const n = a.data.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a.data[i]!;
    mb += b.data[i]!;
  }
  ma /= n;
  mb /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(a.data[i]! - ma - (b.data[i]! - mb));
  return s / n;
}

export interface FrameMeasure {
  /** laplacianVariance of a mid-size grey copy */
  sharpness: number;
  /** small grey thumbnail for motion */
  thumb: GreyImage;
}

export interface FrameSelectOptions {
  /** a frame is blurry below this fraction of the median sharpness around it */
  blurRatio: number;
  /** frames on each side in the sharpness window */
  halfWindow: number;
  /** a frame is a near-duplicate when meanAbsDiff to the last kept frame is below this */
  minDiff: number;
}

export const DEFAULT_FRAME_SELECT: FrameSelectOptions = { blurRatio: 0.5, halfWindow: 3, minDiff: 1.0 };

export type FrameDecision = { keep: true; diff?: number } | { keep: false; reason: string };

export function selectFrames(frames: FrameMeasure[], names: string[], opts: FrameSelectOptions = DEFAULT_FRAME_SELECT): FrameDecision[] {
  const out: FrameDecision[] = [];
  let lastKept = -1;
  for (let i = 0; i < frames.length; i++) {
    const lo = Math.max(0, i - opts.halfWindow);
    const hi = Math.min(frames.length - 1, i + opts.halfWindow);
    const around: number[] = [];
    for (let j = lo; j <= hi; j++) around.push(frames[j]!.sharpness);
    const med = median(around);
    const s = frames[i]!.sharpness;
    if (around.length >= 3 && s < opts.blurRatio * med) {
      out.push({ keep: false, reason: `blurry: sharpness ${s.toFixed(1)} < ${opts.blurRatio} × local median ${med.toFixed(1)}` });
      continue;
    }
    if (lastKept >= 0) {
      const d = meanAbsDiff(frames[i]!.thumb, frames[lastKept]!.thumb);
      if (d < opts.minDiff) {
        out.push({ keep: false, reason: `near-duplicate of ${names[lastKept]}: change ${d.toFixed(2)} < ${opts.minDiff}` });
        continue;
      }
      out.push({ keep: true, diff: d });
    } else {
      out.push({ keep: true });
    }
    lastKept = i;
  }
  return out;
}

export function median(v: number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Box-filter downsample so the longest side is at most `maxSide` (area average). */
export function downsample(g: GreyImage, maxSide: number): GreyImage {
  const k = Math.max(1, Math.ceil(Math.max(g.width, g.height) / maxSide));
  if (k === 1) return g;
  const w = Math.floor(g.width / k);
  const h = Math.floor(g.height / k);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < k; dy++) {
        const row = (y * k + dy) * g.width + x * k;
        for (let dx = 0; dx < k; dx++) s += g.data[row + dx]!;
      }
      out[y * w + x] = s / (k * k);
    }
  }
  return { data: out, width: w, height: h };
}
