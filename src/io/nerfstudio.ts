/**
 * nerfstudio / instant-ngp `transforms.json` ↔ COLMAP sparse model.
 *
 * transforms.json stores camera-to-world matrices with OpenGL camera axes (x right, y up, z back);
 * COLMAP stores world-to-camera poses with OpenCV axes (x right, y down, z forward). The axis
 * change lives in `flipCameraAxes` alone; everything else is a rigid inverse.
 *
 * World frame: the file's own. instant-ngp's extra keys (`aabb_scale`, `scale`, `offset`) only
 * shape instant-ngp's internal NeRF box and are not applied to the poses in the file (checked on
 * ingp_fox, whose COLMAP reference equals the plain axis flip). nerfstudio's `applied_transform`
 * (what ns-process-data applied to the COLMAP world) is undone, so a nerfstudio export comes back
 * in its original COLMAP frame.
 *
 * Intrinsics: global keys, overridden per frame (fl_x, fl_y, cx, cy, w, h, k1..k4, p1, p2,
 * camera_angle_x/y, camera_model). Frames with equal intrinsics share one camera.
 *
 * Checked as read: a JSON syntax error is reported at its line:col; every number finite, focal
 * lengths and image sizes positive (colmap-text.ts cameraProblem); file_path, mask_path and
 * ply_file_path relative names inside the json's folder (util/confine.ts), refused at their line.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { type Camera, type CameraModelName } from '../core/camera.js';
import { type Image, type SparseModel, emptyModel } from '../core/sparse-model.js';
import { type Mat3, type Vec3, matToQuat, quatToMat, matMul3, matVec3, transpose3 } from '../geometry/rotation.js';
import { writeJsonAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { cameraProblem, poseProblem, sortedValues } from './colmap-text.js';
import { confinedPath } from '../util/confine.js';
import { writePointCloudPly } from './ply.js';

/** Intrinsic keys a transforms.json may hold globally or per frame. */
export interface TransformsIntrinsics {
  camera_model?: string;
  fl_x?: number;
  fl_y?: number;
  cx?: number;
  cy?: number;
  w?: number;
  h?: number;
  k1?: number;
  k2?: number;
  k3?: number;
  k4?: number;
  p1?: number;
  p2?: number;
  camera_angle_x?: number;
  camera_angle_y?: number;
}

export interface TransformsFrame extends TransformsIntrinsics {
  file_path: string;
  transform_matrix: number[][];
  colmap_im_id?: number;
  mask_path?: string;
  [key: string]: unknown;
}

export interface TransformsJson extends TransformsIntrinsics {
  frames: TransformsFrame[];
  applied_transform?: number[][];
  ply_file_path?: string;
  [key: string]: unknown;
}

/**
 * OpenGL camera axes ↔ OpenCV camera axes for a camera-to-world rotation: negate its y and z
 * columns. The only place the conventions meet; the map is its own inverse.
 */
export function flipCameraAxes(c2wRot: Mat3): Mat3 {
  const m = c2wRot.slice();
  for (let r = 0; r < 3; r++) {
    m[r * 3 + 1] = -m[r * 3 + 1]!;
    m[r * 3 + 2] = -m[r * 3 + 2]!;
  }
  return m;
}

/**
 * Nearest rotation to a nearly orthonormal matrix (polar decomposition by Newton's iteration
 * X ← (X + X⁻ᵀ)/2). Files written with float32 or rounded digits are off by up to ~1e-6, which
 * would otherwise bend the quaternion by ~1e-5°, depending on which entries a converter reads.
 */
export function nearestRotation(m: Mat3): Mat3 {
  let X = m.slice();
  for (let it = 0; it < 30; it++) {
    const [a, b, c, d, e, f, g, h, i] = X as [number, number, number, number, number, number, number, number, number];
    const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    if (!(Math.abs(det) > 1e-12)) break;
    // inverse transpose = cofactor matrix / det
    const cof = [e * i - f * h, f * g - d * i, d * h - e * g, c * h - b * i, a * i - c * g, b * g - a * h, b * f - c * e, c * d - a * f, a * e - b * d];
    const next = X.map((v, k) => 0.5 * (v + cof[k]! / det));
    const change = Math.max(...next.map((v, k) => Math.abs(v - X[k]!)));
    X = next;
    if (change < 1e-16) break;
  }
  return X;
}

/** transform_matrix (OpenGL camera-to-world, 3×4 or 4×4) → COLMAP world-to-camera R, t. */
export function glCameraToWorldToPose(m: number[][]): { R: Mat3; t: Vec3 } {
  const c2wGl: Mat3 = nearestRotation([m[0]![0]!, m[0]![1]!, m[0]![2]!, m[1]![0]!, m[1]![1]!, m[1]![2]!, m[2]![0]!, m[2]![1]!, m[2]![2]!]);
  const centre: Vec3 = [m[0]![3]!, m[1]![3]!, m[2]![3]!];
  const R = transpose3(flipCameraAxes(c2wGl));
  const Rc = matVec3(R, centre);
  return { R, t: [-Rc[0], -Rc[1], -Rc[2]] };
}

/** COLMAP world-to-camera R, t → transform_matrix (OpenGL camera-to-world, 4×4). */
export function poseToGlCameraToWorld(R: Mat3, t: readonly number[]): number[][] {
  const Rt = transpose3(R);
  const c = matVec3(Rt, t);
  const m = flipCameraAxes(Rt);
  return [
    [m[0]!, m[1]!, m[2]!, -c[0]],
    [m[3]!, m[4]!, m[5]!, -c[1]],
    [m[6]!, m[7]!, m[8]!, -c[2]],
    [0, 0, 0, 1],
  ];
}

export interface ReadTransformsOptions {
  /** Size of the image a frame names, when w/h are absent from the file. */
  imageSize?: (filePath: string) => Promise<{ width: number; height: number } | null>;
  /** the file's text, so errors can name the line */
  text?: string;
}

export interface TransformsModel {
  model: SparseModel;
  /** image id → `file_path` exactly as written in the file */
  filePaths: Map<number, string>;
  /** image id → `mask_path` as written (nerfstudio masks: white = use, black = ignore) */
  maskPaths: Map<number, string>;
  /** absolute path of the sparse point cloud named by `ply_file_path`, if any */
  plyPath?: string;
  /** world = s·R·world_file + t that undoes `applied_transform` (identity when absent) */
  worldFromFile: { s: number; R: Mat3; t: Vec3 };
}

export async function readTransforms(jsonPath: string, opts: ReadTransformsOptions = {}): Promise<TransformsModel> {
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    throw new UserError(`${jsonPath}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: jsonPath, fix: 'check the path and its permissions' });
  }
  return transformsToModel(parseTransformsText(text, jsonPath), jsonPath, { ...opts, text });
}

/** 1-based line and column of character `pos` of `text`. */
function lineCol(text: string, pos: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, Math.min(pos, text.length)));
  const line = before.split('\n').length;
  return { line, col: pos - before.lastIndexOf('\n') };
}

/** JSON text → object; a syntax error becomes one line with file:line:col. */
export function parseTransformsText(text: string, jsonPath: string): TransformsJson {
  try {
    return JSON.parse(text) as TransformsJson;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? '';
    const m = /at position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : /end of JSON input/.test(msg) ? text.length : null;
    const at = pos === null ? '' : (({ line, col }) => `:${line}:${col}`)(lineCol(text, pos));
    throw new UserError(`${jsonPath}${at}: not valid JSON (${msg.replace(/ in JSON at position \d+/, '')})`, { file: jsonPath, fix: 'correct the JSON at that place (a missing comma, quote or bracket?) or re-export the file' });
  }
}

/** Lines of the occurrences of `"key"` in the JSON text, in order (for errors about frames). */
function keyLines(text: string | undefined, key: string): number[] {
  if (!text) return [];
  const out: number[] = [];
  const re = new RegExp(`"${key}"\\s*:`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(lineCol(text, m.index).line);
  return out;
}

/** The image name a frame gets in the model: its file name, or its flattened path when names clash. */
export function frameNames(frames: TransformsFrame[]): string[] {
  const rel = frames.map((f) => path.posix.normalize(String(f.file_path).replace(/\\/g, '/')).replace(/^(\.\/)+/, ''));
  const base = rel.map((r) => path.posix.basename(r));
  if (new Set(base).size === base.length) return base;
  return rel.map((r) => r.replace(/^(\.\.\/)+/, '').replace(/\//g, '_'));
}

export async function transformsToModel(json: TransformsJson, jsonPath: string, opts: ReadTransformsOptions = {}): Promise<TransformsModel> {
  const bad = (what: string): UserError => new UserError(`${jsonPath}: ${what}`, { file: jsonPath, fix: 'see https://docs.nerf.studio/quickstart/data_conventions.html for the expected layout' });
  if (!json || typeof json !== 'object' || !Array.isArray(json.frames)) throw bad('no "frames" array');
  if (json.frames.length === 0) throw bad('"frames" is empty');
  const worldFromFile = undoAppliedTransform(json.applied_transform, bad);

  const model = emptyModel();
  const filePaths = new Map<number, string>();
  const maskPaths = new Map<number, string>();
  const camKeys = new Map<string, number>();
  const usedIds = new Set<number>();
  // a name read from the file is a path inside the json's folder: checked before any becomes one
  const fileLines = keyLines(opts.text, 'file_path');
  const maskLines = keyLines(opts.text, 'mask_path');
  const lineOf = (lines: number[], i: number) => (lines.length === json.frames.length ? lines[i] : undefined);
  let maskIdx = 0;
  for (let i = 0; i < json.frames.length; i++) {
    const fr = json.frames[i];
    if (!fr || typeof fr !== 'object') throw bad(`frame ${i} is not an object`);
    if (typeof fr.file_path !== 'string' || !fr.file_path) throw bad(`frame ${i} has no "file_path"`);
    confinedPath('', fr.file_path, { file: jsonPath, line: lineOf(fileLines, i), where: `frame ${i} file_path` });
    if (fr.mask_path !== undefined) {
      const line = maskLines.length === json.frames.filter((f) => f && typeof f === 'object' && 'mask_path' in f).length ? maskLines[maskIdx] : undefined;
      maskIdx++;
      confinedPath('', fr.mask_path, { file: jsonPath, line, where: `frame ${i} mask_path` });
    }
  }
  if (json.ply_file_path !== undefined) confinedPath('', json.ply_file_path, { file: jsonPath, line: keyLines(opts.text, 'ply_file_path')[0], where: 'ply_file_path' });
  const names = frameNames(json.frames);
  for (let i = 0; i < json.frames.length; i++) {
    const fr = json.frames[i]!;
    const where = `frame ${i} (${String(fr.file_path)})`;
    const tm = fr.transform_matrix;
    if (!Array.isArray(tm) || tm.length < 3 || tm.slice(0, 3).some((r) => !Array.isArray(r) || r.length !== 4 || r.some((v) => typeof v !== 'number' || !Number.isFinite(v)))) {
      throw bad(`${where}: "transform_matrix" must be a 3×4 or 4×4 array of numbers`);
    }
    const det3 = tm[0]![0]! * (tm[1]![1]! * tm[2]![2]! - tm[1]![2]! * tm[2]![1]!) - tm[0]![1]! * (tm[1]![0]! * tm[2]![2]! - tm[1]![2]! * tm[2]![0]!) + tm[0]![2]! * (tm[1]![0]! * tm[2]![1]! - tm[1]![1]! * tm[2]![0]!);
    if (!(det3 > 1e-6)) throw bad(`${where}: "transform_matrix" rotation has determinant ${det3.toPrecision(3)}, not a rotation`);
    const cam = await frameCamera(json, fr, opts, (w) => bad(`${where}: ${w}`));
    const key = JSON.stringify([cam.model, cam.width, cam.height, cam.params]);
    let cameraId = camKeys.get(key);
    if (cameraId === undefined) {
      cameraId = camKeys.size + 1;
      camKeys.set(key, cameraId);
      model.cameras.set(cameraId, { ...cam, id: cameraId });
    }
    let { R, t } = glCameraToWorldToPose(tm);
    ({ R, t } = transformPose(R, t, worldFromFile));
    // huge entries (1e308) overflow in the inverse: refused rather than an Inf/NaN pose
    const poseBad = poseProblem(matToQuat(R), t);
    if (poseBad) throw bad(`${where}: "transform_matrix" gives no usable pose (${poseBad})`);
    const id = typeof fr.colmap_im_id === 'number' && Number.isSafeInteger(fr.colmap_im_id) && fr.colmap_im_id > 0 && !usedIds.has(fr.colmap_im_id) ? fr.colmap_im_id : nextFreeId(usedIds, i + 1);
    usedIds.add(id);
    const image: Image = { id, cameraId, name: names[i]!, qvec: matToQuat(R), tvec: t, xys: new Float64Array(0), point3DIds: [] };
    model.images.set(id, image);
    filePaths.set(id, fr.file_path);
    if (typeof fr.mask_path === 'string' && fr.mask_path) maskPaths.set(id, fr.mask_path);
  }
  let plyPath: string | undefined;
  if (typeof json.ply_file_path === 'string') {
    const p = confinedPath(path.dirname(path.resolve(jsonPath)), json.ply_file_path, { file: jsonPath, where: 'ply_file_path' });
    if (existsSync(p)) plyPath = p;
  }
  return { model, filePaths, maskPaths, plyPath, worldFromFile };
}

function nextFreeId(used: Set<number>, start: number): number {
  let id = start;
  while (used.has(id)) id++;
  return id;
}

/** World-to-camera pose after the world is mapped by X' = s·S·X + c. */
function transformPose(R: Mat3, t: Vec3, T: { s: number; R: Mat3; t: Vec3 }): { R: Mat3; t: Vec3 } {
  // x_cam = R·X + t = R·Sᵀ·(X' − c)/s + t. Scaling x_cam by s keeps the projection and puts
  // depths in the new world's units: R' = R·Sᵀ, t' = s·t − R'·c.
  const R2 = matMul3(R, transpose3(T.R));
  const Rc = matVec3(R2, T.t);
  return { R: R2, t: [T.s * t[0] - Rc[0], T.s * t[1] - Rc[1], T.s * t[2] - Rc[2]] };
}

/** applied_transform A maps COLMAP world to the file's world: X_file = A·[X;1]. Return its inverse. */
function undoAppliedTransform(A: number[][] | undefined, bad: (w: string) => UserError): { s: number; R: Mat3; t: Vec3 } {
  if (A === undefined) return { s: 1, R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] };
  if (!Array.isArray(A) || A.length < 3 || A.slice(0, 3).some((r) => !Array.isArray(r) || r.length < 4 || r.slice(0, 4).some((v) => typeof v !== 'number' || !Number.isFinite(v)))) throw bad('"applied_transform" must be 3×4 finite numbers');
  const M: Mat3 = [A[0]![0]!, A[0]![1]!, A[0]![2]!, A[1]![0]!, A[1]![1]!, A[1]![2]!, A[2]![0]!, A[2]![1]!, A[2]![2]!];
  const det = M[0]! * (M[4]! * M[8]! - M[5]! * M[7]!) - M[1]! * (M[3]! * M[8]! - M[5]! * M[6]!) + M[2]! * (M[3]! * M[7]! - M[4]! * M[6]!);
  const s = Math.cbrt(det);
  if (!(s > 0)) throw bad('"applied_transform" is not a rotation with positive scale');
  const Rf = M.map((v) => v / s);
  const I = matMul3(Rf, transpose3(Rf));
  if (I.some((v, k) => Math.abs(v - (k % 4 === 0 ? 1 : 0)) > 1e-6)) throw bad('"applied_transform" is not a similarity transform');
  // X = Rfᵀ (X_file − c) / s  ⇒  inverse: scale 1/s, rotation Rfᵀ, translation −Rfᵀ·c/s
  const Rinv = transpose3(Rf);
  const c = matVec3(Rinv, [A[0]![3]!, A[1]![3]!, A[2]![3]!]);
  return { s: 1 / s, R: Rinv, t: [-c[0] / s, -c[1] / s, -c[2] / s] };
}

/** Frame value overriding the global one. */
function pick<K extends keyof TransformsIntrinsics>(json: TransformsJson, fr: TransformsFrame, k: K): TransformsIntrinsics[K] | undefined {
  return fr[k] !== undefined ? (fr[k] as TransformsIntrinsics[K]) : json[k];
}

async function frameCamera(json: TransformsJson, fr: TransformsFrame, opts: ReadTransformsOptions, bad: (w: string) => UserError): Promise<Omit<Camera, 'id'>> {
  const num = (k: keyof TransformsIntrinsics): number | undefined => {
    const v = pick(json, fr, k);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`"${k}" must be a number`);
    return v;
  };
  let w = num('w');
  let h = num('h');
  if (w === undefined || h === undefined) {
    const size = opts.imageSize ? await opts.imageSize(fr.file_path) : null;
    if (!size) throw bad('no image size ("w", "h") and the image could not be read');
    w ??= size.width;
    h ??= size.height;
  }
  w = Math.round(w);
  h = Math.round(h);
  const ax = num('camera_angle_x');
  const ay = num('camera_angle_y');
  for (const [k, a] of [['camera_angle_x', ax], ['camera_angle_y', ay]] as const) {
    if (a !== undefined && !(a > 0 && a < Math.PI)) throw bad(`"${k}" = ${a} is not a field of view in (0, π) radians`);
  }
  let fx = num('fl_x');
  let fy = num('fl_y');
  if (fx === undefined && ax !== undefined) fx = (0.5 * w) / Math.tan(0.5 * ax);
  if (fy === undefined && ay !== undefined) fy = (0.5 * h) / Math.tan(0.5 * ay);
  fx ??= fy;
  fy ??= fx;
  if (fx === undefined || fy === undefined) throw bad('no focal length ("fl_x" or "camera_angle_x")');
  const cx = num('cx') ?? w / 2;
  const cy = num('cy') ?? h / 2;
  const k1 = num('k1') ?? 0, k2 = num('k2') ?? 0, k3 = num('k3') ?? 0, k4 = num('k4') ?? 0;
  const p1 = num('p1') ?? 0, p2 = num('p2') ?? 0;
  // instant-ngp marks fisheye cameras with is_fisheye instead of camera_model
  const fisheye = fr.is_fisheye ?? json.is_fisheye;
  const kind = String(pick(json, fr, 'camera_model') ?? (fisheye === true ? 'OPENCV_FISHEYE' : 'OPENCV')).toUpperCase();
  let model: CameraModelName;
  let params: number[];
  if (kind === 'OPENCV_FISHEYE') {
    model = 'OPENCV_FISHEYE';
    params = [fx, fy, cx, cy, k1, k2, k3, k4];
  } else if (kind === 'OPENCV' || kind === 'PINHOLE' || kind === 'SIMPLE_PINHOLE' || kind === 'SIMPLE_RADIAL' || kind === 'RADIAL' || kind === 'FULL_OPENCV') {
    if (k4 !== 0) throw bad('"k4" (an r⁸ radial term) has no COLMAP equivalent for a non-fisheye camera');
    if (k3 !== 0) {
      model = 'FULL_OPENCV';
      params = [fx, fy, cx, cy, k1, k2, p1, p2, k3, 0, 0, 0];
    } else if (k1 !== 0 || k2 !== 0 || p1 !== 0 || p2 !== 0) {
      model = 'OPENCV';
      params = [fx, fy, cx, cy, k1, k2, p1, p2];
    } else {
      model = 'PINHOLE';
      params = [fx, fy, cx, cy];
    }
  } else {
    throw bad(`camera_model '${kind}' is not supported (supported: OPENCV, OPENCV_FISHEYE, PINHOLE)`);
  }
  const problem = cameraProblem({ model, width: w, height: h, params });
  if (problem) throw bad(problem.replace(/^focal length (f[xy]?)/, (_m, k: string) => `focal length ${k === 'fy' ? '"fl_y"' : '"fl_x"'}`));
  return { model, width: w, height: h, params };
}

/** Intrinsic keys for a COLMAP camera, as nerfstudio writes them. */
export function cameraToIntrinsics(cam: Camera): TransformsIntrinsics {
  const p = cam.params;
  const base = (fx: number, fy: number, cx: number, cy: number): TransformsIntrinsics => ({
    w: cam.width,
    h: cam.height,
    fl_x: fx,
    fl_y: fy,
    cx,
    cy,
    camera_angle_x: 2 * Math.atan(cam.width / (2 * fx)),
    camera_angle_y: 2 * Math.atan(cam.height / (2 * fy)),
  });
  switch (cam.model) {
    case 'SIMPLE_PINHOLE':
      return { camera_model: 'OPENCV', ...base(p[0]!, p[0]!, p[1]!, p[2]!) };
    case 'PINHOLE':
      return { camera_model: 'OPENCV', ...base(p[0]!, p[1]!, p[2]!, p[3]!) };
    case 'SIMPLE_RADIAL':
      return { camera_model: 'OPENCV', ...base(p[0]!, p[0]!, p[1]!, p[2]!), k1: p[3]!, k2: 0, p1: 0, p2: 0 };
    case 'RADIAL':
      return { camera_model: 'OPENCV', ...base(p[0]!, p[0]!, p[1]!, p[2]!), k1: p[3]!, k2: p[4]!, p1: 0, p2: 0 };
    case 'OPENCV':
      return { camera_model: 'OPENCV', ...base(p[0]!, p[1]!, p[2]!, p[3]!), k1: p[4]!, k2: p[5]!, p1: p[6]!, p2: p[7]! };
    case 'OPENCV_FISHEYE':
      return { camera_model: 'OPENCV_FISHEYE', ...base(p[0]!, p[1]!, p[2]!, p[3]!), k1: p[4]!, k2: p[5]!, k3: p[6]!, k4: p[7]! };
    case 'FULL_OPENCV':
      if (p.slice(9).some((v) => v !== 0)) {
        throw new UserError(`camera ${cam.id}: FULL_OPENCV with rational terms k4..k6 cannot be written to transforms.json`, { fix: 'undistort the images first (colmap image_undistorter)' });
      }
      return { camera_model: 'OPENCV', ...base(p[0]!, p[1]!, p[2]!, p[3]!), k1: p[4]!, k2: p[5]!, p1: p[6]!, p2: p[7]!, k3: p[8]! };
  }
}

export interface WriteTransformsOptions {
  /** prefix of each frame's file_path, relative to the json (default "images/") */
  imagePrefix?: string;
  /** also write the model's 3D points as sparse_pc.ply next to the json (nerfstudio's splat init) */
  points?: boolean;
}

export function modelToTransforms(model: SparseModel, opts: WriteTransformsOptions = {}): TransformsJson {
  const prefix = opts.imagePrefix ?? 'images/';
  const images = sortedValues(model.images);
  const camIds = new Set(images.map((im) => im.cameraId));
  const camOf = (id: number): Camera => {
    const c = model.cameras.get(id);
    if (!c) throw new UserError(`image references camera ${id}, which the model does not have`, { fix: 'repair the model so every image has a camera' });
    return c;
  };
  const shared = camIds.size === 1 ? cameraToIntrinsics(camOf([...camIds][0]!)) : null;
  const frames: TransformsFrame[] = images.map((im) => {
    const R = quatToMat(im.qvec);
    return {
      file_path: prefix + im.name,
      transform_matrix: poseToGlCameraToWorld(R, im.tvec),
      colmap_im_id: im.id,
      ...(shared ? {} : cameraToIntrinsics(camOf(im.cameraId))),
    };
  });
  // nerfstudio reads camera_model from the top level only: keep it there when frames agree
  const kinds = new Set(frames.map((f) => f.camera_model));
  const top: TransformsIntrinsics = shared ?? (kinds.size === 1 ? { camera_model: [...kinds][0] } : {});
  return { ...top, frames };
}

export async function writeTransforms(jsonPath: string, model: SparseModel, opts: WriteTransformsOptions = {}): Promise<void> {
  const json = modelToTransforms(model, opts);
  if (opts.points && model.points3D.size) {
    const pts = sortedValues(model.points3D);
    const positions = new Float32Array(3 * pts.length), colors = new Uint8Array(3 * pts.length);
    pts.forEach((p, i) => { positions.set(p.xyz, 3 * i); colors.set(p.rgb, 3 * i); });
    await writePointCloudPly(path.join(path.dirname(jsonPath), 'sparse_pc.ply'), { count: pts.length, positions, colors });
    json.ply_file_path = 'sparse_pc.ply';
  }
  await writeJsonAtomic(jsonPath, json);
}
