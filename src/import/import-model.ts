/**
 * Import: read an existing COLMAP model or a nerfstudio / instant-ngp transforms.json and write
 * it as images, a COLMAP model (text + binary) and priors.json, so later stages (train, eval,
 * view) run on cameras someone else computed. Library functions on paths; the `import` stage
 * (src/stages/import.ts) maps a workspace onto them.
 */
import { promises as fs, statSync, constants as fsc } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { type SparseModel } from '../core/sparse-model.js';
import { pinholeOf } from '../core/camera.js';
import { readColmapModel, writeColmapModel, findColmapModelDir, detectColmapFormats } from '../io/colmap.js';
import { readTransforms } from '../io/nerfstudio.js';
import { readPointCloudPly } from '../io/ply.js';
import { matVec3 } from '../geometry/rotation.js';
import type { Priors, ImagePrior } from '../ingest/priors.js';
import { replaceDirAtomic, writeJsonAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { confinedPath } from '../util/confine.js';
import { info, warn } from '../util/log.js';
import { Progress } from '../util/progress.js';
import { findColmapImages, findTransformsImage, missingImagesError } from './find-images.js';
import { ingestMasks } from '../ingest/masks.js';

/** Where an import writes. */
export interface ImportPaths {
  imagesDir: string;
  sparseDir: string;
  priorsPath: string;
  masksDir: string;
}

export interface ImportCounts {
  kind: 'colmap' | 'transforms';
  source: string;
  images: number;
  cameras: number;
  points: number;
  masks: number;
}

export interface LoadedSource {
  kind: 'colmap' | 'transforms';
  /** absolute path recorded as the source */
  source: string;
  /** files whose content decides whether the import is current */
  modelFiles: string[];
  model: SparseModel;
  /** image name → absolute source file */
  imageFiles: Map<string, string>;
  /** folder of masks to bring in, if any */
  masksDir?: string;
}

/**
 * Read and check a source before anything is written: the model, its images (all found, sizes
 * matching their cameras) and masks. `masksDir` overrides a transforms.json's mask_path folder.
 */
export async function loadImportSource(source: string, o: { imagesDir?: string; masksDir?: string } = {}): Promise<LoadedSource> {
  const src = await loadSource(source, o.imagesDir);
  if (o.masksDir) src.masksDir = path.resolve(o.masksDir);
  await checkImageSizes(src);
  return src;
}

/** The files whose content decides whether an import is current. */
export function importInputs(src: LoadedSource): string[] {
  return [...src.modelFiles, ...[...src.imageFiles.values()].sort(), ...(src.masksDir ? [src.masksDir] : [])];
}

/** Write a loaded source: masks, images, the model, priors.json (each swapped in atomically). */
export async function writeImport(src: LoadedSource, out: ImportPaths, silent?: boolean): Promise<ImportCounts> {
  const priors = makePriors(src);
  let masks = 0;
  if (src.masksDir) {
    const dir = src.masksDir;
    await replaceDirAtomic(out.masksDir, async (tmp) => { masks = (await ingestMasks(dir, priors.images, tmp)).matched; });
  }
  await copyImages(out.imagesDir, src.imageFiles, silent);
  await replaceDirAtomic(out.sparseDir, (tmp) => writeColmapModel(tmp, src.model, { text: true, binary: true }));
  await writeJsonAtomic(out.priorsPath, priors);
  return { kind: src.kind, source: src.source, images: src.model.images.size, cameras: src.model.cameras.size, points: src.model.points3D.size, masks };
}

async function loadSource(source: string, imagesDir?: string): Promise<LoadedSource> {
  const abs = path.resolve(source);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new UserError(`${source}: not found`, { file: source, fix: 'pass a COLMAP model folder or a transforms.json' });
  }
  if (imagesDir !== undefined) {
    try {
      if (!statSync(imagesDir).isDirectory()) throw new Error();
    } catch {
      throw new UserError(`--images ${imagesDir}: not a folder`, { file: imagesDir, fix: 'pass the folder that holds the photos' });
    }
  }
  if (st.isFile()) {
    if (!abs.toLowerCase().endsWith('.json')) throw new UserError(`${source}: not a transforms.json or a COLMAP model folder`, { file: source, fix: 'pass a COLMAP model folder (cameras/images/points3D) or a transforms.json' });
    return loadTransforms(abs, imagesDir);
  }
  const modelDir = findColmapModelDir(abs);
  if (modelDir) return loadColmap(modelDir, imagesDir);
  const json = path.join(abs, 'transforms.json');
  try {
    if (statSync(json).isFile()) return loadTransforms(json, imagesDir);
  } catch {
    // fall through to the error below
  }
  throw new UserError(`${source}: no COLMAP model (cameras, images, points3D .bin or .txt) and no transforms.json here`, {
    file: source,
    fix: 'pass the model folder itself, e.g. sparse/0, or the transforms.json',
  });
}

async function loadColmap(modelDir: string, imagesDir?: string): Promise<LoadedSource> {
  const fmt = detectColmapFormats(modelDir)[0]!;
  const model = await readColmapModel(modelDir, fmt);
  if (model.images.size === 0) throw new UserError(`${modelDir}: the model has no images`, { file: modelDir, fix: 'import a model with registered images' });
  checkCameraRefs(model, modelDir);
  const names = [...model.images.values()].map((im) => im.name);
  const res = findColmapImages(modelDir, names, imagesDir);
  if (res.missing.length) throw missingImagesError(modelDir, names.length, res.missing, res.searched);
  return {
    kind: 'colmap',
    source: modelDir,
    modelFiles: ['cameras', 'images', 'points3D'].map((p) => path.join(modelDir, `${p}.${fmt}`)),
    model,
    imageFiles: res.found,
  };
}

async function loadTransforms(jsonPath: string, imagesDir?: string): Promise<LoadedSource> {
  const imageSize = async (filePath: string): Promise<{ width: number; height: number } | null> => {
    const p = findTransformsImage(jsonPath, filePath, imagesDir);
    if (!p) return null;
    const meta = await sharp(p).metadata();
    return meta.width && meta.height ? { width: meta.width, height: meta.height } : null;
  };
  const { model, filePaths, maskPaths, plyPath, worldFromFile } = await readTransforms(jsonPath, { imageSize });
  const imageFiles = new Map<string, string>();
  const missing: string[] = [];
  for (const im of model.images.values()) {
    const fp = filePaths.get(im.id)!;
    const p = findTransformsImage(jsonPath, fp, imagesDir);
    if (!p) { missing.push(fp); continue; }
    // a file_path without extension names the file found with one: keep the extension
    if (!path.extname(im.name)) im.name += path.extname(p);
    if (imageFiles.has(im.name)) throw new UserError(`${jsonPath}: two frames name the same image ${im.name}`, { file: jsonPath, fix: 'remove the duplicate frame' });
    imageFiles.set(im.name, p);
  }
  if (missing.length) {
    const dirs = [path.dirname(jsonPath), ...(imagesDir ? [path.resolve(imagesDir)] : []), path.dirname(path.dirname(jsonPath))];
    throw missingImagesError(jsonPath, model.images.size, missing, dirs);
  }
  const modelFiles = [jsonPath];
  if (plyPath) {
    // the sparse cloud nerfstudio keeps next to the json, in the file's world: bring it into ours
    const cloud = await readPointCloudPly(plyPath);
    for (let i = 0; i < cloud.count; i++) {
      const p = matVec3(worldFromFile.R, [cloud.positions[3 * i]!, cloud.positions[3 * i + 1]!, cloud.positions[3 * i + 2]!]);
      const xyz: [number, number, number] = [worldFromFile.s * p[0] + worldFromFile.t[0], worldFromFile.s * p[1] + worldFromFile.t[1], worldFromFile.s * p[2] + worldFromFile.t[2]];
      const rgb: [number, number, number] = cloud.colors ? [cloud.colors[3 * i]!, cloud.colors[3 * i + 1]!, cloud.colors[3 * i + 2]!] : [128, 128, 128];
      model.points3D.set(i + 1, { id: i + 1, xyz, rgb, error: 0, track: [] });
    }
    modelFiles.push(plyPath);
  }
  return { kind: 'transforms', source: jsonPath, modelFiles, model, imageFiles, masksDir: maskFolder(jsonPath, [...maskPaths.values()]) };
}

/**
 * The one folder holding a transforms.json's mask_path files (masks are matched to images by
 * name, as ingest does); none when frames have no masks. Masks spread over several folders
 * are not supported: say so rather than import half of them.
 */
function maskFolder(jsonPath: string, maskPaths: string[]): string | undefined {
  if (!maskPaths.length) return undefined;
  const dirs = new Set(maskPaths.map((m) => path.dirname(path.resolve(path.dirname(jsonPath), m))));
  if (dirs.size > 1) throw new UserError(`${jsonPath}: mask_path files lie in ${dirs.size} folders`, { file: jsonPath, fix: 'put the masks in one folder and pass --masks DIR' });
  const dir = [...dirs][0]!;
  try {
    if (statSync(dir).isDirectory()) return dir;
  } catch {
    // reported below
  }
  throw new UserError(`${jsonPath}: mask folder ${dir} not found`, { file: jsonPath, fix: 'pass --masks DIR' });
}

function checkCameraRefs(model: SparseModel, file: string): void {
  for (const im of model.images.values()) {
    if (!model.cameras.has(im.cameraId)) throw new UserError(`${file}: image ${im.id} (${im.name}) uses camera ${im.cameraId}, which the model lacks`, { file, fix: 'repair or re-export the model' });
  }
}

/**
 * Cameras must describe the pixels we copy: a model made on other-sized images (a downscaled
 * images_2/ folder, say) would put every pixel in the wrong place.
 */
async function checkImageSizes(src: LoadedSource): Promise<void> {
  let rotated = 0;
  for (const im of src.model.images.values()) {
    const file = src.imageFiles.get(im.name)!;
    const cam = src.model.cameras.get(im.cameraId)!;
    let meta;
    try {
      meta = await sharp(file).metadata();
    } catch (e) {
      throw new UserError(`${file}: not a readable image (${(e as Error).message.split('\n')[0]})`, { file, fix: 'replace the file' });
    }
    if (meta.width !== cam.width || meta.height !== cam.height) {
      throw new UserError(`${file}: image is ${meta.width}×${meta.height} but its camera ${cam.id} is ${cam.width}×${cam.height}`, {
        file,
        fix: 'pass --images with the photos the model was computed on (same resolution)',
      });
    }
    if ((meta.orientation ?? 1) !== 1) rotated++;
  }
  // COLMAP and instant-ngp use the stored pixels and ignore EXIF orientation; so do we here
  if (rotated) warn(`${rotated} images carry an EXIF orientation tag; the model uses their stored (unrotated) pixels, as imported`);
}

async function copyImages(dir: string, files: Map<string, string>, silent?: boolean): Promise<void> {
  const bar = new Progress('import: copying images', files.size, { silent });
  await replaceDirAtomic(dir, async (tmp) => {
    for (const [name, src] of [...files.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      const dst = confinedPath(tmp, name, { file: src });
      await fs.mkdir(path.dirname(dst), { recursive: true });
      // a reflink where the file system has them, a plain copy otherwise; never a hard link,
      // which would let a later in-place edit reach the source dataset
      await fs.copyFile(src, dst, fsc.COPYFILE_FICLONE);
      bar.tick();
    }
  });
  bar.finish();
}

function makePriors(src: LoadedSource): Priors {
  const images: ImagePrior[] = [...src.model.images.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((im) => {
      const cam = src.model.cameras.get(im.cameraId)!;
      const k = pinholeOf(cam);
      return {
        name: im.name,
        width: cam.width,
        height: cam.height,
        cameraKey: `import|camera${cam.id}|${cam.width}x${cam.height}`,
        focalPx: (k.fx + k.fy) / 2,
        focalSource: 'user',
        source: src.imageFiles.get(im.name)!,
      };
    });
  info(`import: ${images.length} images, ${src.model.cameras.size} cameras, ${src.model.points3D.size} points from ${src.source}`);
  return { version: 1, input: { kind: 'photos', path: src.source }, images, dropped: [] };
}
