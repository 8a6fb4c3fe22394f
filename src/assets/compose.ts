/**
 * Compose a scene from library assets: each placement (position, yaw about +Y or a quaternion,
 * scale) moves the asset's Gaussians (SH rotated too) and instances its mesh and colliders in one
 * glTF scene at the same transform. Placements come from the CLI, an r2s arrangement file, or the
 * viewer's saved Arrangement (src/viewer-server/protocol.ts: items with assetId, quaternion xyzw,
 * per-axis scale — taken as uniform, their geometric mean, since an anisotropic scale of a
 * rotated Gaussian is no longer a Gaussian of the same parametrisation).
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

/** Parse `ID@x,y,z[,yaw[,scale]]` (the CLI's --place). */
export function parsePlacement(spec: string): Placement {
  const m = /^([^@]+)@(.+)$/.exec(spec);
  const nums = m ? m[2]!.split(',').map(Number) : [];
  if (!m || nums.length < 3 || nums.length > 5 || nums.some((v) => !Number.isFinite(v))) {
    throw new UserError(`bad placement "${spec}"`, { fix: 'write ID@x,y,z[,yaw[,scale]]' });
  }
  return placement(m[1]!, [nums[0]!, nums[1]!, nums[2]!], nums[3] ?? 0, nums[4] ?? 1);
}

/** Placements from an r2s arrangement or the viewer's Arrangement JSON. */
export function parseArrangement(json: unknown, file = 'arrangement'): Placement[] {
  const j = json as Record<string, unknown>;
  if (j && j.kind === 'r2s.arrangement' && Array.isArray(j.placements)) {
    return (j.placements as { asset: string; position: [number, number, number]; yaw?: number; scale?: number }[]).map((p) => placement(p.asset, p.position, p.yaw ?? 0, p.scale ?? 1));
  }
  if (j && Array.isArray(j.items)) {
    return (j.items as { assetId: string; position: [number, number, number]; quaternion: number[]; scale: number[] }[]).map((it) => {
      const [x, y, z, w] = it.quaternion;
      const s = it.scale;
      return { asset: it.assetId, position: it.position, rotation: [w!, x!, y!, z!], scale: Math.cbrt(Math.abs(s[0]! * s[1]! * s[2]!)) };
    });
  }
  throw new UserError(`${file}: not an arrangement`, { file, fix: 'expected {"kind":"r2s.arrangement","placements":[...]} or a viewer arrangement {"version":1,"items":[...]}' });
}

export interface ComposeInput {
  library: string;
  placements: Placement[];
  /** background splats (e.g. the captured scene), already in the composed frame */
  base?: { params: GaussianParams; shDegree: number };
  /** output prefix: writes <out>.ply, <out>.spz and <out>.glb */
  out: string;
}

export interface ComposeResult {
  files: { ply: string; spz: string; glb: string };
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
  for (const [k, p] of input.placements.entries()) {
    const rec = await showAsset(input.library, p.asset);
    const dir = path.join(input.library, rec.id);
    if (!cache.has(rec.id)) cache.set(rec.id, await readGaussianPly(path.join(dir, rec.files.splats)));
    const splats = cache.get(rec.id)!;
    shDegree = Math.min(shDegree, splats.shDegree);
    parts.push(transformGaussians(splats.params, { R: quatToMat(normalize(p.rotation)), s: p.scale, t: p.position }, undefined));
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
  const files = { ply: `${input.out}.ply`, spz: `${input.out}.spz`, glb: `${input.out}.glb` };
  await fs.mkdir(path.dirname(path.resolve(input.out)), { recursive: true });
  await writeFileAtomic(files.ply, encodeGaussianPly(merged, shDegree));
  await writeFileAtomic(files.spz, encodeSpz(merged, shDegree));
  await writeFileAtomic(files.glb, await io.writeBinary(scene));
  return { files, gaussians: merged.count, placements: input.placements.length };
}

function normalize(q: [number, number, number, number]): [number, number, number, number] {
  const l = Math.hypot(...q) || 1;
  return [q[0] / l, q[1] / l, q[2] / l, q[3] / l];
}

const xyzw = (q: [number, number, number, number]): [number, number, number, number] => [q[1], q[2], q[3], q[0]];
