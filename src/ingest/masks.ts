/**
 * Optional per-image masks (white = use, black = ignore), matched to images by file stem, turned
 * into single-channel PNGs at the stored image size in workspace/masks/<image name>.png. A mask of
 * another aspect ratio than its image (beyond 1 %) is refused, not stretched.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { isImageFile } from '../io/images.js';
import { UserError } from '../util/errors.js';
import { confinedPath } from '../util/confine.js';
import { warn } from '../util/log.js';
import type { ImagePrior } from './priors.js';

export async function ingestMasks(masksDir: string, images: ImagePrior[], outDir: string): Promise<{ matched: number; missing: string[]; unused: string[] }> {
  let names: string[];
  try {
    names = (await fs.readdir(masksDir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.') && isImageFile(e.name)).map((e) => e.name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : `cannot read the folder (${code})`;
    throw new UserError(`${masksDir}: ${what}`, { file: masksDir, fix: 'pass --masks <folder of mask images named like the photos>' });
  }
  const byStem = new Map<string, string>();
  for (const n of names) byStem.set(path.parse(n).name, n);

  const used = new Set<string>();
  const missing: string[] = [];
  for (const im of images) {
    // By the stored name's stem, COLMAP's "a.jpg.png", the original file's stem when ingest
    // renamed it (a.tif → a.png), and for video frames the video's stem: one mask for every frame
    // (a dash-cam's bonnet, a rig in view).
    const stems = [path.parse(im.name).name, im.name, path.parse(im.source.replace(/@[\d.]+s$/, '')).name];
    const hit = stems.map((s) => byStem.get(s)).find((n) => n !== undefined);
    if (!hit) {
      missing.push(im.name);
      continue;
    }
    used.add(hit);
    const src = path.join(masksDir, hit);
    // COLMAP's convention (mask of a.jpg is a.jpg.png): unique, and COLMAP reads it as is.
    const outName = im.name + '.png';
    try {
      const meta = await sharp(src).metadata();
      // a mask of another shape would be stretched onto the photo: refused, as extract refuses it
      const turned = (meta.orientation ?? 1) >= 5;
      const mw = turned ? meta.height : meta.width, mh = turned ? meta.width : meta.height;
      if (mw && mh && Math.abs((mw / mh) / (im.width / im.height) - 1) > 0.01) {
        throw new UserError(`${src}: mask is ${mw}×${mh}, another aspect ratio than its image ${im.name} (${im.width}×${im.height}): it would be stretched`, {
          file: src,
          fix: `make the mask the photo's size (or its aspect ratio), e.g. ${im.width}×${im.height}`,
        });
      }
      let img = sharp(src, { failOn: 'truncated' }).rotate();
      // An RGBA cut-out carries the mask in its alpha; otherwise the grey level is the mask.
      img = (meta.hasAlpha ? img.extractChannel('alpha') : img.greyscale()).toColourspace('b-w');
      const data = await img.resize({ width: im.width, height: im.height, fit: 'fill', kernel: 'nearest' }).png().toBuffer();
      await fs.writeFile(confinedPath(outDir, outName, { file: masksDir }), data);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${src}: not a readable mask image (${(e as Error).message.split('\n')[0]})`, { file: src, fix: 'replace or remove this mask' });
    }
    im.mask = outName;
  }
  const unused = names.filter((n) => !used.has(n));
  if (used.size === 0) {
    throw new UserError(`${masksDir}: no mask matches an image by name`, { file: masksDir, fix: 'name each mask like its image (IMG_0001.png for IMG_0001.jpg; frame_000001.png for video frames)' });
  }
  if (missing.length) warn(`${missing.length} image(s) have no mask in ${masksDir} (e.g. ${missing[0]}): they are used whole`);
  if (unused.length) warn(`${unused.length} mask(s) in ${masksDir} match no image (e.g. ${unused[0]})`);
  return { matched: used.size, missing, unused };
}
