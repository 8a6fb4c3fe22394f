/**
 * Compose a scene from library assets: each placement (position, yaw about +Y or a quaternion,
 * scale) moves the asset's Gaussians (SH rotated too) and instances its mesh and colliders in one
 * glTF scene at the same transform. Placements come from the CLI, an r2s arrangement file, or the
 * viewer's saved Arrangement (src/viewer-server/protocol.ts: items with assetId, quaternion xyzw,
 * per-axis scale — taken as uniform, their geometric mean, since an anisotropic scale of a
 * rotated Gaussian is no longer a Gaussian of the same parametrisation).
 * With the Gaussians and the glTF it writes an OpenUSD scene (<out>.usda): each placement an Xform
 * at its transform referencing the asset's own asset.usda (mesh, colliders, splats) by a relative
 * path, so the scene opens wherever the library sits next to it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Document, NodeIO, type Node, type Scene } from '@gltf-transform/core';
import { mergeDocuments, unpartition } from '@gltf-transform/functions';
import type { GaussianParams } from '../core/gaussians.js';
import { quatToMat } from '../geometry/rotation.js';
import { readGaussianPly, encodeGaussianPly } from '../io/ply.js';
import { encodeSpz } from '../io/spz.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fsx.js';
import { concatGaussians, transformGaussians } from './export/transform-gaussians.js';
import { sceneToUsda, type UsdPlacement } from './export/usd.js';
import { showAsset } from './library/ops.js';

export interface Placement {
  asset: string;
  position: [number, number, number];
  /** rotation as a quaternion (w, x, y, z) in the Y-up frame; from `yaw` when given that way */
  rotation: [number, number, number, number];
  scale: number;
}

/** Placement from position, yaw (degrees about +Y) and uniform scale. */
export function placement(asset: string, position: [number, number, number], yawDeg = 0, scale = 1): Placement {
  const h = (yawDeg * Math.PI) / 360;
  return { asset, position, rotation: [Math.cos(h), 0, Math.sin(h), 0], scale };
}

/**
 * A placement's scale multiplies the asset's size: from a thousandth to a thousand times. Outside
 * that (0, negative, 1e30) the Gaussians' log-scales become −∞, NaN or overflow float32.
 */
const SCALE_RANGE = [1e-3, 1e3] as const;
/** |coordinate| of a position, in scene units: beyond, SPZ's fixed-point positions overflow. */
const POSITION_LIMIT = 1e6;

const shown = (v: unknown): string => {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
};

const scaleOk = (s: number) => Number.isFinite(s) && s >= SCALE_RANGE[0] && s <= SCALE_RANGE[1];

/** Parse `ID@x,y,z[,yaw[,scale]]` (the CLI's --place). */
export function parsePlacement(spec: string): Placement {
  const m = /^([^@]+)@(.+)$/.exec(spec);
  const fields = m ? m[2]!.split(',') : [];
  const nums = fields.map((f) => (f.trim() === '' ? NaN : Number(f)));
  if (!m || nums.length < 3 || nums.length > 5 || nums.some((v) => !Number.isFinite(v))) {
    throw new UserError(`bad placement "${spec}"`, { fix: 'write ID@x,y,z[,yaw[,scale]] with finite numbers, e.g. chair@1.5,0,-2,90,1' });
  }
  const bad = (what: string) => new UserError(`--place ${spec}: ${what}`, { fix: 'write ID@x,y,z[,yaw[,scale]], e.g. chair@1.5,0,-2,90,1' });
  if (nums.slice(0, 3).some((v) => Math.abs(v) > POSITION_LIMIT)) throw bad(`a coordinate beyond ±${POSITION_LIMIT} scene units`);
  if (nums[4] !== undefined && !scaleOk(nums[4])) throw bad(`scale must be between ${SCALE_RANGE[0]} and ${SCALE_RANGE[1]}, got ${nums[4]}`);
  return placement(m[1]!, [nums[0]!, nums[1]!, nums[2]!], nums[3] ?? 0, nums[4] ?? 1);
}

/**
 * Placements from an r2s arrangement or the viewer's Arrangement JSON, every field checked: a bad
 * one is a UserError naming the file, the entry and the field.
 */
export function parseArrangement(json: unknown, file = 'arrangement'): Placement[] {
  const j = json as Record<string, unknown>;
  const r2s = !!j && typeof j === 'object' && j.kind === 'r2s.arrangement' && Array.isArray(j.placements);
  const viewer = !r2s && !!j && typeof j === 'object' && Array.isArray(j.items);
  if (!r2s && !viewer) {
    throw new UserError(`${file}: not an arrangement`, { file, fix: 'expected {"kind":"r2s.arrangement","placements":[...]} or a viewer arrangement {"version":1,"items":[...]}' });
  }
  const list = (r2s ? j.placements : j.items) as unknown[];
  const key = r2s ? 'placements' : 'items';
  const example = r2s ? '{"asset": "chair", "position": [1.5, 0, -2], "yaw": 90, "scale": 1}' : '{"assetId": "chair", "position": [1.5, 0, -2], "quaternion": [0, 0, 0, 1], "scale": [1, 1, 1]}';
  if (list.length === 0) throw new UserError(`${file}: "${key}" is empty`, { file, fix: `add at least one entry like ${example}` });
  return list.map((item, i) => {
    const bad = (field: string, what: string, got: unknown) =>
      new UserError(`${file}: ${key}[${i}]${field ? `.${field}` : ''} ${what}, got ${shown(got)}`, { file, fix: `write each entry like ${example}` });
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw bad('', 'must be an object', item);
    const e = item as Record<string, unknown>;
    const numbers = (field: string, n: number): number[] => {
      const v = e[field];
      if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad(field, `must be ${n} finite numbers`, v);
      return v as number[];
    };
    const idField = r2s ? 'asset' : 'assetId';
    const asset = e[idField];
    if (typeof asset !== 'string' || !asset) throw bad(idField, 'must be an asset id (a string)', asset);
    const position = numbers('position', 3) as [number, number, number];
    if (position.some((v) => Math.abs(v) > POSITION_LIMIT)) throw bad('position', `must lie within ±${POSITION_LIMIT} scene units`, position);
    if (r2s) {
      const yaw = e.yaw ?? 0, scale = e.scale ?? 1;
      if (typeof yaw !== 'number' || !Number.isFinite(yaw)) throw bad('yaw', 'must be a finite number of degrees', yaw);
      if (typeof scale !== 'number' || !scaleOk(scale)) throw bad('scale', `must be a number between ${SCALE_RANGE[0]} and ${SCALE_RANGE[1]}`, scale);
      return placement(asset, position, yaw, scale);
    }
    const [x, y, z, w] = numbers('quaternion', 4) as [number, number, number, number];
    if (Math.hypot(x, y, z, w) < 1e-9) throw bad('quaternion', 'must not be zero', e.quaternion);
    const s = numbers('scale', 3);
    if (s.some((v) => v <= 0)) throw bad('scale', 'must be 3 positive numbers', s);
    const uniform = Math.cbrt(s[0]! * s[1]! * s[2]!);
    if (!scaleOk(uniform)) throw bad('scale', `must average (geometric mean) between ${SCALE_RANGE[0]} and ${SCALE_RANGE[1]}`, s);
    return { asset, position, rotation: [w, x, y, z], scale: uniform };
  });
}

export interface ComposeInput {
  library: string;
  placements: Placement[];
  /** background splats (e.g. the captured scene), already in the composed frame */
  base?: { params: GaussianParams; shDegree: number };
  /** output prefix: writes <out>.ply, <out>.spz, <out>.glb and <out>.usda */
  out: string;
  /** the composed frame for the USD stage metadata; default the assets' own (+Y up, metres) */
  usd?: { metersPerUnit: number; up: [number, number, number] };
}

export interface ComposeResult {
  files: { ply: string; spz: string; glb: string; usd: string };
  gaussians: number;
  placements: number;
}

export async function composeScene(input: ComposeInput): Promise<ComposeResult> {
  const parts: GaussianParams[] = input.base ? [input.base.params] : [];
  let shDegree = input.base?.shDegree ?? 3;
  const scene = new Document();
  const io = new NodeIO();
  const root = scene.createScene('composed');
  const cache = new Map<string, Awaited<ReturnType<typeof readGaussianPly>>>();
  const usdDir = path.dirname(path.resolve(input.out));
  const usdPlacements: UsdPlacement[] = [];
  for (const [k, p] of input.placements.entries()) {
    const rec = await showAsset(input.library, p.asset);
    const dir = path.join(input.library, rec.id);
    if (!cache.has(rec.id)) cache.set(rec.id, await readGaussianPly(path.join(dir, rec.files.splats)));
    const splats = cache.get(rec.id)!;
    shDegree = Math.min(shDegree, splats.shDegree);
    const R = quatToMat(normalize(p.rotation));
    parts.push(transformGaussians(splats.params, { R, s: p.scale, t: p.position }, undefined));
    if (rec.files.usd) {
      const layer = path.relative(usdDir, path.join(path.resolve(dir), rec.files.usd)).split(path.sep).join('/');
      usdPlacements.push({ name: `${rec.name}_${k}`, layer: layer.startsWith('.') ? layer : `./${layer}`, R, s: p.scale, t: p.position });
    }
    const holder = scene.createNode(`${rec.id}#${k}`)
      .setTranslation(p.position).setRotation(xyzw(normalize(p.rotation))).setScale([p.scale, p.scale, p.scale])
      .setExtras({ r2s: { asset: rec.id } });
    root.addChild(holder);
    for (const f of [rec.files.mesh, rec.files.collision]) {
      if (!f) continue;
      const sub = await io.read(path.join(dir, f));
      const map = mergeDocuments(scene, sub);
      for (const s of sub.getRoot().listScenes()) for (const child of (map.get(s) as Scene).listChildren()) holder.addChild(child as Node);
      for (const s of sub.getRoot().listScenes()) map.get(s)!.dispose();
    }
  }
  // mergeDocuments keeps one buffer per source; a .glb holds exactly one
  await scene.transform(unpartition());
  const merged = concatGaussians(parts);
  const files = { ply: `${input.out}.ply`, spz: `${input.out}.spz`, glb: `${input.out}.glb`, usd: `${input.out}.usda` };
  await fs.mkdir(path.dirname(path.resolve(input.out)), { recursive: true });
  await writeFileAtomic(files.ply, encodeGaussianPly(merged, shDegree));
  await writeFileAtomic(files.spz, encodeSpz(merged, shDegree));
  await writeFileAtomic(files.glb, await io.writeBinary(scene));
  const up = input.usd?.up ?? [0, 1, 0];
  // USD knows +Y and +Z up only: the nearer one; the exact vector goes in the layer's doc
  const upAxis = Math.abs(up[2]) > Math.abs(up[1]) ? 'Z' : 'Y';
  await writeFileAtomic(files.usd, sceneToUsda(usdPlacements, {
    metersPerUnit: input.usd?.metersPerUnit ?? 1, upAxis,
    doc: `r2s compose: ${usdPlacements.length} placement(s); scene up (${up.map((v) => +v.toFixed(6)).join(', ')})`,
  }));
  return { files, gaussians: merged.count, placements: input.placements.length };
}

function normalize(q: [number, number, number, number]): [number, number, number, number] {
  const l = Math.hypot(...q) || 1;
  return [q[0] / l, q[1] / l, q[2] / l, q[3] / l];
}

const xyzw = (q: [number, number, number, number]): [number, number, number, number] => [q[1], q[2], q[3], q[0]];
