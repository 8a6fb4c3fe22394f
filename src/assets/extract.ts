/**
 * Selected Gaussians → an asset folder in the library: splats (.ply, .spz, .glb) in the asset
 * frame, a TSDF mesh with LODs, colliders, an OpenUSD layer (asset.usda: mesh + material, colliders,
 * splats as ParticleField3DGaussianSplat; packed with its texture into asset.usdz), a thumbnail and
 * asset.json; then the catalog entry.
 * The folder is built in a temporary sibling inside the library and renamed into place; the
 * catalog is updated under the library lock.
 */
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import type { GaussianParams } from '../core/gaussians.js';
import type { RasterCamera } from '../core/raster.js';
import type { SparseModel } from '../core/sparse-model.js';
import { pinholeOf } from '../core/camera.js';
import { quatToMat } from '../geometry/rotation.js';
import { encodeGaussianPly } from '../io/ply.js';
import { encodeSpz } from '../io/spz.js';
import { UserError } from '../util/errors.js';
import { hashString, replaceDirAtomic } from '../util/fsx.js';
import { meshFromGaussians, texturePng, type MeshOptions } from './mesh/index.js';
import { defaultBackend, type RasterBackend } from './mesh/render.js';
import { meshBounds, triangleCount } from './mesh/types.js';
import { assetFrame, type GroundPlane } from './export/frame.js';
import { transformGaussians } from './export/transform-gaussians.js';
import { collisionToGlb, meshToGlb } from './export/gltf.js';
import { convexDecomposition, convexHull, defaultCollisionOptions, type CollisionOptions } from './export/collision.js';
import { splatsToGlb } from './export/splats-glb.js';
import { renderThumbnail } from './export/thumbnail.js';
import { assetToUsda, usdzPackage } from './export/usd.js';
import { updateCatalog, type CatalogEntry } from './library/catalog.js';
import type { AssetRecord, ScaleMethod } from './library/record.js';

export interface ExtractOptions {
  /** build mesh.glb, LODs and collision.glb (default true) */
  mesh: boolean;
  /** mesh extraction settings (default: defaultMeshOptions) */
  meshOptions: Partial<MeshOptions>;
  /** collider settings (default: defaultCollisionOptions) */
  collision: CollisionOptions;
  /** write splats.glb with KHR_gaussian_splatting (default true) */
  splatsGlb: boolean;
  /** render thumbnail.png (default true) */
  thumbnail: boolean;
  /** write asset.usda and asset.usdz (default true) */
  usd: boolean;
  /** rasterizer; default: the scene layer's backend factory ('auto') */
  backend?: RasterBackend;
}

export const defaultExtractOptions: ExtractOptions = { mesh: true, meshOptions: {}, collision: defaultCollisionOptions, splatsGlb: true, thumbnail: true, usd: true };

export interface ExtractInput {
  /** the whole scene */
  params: GaussianParams;
  /** SH degree stored in the scene (0..3) */
  shDegree: number;
  /** the selected Gaussians */
  indices: ArrayLike<number>;
  /** capture cameras, scene frame: a sparse model or raster cameras (viewpoints for the TSDF) */
  model?: SparseModel;
  cameras?: RasterCamera[];
  /** scene up vector; metres per scene unit and how that was known */
  frame: { up: [number, number, number]; scale: 'metric' | 'arbitrary'; method: ScaleMethod; factor: number };
  /** ground plane in scene coordinates (else the lowest Gaussians of the cut) */
  ground?: GroundPlane;
  /** horizontal scene direction that becomes the asset's +X (an upright box's x axis); default the scene x projected */
  heading?: [number, number, number];
  library: string;
  name: string;
  /** default: slug of the name + hash of the capture and the selection */
  id?: string;
  source: { capture: string; contentHash: string };
  provenance?: AssetRecord['provenance'];
  quality?: AssetRecord['quality'];
  options?: Partial<ExtractOptions>;
}

export function assetId(name: string, contentHash: string, indices: ArrayLike<number>): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'asset';
  const sel = hashString(`${contentHash}:${indices.length}:${Array.prototype.slice.call(indices, 0, 1 << 16).join(',')}`);
  return `${slug}-${sel.slice(0, 8)}`;
}

/** Capture cameras in the asset frame (x_a = s·R·x + t): R' = R_c·Rᵀ, t' = s·t_c − R'·t. */
function camerasInAssetFrame(cams: RasterCamera[], R: number[], s: number, t: number[]): RasterCamera[] {
  return cams.map((c) => {
    const Rc = c.R;
    const Rn = [0, 1, 2].flatMap((r) => [0, 1, 2].map((q) => Rc[3 * r]! * R[3 * q]! + Rc[3 * r + 1]! * R[3 * q + 1]! + Rc[3 * r + 2]! * R[3 * q + 2]!));
    const tn = [0, 1, 2].map((r) => s * c.t[r]! - (Rn[3 * r]! * t[0]! + Rn[3 * r + 1]! * t[1]! + Rn[3 * r + 2]! * t[2]!));
    return { ...c, R: Rn, t: tn, near: undefined, far: undefined };
  });
}

export function camerasOfModel(model: SparseModel): RasterCamera[] {
  const out: RasterCamera[] = [];
  for (const im of model.images.values()) {
    const cam = model.cameras.get(im.cameraId);
    if (!cam) continue;
    out.push({ width: cam.width, height: cam.height, ...pinholeOf(cam), R: quatToMat(im.qvec), t: im.tvec });
  }
  return out;
}

/** The library folder exists (created if needed) and takes a new file; else a one-line UserError. */
export async function ensureWritable(library: string): Promise<void> {
  try {
    await fs.mkdir(library, { recursive: true });
    await fs.access(library, fsc.W_OK);
    const probe = path.join(library, `.write-probe-${process.pid}-${Date.now()}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`asset library ${library} is not writable (${code})`, { file: library, fix: 'pass --library DIR with a writable folder' });
  }
}

export async function extractAsset(input: ExtractInput): Promise<{ record: AssetRecord; entry: CatalogEntry; dir: string }> {
  const o = { ...defaultExtractOptions, ...input.options };
  if (input.indices.length === 0) throw new UserError('the selection holds no Gaussians', { fix: 'widen the box or check the masks' });
  await ensureWritable(input.library);
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (k: string) => { const t = performance.now(); timings[k] = (t - t0) / 1000; t0 = t; };

  const factor = input.frame.scale === 'metric' ? input.frame.factor : 1;
  const up = input.ground ? input.ground.normal : input.frame.up;
  const frame = assetFrame(input.params, input.indices, up, factor, input.ground, undefined, input.heading);
  const { T } = frame;
  const g = transformGaussians(input.params, T, input.indices, input.shDegree);
  lap('transform');
  const backend = o.backend ?? (o.mesh || o.thumbnail ? await defaultBackend() : undefined);
  const id = input.id ?? assetId(input.name, input.source.contentHash, input.indices);
  const dir = path.join(input.library, id);
  const files: AssetRecord['files'] = { splats: 'splats.ply', splatsSpz: 'splats.spz', splatsGlb: null, mesh: null, lods: [], collision: null, thumbnail: null };
  const outputs = new Map<string, Uint8Array>();
  outputs.set('splats.ply', encodeGaussianPly(g, input.shDegree));
  outputs.set('splats.spz', encodeSpz(g, input.shDegree));
  if (o.splatsGlb) { outputs.set('splats.glb', await splatsToGlb(g, input.shDegree)); files.splatsGlb = 'splats.glb'; }
  lap('splats');
  let triangles = 0, lodTriangles: number[] = [], parts = 0, meshExtents: AssetRecord['meshExtents'] = null;
  let usdMesh: import('./mesh/types.js').TriMesh | undefined, usdColliders: import('./mesh/types.js').TriMesh[] | undefined;
  if (o.mesh) {
    const cams = camerasInAssetFrame(input.cameras ?? (input.model ? camerasOfModel(input.model) : []), T.R, T.s, T.t);
    const res = await meshFromGaussians(g, backend!, cams, o.meshOptions);
    Object.assign(timings, Object.fromEntries(Object.entries(res.timings).map(([k, v]) => [`mesh.${k}`, v])));
    lap('mesh');
    const [lod0, ...rest] = res.lods;
    triangles = triangleCount(lod0!);
    lodTriangles = res.lods.map(triangleCount);
    const mb = meshBounds(lod0!);
    meshExtents = [0, 1, 2].map((a) => mb.max[a]! - mb.min[a]!) as [number, number, number];
    outputs.set('mesh.glb', await meshToGlb(lod0!, input.name, { r2s: { lods: rest.map((_, i) => `mesh_lod${i + 1}.glb`) } }));
    files.mesh = 'mesh.glb';
    for (const [i, l] of rest.entries()) { outputs.set(`mesh_lod${i + 1}.glb`, await meshToGlb(l, `${input.name} LOD${i + 1}`)); files.lods.push(`mesh_lod${i + 1}.glb`); }
    lap('meshFiles');
    const coarse = res.lods[Math.min(1, res.lods.length - 1)]!;
    const hull = await convexHull(lod0!.positions);
    const pieces = await convexDecomposition(coarse, o.collision);
    parts = pieces.length;
    usdMesh = lod0;
    usdColliders = pieces;
    outputs.set('collision.glb', await collisionToGlb(hull, pieces, input.name));
    files.collision = 'collision.glb';
    lap('collision');
  }
  if (o.usd) {
    // the layer references the base-colour PNG beside it; the .usdz carries both
    const textured = !!(usdMesh?.uvs && usdMesh.texture);
    if (textured) { outputs.set('mesh_basecolor.png', await texturePng(usdMesh!.texture!)); files.texture = 'mesh_basecolor.png'; }
    const usda = new TextEncoder().encode(assetToUsda({
      name: input.name, metric: input.frame.scale === 'metric', mesh: usdMesh, textureFile: textured ? 'mesh_basecolor.png' : undefined,
      colliders: usdColliders, splats: { params: g, shDegree: input.shDegree }, info: { id },
    }));
    outputs.set('asset.usda', usda);
    outputs.set('asset.usdz', usdzPackage([{ name: 'asset.usda', data: usda }, ...(textured ? [{ name: 'mesh_basecolor.png', data: outputs.get('mesh_basecolor.png')! }] : [])]));
    files.usd = 'asset.usda';
    files.usdz = 'asset.usdz';
    lap('usd');
  }
  if (o.thumbnail && backend) { outputs.set('thumbnail.png', await renderThumbnail(g, backend, input.shDegree)); files.thumbnail = 'thumbnail.png'; lap('thumbnail'); }

  const M = T.R.map((v) => v * T.s);
  const record: AssetRecord = {
    kind: 'r2s.asset', version: 1, id, name: input.name,
    source: input.source,
    scale: { kind: input.frame.scale, method: input.frame.scale === 'metric' ? input.frame.method : 'none', factor },
    units: input.frame.scale === 'metric' ? 'm' : 'scene',
    upAxis: '+Y', pivot: [0, 0, 0],
    extentsM: frame.extents, meshExtents,
    sceneToAsset: { R: T.R, s: T.s, t: T.t, matrix: [M[0]!, M[3]!, M[6]!, 0, M[1]!, M[4]!, M[7]!, 0, M[2]!, M[5]!, M[8]!, 0, T.t[0], T.t[1], T.t[2], 1] },
    counts: { gaussians: g.count, triangles, lodTriangles, collisionParts: parts },
    shDegree: input.shDegree, files,
    quality: input.quality ?? {}, provenance: input.provenance ?? {},
    createdAt: new Date().toISOString(), timings,
  };
  outputs.set('asset.json', new TextEncoder().encode(JSON.stringify(record, null, 2) + '\n'));
  try {
    await replaceDirAtomic(dir, async (tmp) => { for (const [f, b] of outputs) await fs.writeFile(path.join(tmp, f), b); });
  } catch (e) {
    throw new UserError(`could not write asset ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: dir, fix: 'check the library folder is writable and has space' });
  }
  const entry: CatalogEntry = {
    id, name: input.name, path: id, splats: files.splats, mesh: files.mesh, collision: files.collision, thumbnail: files.thumbnail,
    extentsM: frame.extents, scale: input.frame.scale, gaussians: g.count, triangles, source: input.source.capture,
  };
  await updateCatalog(input.library, (c) => { c.assets = [...c.assets.filter((a) => a.id !== id), entry]; });
  return { record, entry, dir };
}
