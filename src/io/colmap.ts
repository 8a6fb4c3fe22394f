/**
 * Read and write a COLMAP sparse model folder in either format. Reading prefers the binary files
 * (as COLMAP does) and falls back to text; writing emits both by default, each file atomically,
 * after every buffer has been built, so a failure leaves the earlier model untouched.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { SparseModel } from '../core/sparse-model.js';
import { parseModelText, formatCamerasText, formatImagesText, formatPoints3DText } from './colmap-text.js';
import { parseModelBin, formatCamerasBin, formatImagesBin, formatPoints3DBin } from './colmap-binary.js';
import { writeFileAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';

export { parseModelText, parseModelBin };

const PARTS = ['cameras', 'images', 'points3D'] as const;

export type ColmapFormat = 'bin' | 'txt';

/** Which complete model formats `dir` holds (binary first). */
export function detectColmapFormats(dir: string): ColmapFormat[] {
  const out: ColmapFormat[] = [];
  for (const ext of ['bin', 'txt'] as const) if (PARTS.every((p) => existsSync(path.join(dir, `${p}.${ext}`)))) out.push(ext);
  return out;
}

export function isColmapModelDir(dir: string): boolean {
  return detectColmapFormats(dir).length > 0;
}

export async function readColmapModel(dir: string, format?: ColmapFormat): Promise<SparseModel> {
  const formats = detectColmapFormats(dir);
  const fmt = format ?? formats[0];
  if (!fmt || !formats.includes(fmt)) {
    const want = fmt ? PARTS.map((p) => `${p}.${fmt}`).join(', ') : 'cameras.bin, images.bin, points3D.bin (or the .txt files)';
    throw new UserError(`${dir}: no COLMAP model here (need ${want})`, { file: dir, fix: 'pass the folder that holds the model, e.g. sparse/0' });
  }
  const files = Object.fromEntries(PARTS.map((p) => [p, path.join(dir, `${p}.${fmt}`)])) as Record<(typeof PARTS)[number], string>;
  if (fmt === 'bin') {
    const [cameras, images, points3D] = await Promise.all(PARTS.map((p) => fs.readFile(files[p])));
    return parseModelBin({ cameras: cameras!, images: images!, points3D: points3D! }, files);
  }
  const [cameras, images, points3D] = await Promise.all(PARTS.map((p) => fs.readFile(files[p], 'utf8')));
  return parseModelText({ cameras: cameras!, images: images!, points3D: points3D! }, files);
}

export interface WriteColmapOptions {
  text?: boolean; // default true
  binary?: boolean; // default true
}

/**
 * Write `model` into `dir`. When only one format is written, the other format's files are
 * removed, because readers prefer .bin and a stale copy would silently win.
 */
export async function writeColmapModel(dir: string, model: SparseModel, opts: WriteColmapOptions = {}): Promise<void> {
  const text = opts.text ?? true;
  const binary = opts.binary ?? true;
  if (!text && !binary) throw new Error('writeColmapModel: nothing to write (text and binary both false)');
  const outputs: Array<[string, string | Uint8Array]> = [];
  if (text) {
    outputs.push(['cameras.txt', formatCamerasText(model)], ['images.txt', formatImagesText(model)], ['points3D.txt', formatPoints3DText(model)]);
  }
  if (binary) {
    outputs.push(['cameras.bin', formatCamerasBin(model)], ['images.bin', formatImagesBin(model)], ['points3D.bin', formatPoints3DBin(model)]);
  }
  await fs.mkdir(dir, { recursive: true });
  await Promise.all(outputs.map(([name, data]) => writeFileAtomic(path.join(dir, name), data)));
  const stale = text && binary ? [] : PARTS.map((p) => `${p}.${text ? 'bin' : 'txt'}`);
  await Promise.all(stale.map((name) => fs.rm(path.join(dir, name), { force: true })));
}

/**
 * The model folder under `dir`: `dir` itself, or the usual COLMAP layouts below it
 * (sparse/0, sparse, 0). Null when none holds a model.
 */
export function findColmapModelDir(dir: string): string | null {
  for (const sub of ['.', 'sparse/0', 'sparse', '0']) {
    const d = path.join(dir, sub);
    if (isColmapModelDir(d)) return path.normalize(d);
  }
  return null;
}
