/**
 * Image files through sharp: recognise, validate (a corrupt or fake image is a user error naming
 * the file), apply EXIF orientation, downscale, and decode small grey copies for frame analysis.
 */
import sharp from 'sharp';
import type { Metadata, OutputInfo } from 'sharp';
import path from 'node:path';
import { UserError } from '../util/errors.js';

export const IMAGE_EXTS = ['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp'];

export function isImageFile(name: string): boolean {
  return IMAGE_EXTS.includes(path.extname(name).toLowerCase());
}

export interface PreparedImage {
  /** bytes to store: the original ones when nothing changed, else a re-encoding */
  data: Uint8Array;
  /** extension to store under, with the dot (".jpg", ".png", ...) */
  ext: string;
  width: number;
  height: number;
  /** false when `data` is the input's bytes */
  changed: boolean;
  /** EXIF orientation that was applied (1 = none) */
  orientation: number;
  /** size before orientation and downscale */
  originalWidth: number;
  originalHeight: number;
}

/**
 * sharp fails on truncated files ("Premature end of JPEG") but lets a few garbage bytes through,
 * as cameras that write slightly malformed JPEGs are common and their pixels are fine.
 */
const FAIL_ON = 'truncated' as const;

function badImage(file: string, e: unknown): UserError {
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new UserError(`${file}: not a readable image (${why})`, { file, fix: 'remove or replace this file' });
}

/**
 * Orientation applied, longest side at most maxSize (when given). Keeps the input's bytes when no
 * rotation and no resize is needed, so JPEGs are not recompressed for nothing; the pixels are still
 * decoded once so a damaged file fails here rather than in a later stage.
 */
export async function prepareImage(bytes: Uint8Array, file: string, opts: { maxSize?: number } = {}): Promise<PreparedImage> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { failOn: FAIL_ON }).metadata();
  } catch (e) {
    throw badImage(file, e);
  }
  if (!meta.width || !meta.height) throw badImage(file, new Error('no image size'));
  const orientation = meta.orientation && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  const swap = orientation >= 5;
  const w0 = swap ? meta.height : meta.width;
  const h0 = swap ? meta.width : meta.height;
  const long = Math.max(w0, h0);
  const scale = opts.maxSize && long > opts.maxSize ? opts.maxSize / long : 1;
  const width = Math.max(1, Math.round(w0 * scale));
  const height = Math.max(1, Math.round(h0 * scale));
  const fmt = meta.format;
  const keepExt = fmt === 'jpeg' ? '.jpg' : fmt === 'png' ? '.png' : null;

  if (orientation === 1 && scale === 1 && keepExt) {
    try {
      await sharp(bytes, { failOn: FAIL_ON }).raw().toBuffer();
    } catch (e) {
      throw badImage(file, e);
    }
    return { data: bytes, ext: originalExt(file, keepExt), width, height, changed: false, orientation, originalWidth: meta.width, originalHeight: meta.height };
  }

  // EXIF (camera, focal length, GPS, time) is kept, so that re-ingesting workspace/images gives
  // the same priors; the pixels are now upright, so the Orientation tag says 1.
  let img = sharp(bytes, { failOn: FAIL_ON }).rotate().keepExif().withExifMerge({ IFD0: { Orientation: '1' } });
  if (scale !== 1) img = img.resize({ width, height, fit: 'fill', kernel: 'lanczos3' });
  // JPEG stays JPEG (q95); everything else becomes lossless PNG, which every later tool reads.
  img = fmt === 'jpeg' ? img.jpeg({ quality: 95 }) : img.png();
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await img.toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw badImage(file, e);
  }
  return {
    data: out.data,
    ext: fmt === 'jpeg' ? '.jpg' : '.png',
    width: out.info.width,
    height: out.info.height,
    changed: true,
    orientation,
    originalWidth: meta.width,
    originalHeight: meta.height,
  };
}

/** ".JPG" stays as the user wrote it when the bytes are kept. */
function originalExt(file: string, fallback: string): string {
  const e = path.extname(file);
  return e ? e : fallback;
}

export interface GreyImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** Grey (luma) copy, longest side at most maxSide, values 0..255. */
export async function readGrey(file: string | Uint8Array, maxSide: number): Promise<GreyImage> {
  const { data, info } = await sharp(file, { failOn: FAIL_ON })
    .rotate()
    .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = new Float32Array(info.width * info.height);
  const c = info.channels;
  for (let i = 0; i < out.length; i++) out[i] = data[i * c]!;
  return { data: out, width: info.width, height: info.height };
}

/** Size (after orientation) of an image file, for masks and checks. */
export async function imageSize(file: string | Uint8Array): Promise<{ width: number; height: number }> {
  const m = await sharp(file).metadata();
  const swap = (m.orientation ?? 1) >= 5;
  return { width: (swap ? m.height : m.width) ?? 0, height: (swap ? m.width : m.height) ?? 0 };
}
