/**
 * Reading object masks for `--masks DIR`: one image per masked view, matched to the workspace's
 * images by name (the image's stem, its full name, or COLMAP's "<name>.png"); white = object. An
 * RGBA cut-out carries the mask in its alpha. Masks must have the image's size — or, with `resize`,
 * its aspect ratio (full-size masks of photos that ingest or training downscaled are resized to the
 * image); any subset of the images may be masked. Errors are one-line UserErrors naming the file
 * and the fix.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { UserError } from '../../util/errors.js';

const MASK_EXT = /\.(png|jpe?g|webp|tiff?|bmp)$/i;

export interface ImageSize {
  name: string;
  width: number;
  height: number;
}

export interface ReadMaskOptions {
  /** resize a mask of another size but the image's aspect ratio (within 1 %) to the image. Default false */
  resize: boolean;
}

/** Masks by image name: H×W values in [0, 1]. */
export async function readObjectMasks(dir: string, images: ImageSize[], opts: Partial<ReadMaskOptions> = {}): Promise<Map<string, Float32Array>> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${dir}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : `cannot read the folder (${code})`}`, { file: dir, fix: 'pass --masks <folder of object masks named like the images>' });
  }
  const files = entries.filter((e) => e.isFile() && !e.name.startsWith('.') && MASK_EXT.test(e.name)).map((e) => e.name);
  const byKey = new Map<string, string>();
  for (const f of files) {
    byKey.set(f, f);
    byKey.set(path.parse(f).name, f);
  }
  const out = new Map<string, Float32Array>();
  for (const im of images) {
    const hit = byKey.get(im.name + '.png') ?? byKey.get(im.name) ?? byKey.get(path.parse(im.name).name);
    if (!hit) continue;
    out.set(im.name, await readMask(path.join(dir, hit), im, Boolean(opts.resize)));
  }
  if (out.size === 0) {
    const subdirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
    const hint = subdirs.length ? `pass one object's folder, e.g. ${path.join(dir, subdirs[0]!)}` : `name each mask like its image (e.g. ${path.parse(images[0]?.name ?? 'IMG_0001.jpg').name}.png)`;
    throw new UserError(`${dir}: no mask matches an image of the workspace by name (${files.length} mask file(s), ${images.length} image(s))`, { file: dir, fix: hint });
  }
  return out;
}

async function readMask(file: string, im: ImageSize, resize: boolean): Promise<Float32Array> {
  let data: Buffer, info: { width: number; height: number; channels: number };
  try {
    const meta = await sharp(file).metadata();
    const sameAspect = meta.width && meta.height && Math.abs((meta.width / meta.height) / (im.width / im.height) - 1) <= 0.01;
    const scaled = resize && sameAspect && (meta.width !== im.width || meta.height !== im.height);
    let img = sharp(file, { failOn: 'truncated' });
    img = meta.hasAlpha ? img.extractChannel('alpha') : img.greyscale();
    // resize after picking the channel (a separate pipeline step: sharp resizes before extracting otherwise)
    if (scaled) img = sharp(await img.png().toBuffer()).resize(im.width, im.height, { fit: 'fill', kernel: 'linear' }).greyscale();
    ({ data, info } = await img.raw().toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new UserError(`${file}: not a readable mask image (${(e as Error).message.split('\n')[0]})`, { file, fix: 'replace or remove this mask' });
  }
  if (info.width !== im.width || info.height !== im.height) {
    const why = resize ? ` (another aspect ratio: masks must have the image's size or its aspect ratio)` : '';
    throw new UserError(`${file}: mask is ${info.width}×${info.height} but image ${im.name} is ${im.width}×${im.height}${why}`, { file, fix: `resize the mask to ${im.width}×${im.height} (the size of images/${im.name})` });
  }
  const out = new Float32Array(im.width * im.height);
  const ch = info.channels;
  for (let p = 0; p < out.length; p++) out[p] = data[p * ch]! / 255;
  return out;
}
