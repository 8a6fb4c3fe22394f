/**
 * `--box`: an oriented box in the scene frame, given either as a selection file saved by the viewer
 * ({"kind":"r2s.box-selection","version":1,"center","size","rotation","up","splats","source"};
 * rotation (w,x,y,z) maps box-local axes to scene axes; size = full edge lengths) or on the
 * command line as `cx,cy,cz,sx,sy,sz[,yawDeg]` (local z = the scene's up from sparse/frame.json,
 * yaw about it from upBasis(up).e1). Selection keeps the Gaussians whose centre is inside.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { GaussianParams } from '../../core/gaussians.js';
import { quatToMat, type Quat, type Vec3 } from '../../geometry/rotation.js';
import { sigmoid } from '../../scene/gaussians.js';
import { UserError } from '../../util/errors.js';
import { normalize, yawRotation } from './frame.js';
import { insideBox, type OrientedBox } from './obb.js';

const finite = z.number().finite();
const vec3 = z.tuple([finite, finite, finite]);

export const boxSelectionSchema = z.object({
  kind: z.literal('r2s.box-selection'),
  version: z.literal(1),
  center: vec3,
  size: vec3.refine((s) => s.every((v) => v > 0), 'every size must be > 0'),
  rotation: z.tuple([finite, finite, finite, finite]).refine((q) => Math.hypot(...q) > 1e-9, 'rotation must be a non-zero quaternion'),
  up: vec3.refine((u) => Math.hypot(...u) > 1e-9, 'up must be a non-zero vector').optional(),
  /** how many splats the viewer saw inside (informative) */
  splats: z.number().int().nonnegative().optional(),
  /** what the selection was made on (a workspace or file) */
  source: z.string().optional(),
});

export interface BoxSelection {
  box: OrientedBox;
  up?: Vec3;
  /** where the box came from: the file path or the CLI spec, for messages */
  origin: string;
  splats?: number;
  source?: string;
}

/** Read and validate a viewer selection file; one-line UserError naming the file when invalid. */
export function readBoxSelection(file: string): BoxSelection {
  if (!existsSync(file)) throw new UserError(`${file}: no such box selection file`, { file, fix: 'save a selection from the viewer, or pass --box cx,cy,cz,sx,sy,sz[,yawDeg]' });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`, { file, fix: 'save the selection again from the viewer' });
  }
  const r = boxSelectionSchema.safeParse(raw);
  if (!r.success) {
    const iss = r.error.issues[0]!;
    const where = iss.path.length ? iss.path.join('.') : 'file';
    throw new UserError(`${file}: not an r2s box selection (${where}: ${iss.message})`, { file, fix: 'save the selection again from the viewer (kind "r2s.box-selection", version 1)' });
  }
  const d = r.data;
  const q = d.rotation, n = Math.hypot(...q);
  return {
    box: { center: d.center, size: d.size, rotation: [q[0] / n, q[1] / n, q[2] / n, q[3] / n] as Quat },
    up: d.up ? normalize(d.up) : undefined,
    origin: file,
    splats: d.splats,
    source: d.source,
  };
}

/** Parse `cx,cy,cz,sx,sy,sz[,yawDeg]` (scene units, yaw in degrees about `up`). */
export function parseBoxSpec(spec: string, up: ArrayLike<number> = [0, 0, 1]): BoxSelection {
  const parts = spec.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  const fix = 'write --box cx,cy,cz,sx,sy,sz[,yawDeg] (centre, full sizes along the box axes with z = up, yaw in degrees), or a selection file saved by the viewer';
  if ((parts.length !== 6 && parts.length !== 7) || nums.some((v, k) => !Number.isFinite(v) || parts[k] === '')) {
    throw new UserError(`--box ${spec}: expected 6 or 7 comma-separated numbers`, { fix });
  }
  if (nums.slice(3, 6).some((v) => v <= 0)) throw new UserError(`--box ${spec}: box sizes must be > 0`, { fix });
  return {
    box: { center: nums.slice(0, 3) as Vec3, size: nums.slice(3, 6) as Vec3, rotation: yawRotation(up, nums[6] ?? 0) },
    up: normalize(up),
    origin: `--box ${spec}`,
  };
}

/** A file path (existing, or ending in .json) or a numeric spec. */
export function resolveBoxArg(arg: string, up: ArrayLike<number> = [0, 0, 1]): BoxSelection {
  return existsSync(arg) || arg.endsWith('.json') ? readBoxSelection(arg) : parseBoxSpec(arg, up);
}

export interface BoxSelectOptions {
  /** ignore Gaussians fainter than this. Default 0 (keep all) */
  minOpacity: number;
  /** where the box came from, named in the empty-box error. Default "--box" */
  origin: string;
}

/** Gaussians whose centre lies inside the box (ascending). Throws a UserError when none do. */
export function selectByBox(params: GaussianParams, box: OrientedBox, partial: Partial<BoxSelectOptions> = {}): Int32Array {
  const o: BoxSelectOptions = { minOpacity: 0, origin: '--box', ...partial };
  const R = quatToMat(box.rotation);
  const out: number[] = [];
  for (let i = 0; i < params.count; i++) {
    if (o.minOpacity > 0 && sigmoid(params.opacityLogits[i]!) < o.minOpacity) continue;
    if (insideBox(box, R, params.means.subarray(3 * i, 3 * i + 3))) out.push(i);
  }
  if (out.length === 0) {
    const c = box.center.map((v) => +v.toFixed(3)).join(','), s = box.size.map((v) => +v.toFixed(3)).join(',');
    throw new UserError(`${o.origin}: the box (centre ${c}, size ${s}) contains none of the scene's ${params.count} splats`, {
      file: o.origin.startsWith('--') ? undefined : o.origin,
      fix: 'draw the box around the object in the viewer (r2s view) and save it again, or check the box is in the scene frame',
    });
  }
  return Int32Array.from(out);
}
