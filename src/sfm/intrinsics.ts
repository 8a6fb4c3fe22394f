/**
 * `--intrinsics FILE`: known intrinsics shared by every image. Accepted forms (whitespace or comma
 * separated, `#` comments): "fx fy cx cy [k1 k2]", a 3×3 K (9 numbers, like K.txt), or a 3×4
 * projection matrix P = K[R|t] with an optional "P0:" label (KITTI calib.txt: the first line).
 */
import { readFileSync, existsSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import type { Camera, Pinhole } from '../core/camera.js';

export interface KnownIntrinsics extends Omit<Pinhole, 'width' | 'height'> {
  k1?: number;
  k2?: number;
}

export function parseIntrinsics(file: string): KnownIntrinsics {
  if (!existsSync(file)) throw new UserError(`intrinsics file not found: ${file}`, { file, fix: 'pass an existing file to --intrinsics' });
  let lines = readFileSync(file, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  // KITTI calib.txt: take the first labelled line only
  if (lines.length > 0 && /^[A-Za-z_]\w*:/.test(lines[0]!)) lines = [lines[0]!.replace(/^[A-Za-z_]\w*:/, '')];
  const split = (t: string) => t.split(/[\s,]+/).filter(Boolean).map(Number);
  let nums = split(lines.join(' '));
  // several projection matrices, one a line (KITTI calib.txt without labels): the first camera's
  if (![4, 6, 9, 12].includes(nums.length) && lines.length > 0 && split(lines[0]!).length === 12) nums = split(lines[0]!);
  const bad = () => new UserError(`cannot read intrinsics from ${file}: expected "fx fy cx cy [k1 k2]", a 3×3 K or a 3×4 P`, { file, fix: 'write e.g. "2759.48 2764.16 1520.69 1006.81"' });
  if (nums.some((v) => !Number.isFinite(v))) throw bad();
  let k: KnownIntrinsics;
  if (nums.length === 4 || nums.length === 6) {
    k = { fx: nums[0]!, fy: nums[1]!, cx: nums[2]!, cy: nums[3]! };
    if (nums.length === 6) { k.k1 = nums[4]!; k.k2 = nums[5]!; }
  } else if (nums.length === 9) {
    // K = [fx s cx; 0 fy cy; 0 0 1] (up to scale): a zero or other third row is not a camera matrix
    const w = nums[8]!;
    if (nums[3] !== 0 || nums[6] !== 0 || nums[7] !== 0 || w === 0) {
      throw new UserError(`${file}: not a camera matrix K: its rows must be [fx s cx], [0 fy cy], [0 0 1], got [${nums.slice(3, 6).join(' ')}], [${nums.slice(6).join(' ')}] as the last two`, { file, fix: 'write K as "fx 0 cx / 0 fy cy / 0 0 1"' });
    }
    k = { fx: nums[0]! / w, fy: nums[4]! / w, cx: nums[2]! / w, cy: nums[5]! / w };
  } else if (nums.length === 12) {
    if (nums[4] !== 0 || !(Math.hypot(nums[8]!, nums[9]!, nums[10]!) > 0)) {
      throw new UserError(`${file}: not a projection matrix P = K[R|t]: its second row must start with 0 and its third row be non-zero`, { file, fix: 'pass the 3×4 P of the camera (KITTI calib.txt P0) or its K' });
    }
    k = { fx: nums[0]!, fy: nums[5]!, cx: nums[2]!, cy: nums[6]! };
  } else throw bad();
  if (!(k.fx > 0 && k.fy > 0)) throw bad();
  return k;
}

/** A COLMAP camera for known intrinsics: PINHOLE, or OPENCV when distortion is given. */
export function cameraFromIntrinsics(id: number, width: number, height: number, k: KnownIntrinsics): Camera {
  if (k.k1 !== undefined || k.k2 !== undefined) {
    return { id, model: 'OPENCV', width, height, params: [k.fx, k.fy, k.cx, k.cy, k.k1 ?? 0, k.k2 ?? 0, 0, 0] };
  }
  return { id, model: 'PINHOLE', width, height, params: [k.fx, k.fy, k.cx, k.cy] };
}
