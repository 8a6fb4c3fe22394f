/**
 * Build a workspace (images/ + priors.json) straight from a folder of images, without ingest: the
 * images are symlinked, the focal prior is given or guessed. Used by the SfM tests and benchmarks on
 * the shared datasets (their images carry no EXIF).
 */
import { mkdirSync, readdirSync, symlinkSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Priors, ImagePrior } from '../ingest/priors.js';
import { writeJsonAtomic } from '../util/fsx.js';

export async function workspaceFromImages(imagesDir: string, root: string, opts: { focalPx?: number; /** the focal given is a guess (default: a user's value) */ focalIsGuess?: boolean; names?: string[]; enu?: Map<string, [number, number, number]> } = {}): Promise<void> {
  const names = opts.names ?? readdirSync(imagesDir).filter((n) => /\.(jpe?g|png|tiff?)$/i.test(n)).sort();
  const imgDir = path.join(root, 'images');
  if (existsSync(imgDir)) rmSync(imgDir, { recursive: true, force: true });
  mkdirSync(imgDir, { recursive: true });
  const images: ImagePrior[] = [];
  for (const name of names) {
    const src = path.resolve(imagesDir, name);
    symlinkSync(src, path.join(imgDir, name));
    const meta = await sharp(src).metadata();
    const w = meta.width!, h = meta.height!;
    const e = opts.enu?.get(name);
    images.push({
      name, width: w, height: h, cameraKey: `dataset|${w}x${h}`,
      focalPx: opts.focalPx ?? 1.2 * Math.max(w, h), focalSource: opts.focalPx && !opts.focalIsGuess ? 'user' : 'guess', source: src,
      ...(e ? { enu: e } : {}),
    });
  }
  const priors: Priors = { version: 1, input: { kind: 'photos', path: path.resolve(imagesDir) }, images, dropped: [] };
  await writeJsonAtomic(path.join(root, 'priors.json'), priors);
}
