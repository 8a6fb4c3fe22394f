/**
 * `<workspace>/user-frame.json`: scale, up and origin a person set in the viewer (measure a known
 * length, pick the ground). Everything is in the scene frame (the COLMAP world frame the splats are
 * stored in); `scale.factor` multiplies scene units to get metres. The viewer downloads the file
 * (its server is read-only) and later stages read it with `readUserFrame`, so a measured scale
 * reaches extracted assets.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';

export const USER_FRAME_FILE = 'user-frame.json';

const finite = z.number().finite();
const vec3 = z.tuple([finite, finite, finite]);

export const userFrameSchema = z.object({
  kind: z.literal('r2s.user-frame'),
  version: z.literal(1),
  scale: z
    .object({
      factor: finite.positive(),
      from: z.literal('measured'),
      /** the true length the person typed, metres */
      distance: finite.positive(),
      /** the two measured points, scene frame */
      points: z.tuple([vec3, vec3]),
    })
    .optional(),
  /** unit "up" in the scene frame */
  up: vec3.refine((v) => Math.abs(Math.hypot(...v) - 1) < 1e-3, 'up must be a unit vector').optional(),
  /** origin in the scene frame */
  origin: vec3.optional(),
});

export type UserFrame = z.infer<typeof userFrameSchema>;
export type Vec3 = [number, number, number];

/** Path of the user frame file in a workspace. */
export function userFramePath(workspace: string): string {
  return path.join(workspace, USER_FRAME_FILE);
}

/**
 * Parse a user frame from JSON text. Throws a one-line UserError naming `file` when invalid.
 */
export function parseUserFrame(text: string, file: string): UserFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON (${(e as Error).message})`, { file, fix: 'save it again from r2s view (Measure → Save scale)' });
  }
  const r = userFrameSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'file';
    throw new UserError(`${file} is not an r2s user frame: ${where}: ${issue.message}`, {
      file,
      fix: 'save it again from r2s view (Measure → Save scale), or delete it to keep the reconstruction frame',
    });
  }
  return r.data;
}

/**
 * Read `file` (a user-frame.json, or a workspace folder holding one). Null when it does not exist.
 */
export function readUserFrame(file: string): UserFrame | null {
  const p = existsSync(file) && !file.endsWith('.json') ? userFramePath(file) : file;
  if (!existsSync(p)) return null;
  return parseUserFrame(readFileSync(p, 'utf8'), p);
}

/** Metres per scene unit (1 when no scale was set). */
export function userScale(f: UserFrame | null): number {
  return f?.scale?.factor ?? 1;
}

/**
 * Rotation (row-major 3×3) that turns `up` into +z, the smallest rotation that does (identity for
 * no up). User-frame axes: x, y horizontal, z up.
 */
export function upRotation(up: Vec3 | undefined): number[] {
  if (!up) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const [x, y, z] = up;
  // Rodrigues for the rotation taking u to e_z: axis u × e_z = (y, −x, 0), cos = z
  const c = z;
  if (c < -1 + 1e-9) return [1, 0, 0, 0, -1, 0, 0, 0, -1];
  const k = 1 / (1 + c);
  const ax = y, ay = -x;
  return [c + ax * ax * k, ax * ay * k, ay, ax * ay * k, c + ay * ay * k, -ax, -ay, ax, c];
}

/**
 * Scene point → user frame: subtract the origin, rotate up to +z, multiply by the scale factor.
 */
export function applyUserFrame(f: UserFrame | null, p: Vec3): Vec3 {
  if (!f) return [p[0], p[1], p[2]];
  const o = f.origin ?? [0, 0, 0];
  const d = [p[0] - o[0], p[1] - o[1], p[2] - o[2]];
  const R = upRotation(f.up);
  const s = userScale(f);
  return [
    s * (R[0]! * d[0]! + R[1]! * d[1]! + R[2]! * d[2]!),
    s * (R[3]! * d[0]! + R[4]! * d[1]! + R[5]! * d[2]!),
    s * (R[6]! * d[0]! + R[7]! * d[1]! + R[8]! * d[2]!),
  ];
}
