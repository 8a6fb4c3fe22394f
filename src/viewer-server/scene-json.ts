/**
 * The COLMAP model as the page wants it: capture cameras (pose + pinhole intrinsics + photo URL)
 * and the sparse point cloud, flattened into JSON. Poses stay in COLMAP convention; the page
 * converts them with src/geometry/three-convert.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pinholeOf } from '../core/camera.js';
import { type SparseModel } from '../core/sparse-model.js';
import { estimateUp } from '../geometry/three-convert.js';
import { readColmapModel } from '../io/colmap.js';
import type { ViewerCamera, ViewerCameras, ViewerPoints } from './protocol.js';
import { encodePath } from './safe-path.js';

export async function loadSparseModel(dir: string): Promise<SparseModel> {
  return await readColmapModel(dir);
}

/**
 * @param photoUrl maps an image name to its URL, or null when the photo is not there
 */
export function camerasJson(model: SparseModel, photoUrl: (name: string) => string | null): ViewerCameras {
  const cameras: ViewerCamera[] = [];
  for (const img of model.images.values()) {
    const cam = model.cameras.get(img.cameraId);
    if (!cam) continue;
    const k = pinholeOf(cam);
    cameras.push({
      id: img.id,
      name: img.name,
      width: cam.width,
      height: cam.height,
      ...k,
      qvec: [...img.qvec],
      tvec: [...img.tvec],
      photo: photoUrl(img.name),
    });
  }
  // capture order: photos and video frames are named in sequence
  cameras.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  return { cameras };
}

export function pointsJson(model: SparseModel): ViewerPoints {
  const xyz: number[] = [];
  const rgb: number[] = [];
  for (const p of model.points3D.values()) {
    xyz.push(round(p.xyz[0]), round(p.xyz[1]), round(p.xyz[2]));
    rgb.push(p.rgb[0], p.rgb[1], p.rgb[2]);
  }
  return { count: xyz.length / 3, xyz, rgb };
}

export function modelUp(model: SparseModel): [number, number, number] {
  return estimateUp([...model.images.values()].map((i) => i.qvec));
}

/** Photo URL under the workspace mount, when the file exists. */
export function workspacePhotoUrl(imagesDir: string | null, mountPrefix: string): (name: string) => string | null {
  return (name) => {
    if (!imagesDir) return null;
    const abs = path.join(imagesDir, name);
    if (!abs.startsWith(imagesDir + path.sep) || !existsSync(abs)) return null;
    return `${mountPrefix}/images/${encodePath(name)}`;
  };
}

// 6 significant digits keep the JSON small; positions are not used for measurement
function round(v: number): number {
  return Number(v.toPrecision(7));
}
