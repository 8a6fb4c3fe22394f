/**
 * `writeObjectsWorkspace`: the synthetic three-object scene (objects-scene.ts) as a workspace, the
 * layout of the existing synthetic workspace plus the object truth:
 *   images/view_NNN.png, priors.json,
 *   sparse/ (COLMAP text + binary: exact cameras, the opaque Gaussian centres as points with
 *            tracks in the views that see them unoccluded) and sparse/frame.json (metric, up +z),
 *   masks/<object>/view_NNN.png         visible (modal) masks, 0/255 — what a person would paint,
 *   masks-amodal/<object>/view_NNN.png  amodal masks (the object rendered alone) — the IoU truth,
 *   meshes/<object>.obj                 exact triangle meshes (metres, z up),
 *   synthetic-objects.json              object names, extents, centres, yaw, Gaussian ranges, views.
 * Only io/scene/ingest-level modules are used (synthetic sits below pipeline in the layers).
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { writeColmapModel } from '../io/colmap.js';
import { emptyModel, type SparseModel } from '../core/sparse-model.js';
import { SH_COEFFS } from '../core/gaussians.js';
import { matToQuat, matVec3, type Vec3 } from '../geometry/rotation.js';
import { syntheticPriors } from './workspace.js';
import { writePng } from '../scene/image-io.js';
import { sigmoid, shDcToRgb } from '../scene/gaussians.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fsx.js';
import { meshToObj, shapeMesh } from './object-shapes.js';
import { renderObjectsCapture, type ObjectsCapture, type ObjectsSceneOptions } from './objects-scene.js';

export * from './objects-scene.js';
export { shapeMesh } from './object-shapes.js';

export const OBJECTS_TRUTH_FILE = 'synthetic-objects.json';

export interface ObjectsTruthFile {
  kind: 'r2s.synthetic-objects';
  version: 1;
  options: ObjectsSceneOptions;
  /** scene frame: metres, z up, ground plane z = 0 */
  up: Vec3;
  ground: { z: 0; halfSize: number; gaussians: [number, number] };
  camera: ObjectsCapture['intrinsics'];
  objects: {
    name: string;
    kind: string;
    centre: Vec3;
    extents: Vec3;
    yawDeg: number;
    gaussians: [number, number];
    mesh: string;
    masks: string;
    amodalMasks: string;
  }[];
  images: { name: string; qvec: [number, number, number, number]; tvec: Vec3 }[];
}

/** Render the scene (or take a capture already rendered) and write the workspace at `root`. */
export async function writeObjectsWorkspace(root: string, opts: Partial<ObjectsSceneOptions> | ObjectsCapture = {}): Promise<{ capture: ObjectsCapture; truth: ObjectsTruthFile }> {
  const cap = 'views' in opts && Array.isArray(opts.views) ? (opts as ObjectsCapture) : renderObjectsCapture(opts as Partial<ObjectsSceneOptions>);
  const k = cap.intrinsics;
  const dir = (...p: string[]) => path.join(root, ...p);
  for (const v of cap.views) await writePng(dir('images', v.name), v.rgb, k.width, k.height);
  for (const [j, ob] of cap.scene.objects.entries()) {
    for (const v of cap.views) {
      await writeMask(dir('masks', ob.name, v.name), v.visible[j]!, k.width, k.height);
      await writeMask(dir('masks-amodal', ob.name, v.name), v.amodal[j]!, k.width, k.height);
    }
    await writeFileAtomic(dir('meshes', `${ob.name}.obj`), meshToObj(shapeMesh(ob.spec), ob.name));
  }
  await writeJsonAtomic(dir('priors.json'), syntheticPriors('synthetic-objects', cap.views.map((v) => v.name), k));
  await writeColmapModel(dir('sparse'), objectsModel(cap), { text: true, binary: true });
  await writeJsonAtomic(dir('sparse', 'frame.json'), { scale: 'metric', method: 'none', up: [0, 0, 1], scaleFactor: 1, note: 'synthetic objects scene: exact frame' });
  const truth: ObjectsTruthFile = {
    kind: 'r2s.synthetic-objects',
    version: 1,
    options: cap.options,
    up: [0, 0, 1],
    ground: { z: 0, halfSize: 1.6, gaussians: [0, cap.scene.groundCount] },
    camera: k,
    objects: cap.scene.objects.map((o) => ({
      name: o.name, kind: o.kind, centre: o.centre, extents: o.extents, yawDeg: o.yawDeg, gaussians: o.gaussians,
      mesh: `meshes/${o.name}.obj`, masks: `masks/${o.name}`, amodalMasks: `masks-amodal/${o.name}`,
    })),
    images: cap.views.map((v) => ({ name: v.name, qvec: matToQuat(v.view.R), tvec: [...v.view.t] as Vec3 })),
  };
  await writeJsonAtomic(dir(OBJECTS_TRUTH_FILE), truth);
  return { capture: cap, truth };
}

async function writeMask(file: string, m: Uint8Array, width: number, height: number): Promise<void> {
  const bytes = Buffer.alloc(m.length);
  for (let p = 0; p < m.length; p++) bytes[p] = m[p] ? 255 : 0;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, await sharp(bytes, { raw: { width, height, channels: 1 } }).png().toBuffer());
}

/**
 * COLMAP model with the exact cameras and, as points, the centres of the opaque Gaussians, each
 * observed where it projects in front of the camera within 3 % of the rendered depth.
 */
export function objectsModel(cap: ObjectsCapture): SparseModel {
  const k = cap.intrinsics;
  const g = cap.scene.params;
  const model = emptyModel();
  model.cameras.set(1, { id: 1, model: 'PINHOLE', width: k.width, height: k.height, params: [k.fx, k.fy, k.cx, k.cy] });
  const obs = cap.views.map(() => ({ xys: [] as number[], ids: [] as number[] }));
  let id = 0;
  for (let i = 0; i < g.count; i++) {
    if (sigmoid(g.opacityLogits[i]!) < 0.5) continue;
    const X: Vec3 = [g.means[3 * i]!, g.means[3 * i + 1]!, g.means[3 * i + 2]!];
    const seen: [number, number, number][] = [];
    cap.views.forEach((v, j) => {
      const p = matVec3(v.view.R, X);
      const z = p[2] + v.view.t[2];
      if (z <= 0.05) return;
      const x = (k.fx * (p[0] + v.view.t[0])) / z + k.cx, y = (k.fy * (p[1] + v.view.t[1])) / z + k.cy;
      if (x < 0 || y < 0 || x >= k.width || y >= k.height) return;
      const d = v.depth[Math.floor(y) * k.width + Math.floor(x)]!;
      if (d <= 0 || Math.abs(d - z) > 0.03 * z) return;
      seen.push([j, x, y]);
    });
    if (seen.length < 2) continue;
    const pid = ++id;
    const track = seen.map(([j, x, y]) => {
      const o = obs[j]!;
      o.xys.push(x, y);
      o.ids.push(pid);
      return { imageId: j + 1, point2DIdx: o.ids.length - 1 };
    });
    const rgb = [0, 1, 2].map((c) => Math.round(255 * Math.min(1, Math.max(0, shDcToRgb(g.sh[i * SH_COEFFS * 3 + c]!))))) as Vec3;
    model.points3D.set(pid, { id: pid, xyz: X, rgb, error: 0, track });
  }
  cap.views.forEach((v, j) => {
    const o = obs[j]!;
    model.images.set(j + 1, { id: j + 1, cameraId: 1, name: v.name, qvec: matToQuat(v.view.R), tvec: [...v.view.t] as Vec3, xys: Float64Array.from(o.xys), point3DIds: o.ids });
  });
  return model;
}
