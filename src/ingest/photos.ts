/**
 * A folder of photos → oriented (and optionally downscaled) copies in the images folder being
 * built, with one ImagePrior each. GPS becomes local ENU metres about the first geotagged photo.
 *
 * File names are read as bytes: a name that is not valid UTF-8, or holds a control character
 * (a newline would split sfm's images.txt line) or leading/trailing spaces (COLMAP trims them), is
 * read by its bytes and stored under a cleaned name, with one warning line; priors.json keeps the
 * source. Photos in formats r2s does not read (HEIC, RAW, GIF …) are listed as dropped.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { isImageFile, prepareImage } from '../io/images.js';
import { readExif } from '../io/exif.js';
import { geodeticToEnu } from '../geometry/geodesy.js';
import { UserError } from '../util/errors.js';
import { warn } from '../util/log.js';
import { Progress } from '../util/progress.js';
import { cameraKey, focalPrior } from './focal.js';
import type { DroppedInput, ImagePrior, Priors } from './priors.js';

/** Photo formats people will have in a capture folder that sharp's prebuilt binaries cannot decode. */
const UNSUPPORTED_PHOTO_EXTS = ['.heic', '.heif', '.bmp', '.cr2', '.cr3', '.nef', '.arw', '.dng', '.raf', '.orf', '.rw2', '.gif', '.avif', '.jxl'];

export interface PhotosResult {
  images: ImagePrior[];
  dropped: DroppedInput[];
  enuOrigin?: Priors['enuOrigin'];
}

/** A symbolic link in the photo folder, which ingest does not follow. */
export interface SkippedLink {
  name: string;
  /** what it points to: a photo or other file, a folder, the folder or one above it, links in a circle (ELOOP), nothing */
  kind: 'file' | 'folder' | 'up' | 'loop' | 'broken';
}

export interface PhotoListing {
  photos: string[];
  /** names (as listed, lossy) whose bytes are not valid UTF-8 → their raw bytes, to open them */
  rawNames: Map<string, Buffer>;
  others: string[];
  /** folders directly inside (not read: ingest reads one folder) */
  subfolders: string[];
  /** symbolic links (not followed) */
  links: SkippedLink[];
}

/** Image files directly inside `dir`, in natural order (2.jpg before 10.jpg). */
export async function listPhotos(dir: string): Promise<PhotoListing> {
  let entries: import('node:fs').Dirent<Buffer>[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UserError(`${dir}: not a folder`, { file: dir, fix: 'pass a folder of photos or a video file' });
    throw new UserError(`${dir}: cannot read the folder (${code ?? (e as Error).message})`, { file: dir, fix: 'check the folder permissions (chmod u+rx)' });
  }
  const photos: string[] = [];
  const others: string[] = [];
  const subfolders: string[] = [];
  const links: SkippedLink[] = [];
  const rawNames = new Map<string, Buffer>();
  for (const ent of entries) {
    const raw = ent.name;
    let name = raw.toString('utf8');
    if (!Buffer.from(name, 'utf8').equals(raw)) {
      // not UTF-8: a lossy, unique label; the bytes open the file
      for (let k = 2; rawNames.has(name); k++) name = `${raw.toString('utf8')}~${k}`;
      rawNames.set(name, raw);
    }
    if (name.startsWith('.')) continue;
    if (ent.isFile() && isImageFile(name)) photos.push(name);
    else if (ent.isFile()) others.push(name);
    else if (ent.isDirectory()) subfolders.push(name);
    else if (ent.isSymbolicLink()) links.push({ name, kind: await linkKind(dir, name, rawNames.get(name)) });
  }
  const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  return { photos: photos.sort(byName), rawNames, others: others.sort(byName), subfolders: subfolders.sort(byName), links: links.sort((a, b) => byName(a.name, b.name)) };
}

/** The path to open for `name` of a listing of `dir` (its raw bytes when the name is not UTF-8). */
export function listedPath(dir: string, name: string, rawNames: Map<string, Buffer>): string | Buffer {
  const raw = rawNames.get(name);
  return raw ? Buffer.concat([Buffer.from(dir.endsWith(path.sep) ? dir : dir + path.sep, 'utf8'), raw]) : path.join(dir, name);
}

/**
 * The name a photo is stored under: bytes that were not UTF-8 (shown as U+FFFD), control
 * characters and leading/trailing white space become "_". Null when the name is fine as it is.
 */
export function cleanName(name: string): string | null {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\uFFFD\u0000-\u001f\u007f\u2028\u2029]/g, '_').replace(/^\s+|\s+$/g, (m) => '_'.repeat(m.length));
  return clean === name ? null : clean;
}

/**
 * What a link points to, without walking into it: a link to the folder itself or a folder above
 * it would make any walk endless, and a link to itself fails with ELOOP.
 */
async function linkKind(dir: string, name: string, raw?: Buffer): Promise<SkippedLink['kind']> {
  const p = raw ? listedPath(dir, name, new Map([[name, raw]])) : path.join(dir, name);
  try {
    const st = await fs.stat(p);
    if (!st.isDirectory()) return 'file';
    const [target, here] = await Promise.all([fs.realpath(p), fs.realpath(dir)]);
    const rel = path.relative(target, here);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel)) ? 'up' : 'folder';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ELOOP' ? 'loop' : 'broken';
  }
}

/** "a/, b/, c/ and 4 more" */
function someNames(names: string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/** One warning line each for subfolders and links that ingest does not read. */
function warnSkipped(l: PhotoListing): void {
  const n = l.subfolders.length;
  if (n) warn(`skipped ${n} subfolder${n > 1 ? 's' : ''} (${someNames(l.subfolders.map((f) => f + '/'))}) — ingest reads one folder; pass a subfolder to use it`);
  const k = l.links.length;
  if (k) {
    const what = { file: '', folder: '/', up: '/ (a loop: points to this folder or one above)', loop: ' (a loop of links)', broken: ' (points nowhere)' } as const;
    warn(`skipped ${k} symbolic link${k > 1 ? 's' : ''} (${someNames(l.links.map((x) => x.name + what[x.kind]))}) — ingest reads only the regular files in the folder; copy the photos in`);
  }
}

export async function ingestPhotos(dir: string, outDir: string, opts: { maxSize?: number; silent?: boolean } = {}): Promise<PhotosResult> {
  const listing = await listPhotos(dir);
  const { photos, others } = listing;
  warnSkipped(listing);
  // Notes, sidecars and the like are ignored; photos in a format we cannot read are reported.
  const unsupported = others.filter((n) => UNSUPPORTED_PHOTO_EXTS.includes(path.extname(n).toLowerCase()));
  if (photos.length === 0) {
    const why = unsupported.length ? `only ${unsupported.length} photo(s) in formats r2s cannot read (e.g. ${unsupported[0]})` : 'no photos found';
    throw new UserError(`${dir}: ${why} (looked for JPEG, PNG, TIFF, WebP files)`, {
      file: dir,
      fix: unsupported.length
        ? 'convert them to JPEG or PNG'
        : listing.subfolders.length
          ? `pass one of its subfolders (${someNames(listing.subfolders.map((f) => f + '/'), 3)}), or put the photos directly in this folder`
          : 'put the photos directly in this folder, or pass a video file',
    });
  }
  const dropped: DroppedInput[] = unsupported.map((n) => ({
    source: path.join(dir, n),
    reason: `unsupported: ${path.extname(n)} photos cannot be read (convert to JPEG or PNG)`,
  }));
  const images: ImagePrior[] = [];
  const used = new Set<string>();
  // Exact copies (same bytes) add nothing to the reconstruction but matching time: the first one
  // is kept, the others are dropped with their reason.
  const byHash = new Map<string, string>();
  const duplicates: Array<{ name: string; of: string }> = [];
  const renamed: Array<{ from: string; to: string }> = [];
  const progress = new Progress('ingest photos', photos.length, { silent: opts.silent });
  for (const name of photos) {
    const file = path.join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(listedPath(dir, name, listing.rawNames));
    } catch (e) {
      throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file, fix: 'check the file permissions' });
    }
    const hash = createHash('sha256').update(bytes).digest('hex');
    const first = byHash.get(hash);
    if (first !== undefined) {
      duplicates.push({ name, of: first });
      dropped.push({ source: file, reason: `duplicate: same bytes as ${first}` });
      progress.tick();
      continue;
    }
    byHash.set(hash, name);
    const img = await prepareImage(bytes, file, { maxSize: opts.maxSize });
    const exif = await readExif(bytes);
    const cleaned = cleanName(name);
    if (cleaned !== null) renamed.push({ from: name, to: cleaned });
    const base = cleaned ?? name;
    const stored = uniqueName(img.changed ? path.parse(base).name + img.ext : base, used);
    if (cleaned !== null) renamed[renamed.length - 1]!.to = stored;
    await fs.writeFile(path.join(outDir, stored), img.data);
    const prior: ImagePrior = {
      name: stored,
      width: img.width,
      height: img.height,
      cameraKey: cameraKey(exif, img.width, img.height),
      ...focalPrior(exif, img.width, img.height),
      source: file,
    };
    if (exif.make) prior.make = exif.make;
    if (exif.model) prior.model = exif.model;
    if (exif.gps) prior.gps = exif.gps;
    if (exif.time) prior.time = exif.time;
    images.push(prior);
    progress.tick();
  }
  progress.finish();
  if (duplicates.length) {
    const d = duplicates[0]!;
    warn(`${duplicates.length} of ${photos.length} photos are exact duplicates of others (first: ${d.of} = ${d.name}); they add nothing to the reconstruction — dropped, each with its reason in priors.json`);
  }
  if (renamed.length) {
    const r = renamed[0]!;
    warn(`renamed ${renamed.length} photo(s) whose file names are not valid UTF-8 or hold control characters or edge spaces (first: ${JSON.stringify(r.from)} → ${r.to}); priors.json keeps each source — rename the files to keep their names`);
  }
  const enuOrigin = addEnu(images);
  return { images, dropped, ...(enuOrigin ? { enuOrigin } : {}) };
}

/** ENU metres about the first geotagged image; images without altitude sit at the origin's. */
export function addEnu(images: ImagePrior[]): Priors['enuOrigin'] {
  const first = images.find((i) => i.gps);
  if (!first?.gps) return undefined;
  const origin = { lat: first.gps.lat, lon: first.gps.lon, alt: first.gps.alt ?? 0 };
  for (const im of images) {
    if (!im.gps) continue;
    const [e, n, u] = geodeticToEnu({ lat: im.gps.lat, lon: im.gps.lon, alt: im.gps.alt ?? origin.alt }, origin);
    im.enu = [round(e), round(n), round(u)];
  }
  return origin;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000; // millimetres: far below GPS accuracy
}

/** a.tif and a.png both want "a.png": the second keeps its full name. */
function uniqueName(want: string, used: Set<string>): string {
  let name = want;
  for (let k = 2; used.has(name.toLowerCase()); k++) {
    const p = path.parse(want);
    name = `${p.name}_${k}${p.ext}`;
  }
  used.add(name.toLowerCase());
  return name;
}
