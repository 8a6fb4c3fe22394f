/**
 * Float RGB images for training and evaluation: decode with sharp at a given size (no EXIF
 * rotation: COLMAP's cameras describe the stored pixels), and encode PNGs.
 */
import sharp from 'sharp';
import { existsSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fsx.js';

export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Size a camera is trained at: long side at most maxSize (never upscaled). */
export function trainingSize(width: number, height: number, maxSize: number): { width: number; height: number } {
  const s = maxSize > 0 ? Math.min(1, maxSize / Math.max(width, height)) : 1;
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

export async function loadRgb(file: string, width: number, height: number): Promise<RgbImage> {
  if (!existsSync(file)) throw new UserError(`${file}: image listed in the sparse model is missing`, { file, fix: 'restore the image or re-run import/sfm' });
  try {
    const { data, info } = await sharp(file).removeAlpha().resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${info.channels} channels`);
    const out = new Float32Array(width * height * 3);
    for (let i = 0; i < out.length; i++) out[i] = data[i]! / 255;
    return { width, height, data: out };
  } catch (e) {
    throw new UserError(`${file}: not a readable image (${(e as Error).message.split('\n')[0]})`, { file, fix: 'replace the file' });
  }
}

export function toBytes(rgb: Float32Array): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, rgb[i]!)) * 255);
  return out;
}

export async function encodePng(rgb: Float32Array, width: number, height: number): Promise<Uint8Array> {
  return sharp(Buffer.from(toBytes(rgb)), { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export async function writePng(file: string, rgb: Float32Array, width: number, height: number): Promise<void> {
  await writeFileAtomic(file, await encodePng(rgb, width, height));
}

/** Images side by side (left | right), same height. */
export function sideBySide(a: RgbImage, b: RgbImage): RgbImage {
  const W = a.width + b.width, H = a.height;
  const out = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    out.set(a.data.subarray(y * a.width * 3, (y + 1) * a.width * 3), y * W * 3);
    out.set(b.data.subarray(y * b.width * 3, (y + 1) * b.width * 3), (y * W + a.width) * 3);
  }
  return { width: W, height: H, data: out };
}
