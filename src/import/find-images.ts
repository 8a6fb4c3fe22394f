/**
 * Where the photos of an imported model are. A COLMAP model names images relative to the folder
 * the images were in (--images, or ../images or ../../images next to the model, as COLMAP's
 * usual layouts put them); a transforms.json names them relative to itself.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { confinedPath } from '../util/confine.js';

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Extensions tried when a transforms.json file_path has none (NeRF-synthetic style "./train/r_0"). */
const GUESS_EXTS = ['.png', '.jpg', '.jpeg', '.PNG', '.JPG', '.JPEG', '.webp', '.tif', '.tiff'];

export interface FoundImages {
  /** image name in the model → absolute source path; absent when missing */
  found: Map<string, string>;
  missing: string[];
  /** folders searched, in order */
  searched: string[];
}

/**
 * Locate COLMAP image names. With `imagesDir` only that folder is searched; otherwise the
 * candidate folder that holds the most of the images wins.
 */
export function findColmapImages(modelDir: string, names: string[], imagesDir?: string): FoundImages {
  const candidates = imagesDir
    ? [path.resolve(imagesDir)]
    : [path.resolve(modelDir, '../images'), path.resolve(modelDir, '../../images'), path.resolve(modelDir, 'images')];
  const dirs = candidates.filter((d, i) => candidates.indexOf(d) === i && existsSync(d));
  let best: FoundImages = { found: new Map(), missing: names.slice(), searched: candidates };
  for (const dir of dirs) {
    const found = new Map<string, string>();
    const missing: string[] = [];
    for (const n of names) {
      const p = confinedPath(dir, n, { file: modelDir });
      if (isFile(p)) found.set(n, p);
      else missing.push(n);
    }
    if (found.size > best.found.size) best = { found, missing, searched: candidates };
    if (missing.length === 0) break;
  }
  return best;
}

/**
 * Candidate paths for a transforms.json `file_path`: relative to the json; then under
 * `imagesDir` (by the same relative path, then by file name); then relative to the json's parent
 * (datasets that keep the json in a sub-folder such as gt/). Paths without an extension get the
 * usual image extensions appended.
 */
export function transformsImageCandidates(jsonPath: string, filePath: string, imagesDir?: string): string[] {
  const rel = filePath.replace(/\\/g, '/');
  const jsonDir = path.dirname(path.resolve(jsonPath));
  const bases = [path.resolve(jsonDir, rel)];
  if (imagesDir) bases.push(path.resolve(imagesDir, rel.replace(/^(\.\/)+/, '')), path.resolve(imagesDir, path.posix.basename(rel)));
  bases.push(path.resolve(jsonDir, '..', rel));
  const out: string[] = [];
  for (const b of bases) {
    out.push(b);
    if (!path.extname(b)) for (const e of GUESS_EXTS) out.push(b + e);
  }
  return out.filter((p, i) => out.indexOf(p) === i);
}

export function findTransformsImage(jsonPath: string, filePath: string, imagesDir?: string): string | null {
  for (const p of transformsImageCandidates(jsonPath, filePath, imagesDir)) if (isFile(p)) return p;
  return null;
}

/** The one-line error for missing images: how many, and the first one. */
export function missingImagesError(source: string, total: number, missing: string[], searched: string[]): UserError {
  return new UserError(
    `${missing.length} of ${total} images of ${source} are missing, first: ${missing[0]} (looked in ${searched.join(', ')})`,
    { file: source, fix: 'pass --images <folder with the photos>' },
  );
}
