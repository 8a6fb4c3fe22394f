/**
 * COLMAP text model: cameras.txt, images.txt, points3D.txt. Numbers are written with `String(x)`,
 * the shortest decimal that reads back to the same double, so text round trips are exact.
 *
 * images.txt has two lines per image; as in COLMAP's own reader, the line after an image's header
 * is its observation line even when empty (comments are skipped only between records).
 *
 * Checked as read, with file:line: every number finite, cameras with a positive size and focal
 * length, non-zero quaternions, image NAMEs that stay inside the images folder (util/confine.ts),
 * and the "# Number of cameras/images: N" header against the records found (a file cut short).
 */
import { CAMERA_MODELS, type Camera, type CameraModelName } from '../core/camera.js';
import { type Image, type Point3D, type SparseModel, emptyModel } from '../core/sparse-model.js';
import { UserError } from '../util/errors.js';
import { confinedPath } from '../util/confine.js';

const modelNames = Object.keys(CAMERA_MODELS) as CameraModelName[];

/** Error for line `lineNo` (1-based) of `file`. */
function lineError(file: string, lineNo: number, what: string): UserError {
  return new UserError(`${file}:${lineNo}: ${what}`, { file, fix: 'the file is not a valid COLMAP text model; re-export it from COLMAP' });
}

function parseNum(tok: string | undefined, file: string, lineNo: number, what: string): number {
  const v = tok === undefined ? NaN : Number(tok);
  if (tok === undefined || tok === '' || !Number.isFinite(v)) throw lineError(file, lineNo, `expected a number for ${what}, got '${tok ?? ''}'`);
  return v;
}

function parseInt_(tok: string | undefined, file: string, lineNo: number, what: string): number {
  const v = parseNum(tok, file, lineNo, what);
  if (!Number.isSafeInteger(v)) throw lineError(file, lineNo, `expected an integer for ${what}, got '${tok}'`);
  return v;
}

/** Why a camera cannot be used (size, focal length), or null; shared with the binary reader. */
export function cameraProblem(cam: Omit<Camera, 'id'>): string | null {
  const maxSide = 1 << 20;
  if (!(Number.isSafeInteger(cam.width) && cam.width >= 1 && cam.width <= maxSide && Number.isSafeInteger(cam.height) && cam.height >= 1 && cam.height <= maxSide)) {
    return `image size ${cam.width}×${cam.height} is not a positive size of at most ${maxSide} px`;
  }
  const names = CAMERA_MODELS[cam.model].params;
  for (let k = 0; k < names.length; k++) {
    const v = cam.params[k]!;
    if (!Number.isFinite(v)) return `${names[k]} is ${v}`;
    if ((names[k] === 'f' || names[k] === 'fx' || names[k] === 'fy') && !(v > 0)) return `focal length ${names[k]} = ${v} is not positive`;
  }
  return null;
}

/** Why a pose cannot be used (zero or non-finite quaternion, non-finite translation), or null. */
export function poseProblem(q: readonly number[], t: readonly number[]): string | null {
  if (!q.every(Number.isFinite) || !t.every(Number.isFinite)) return `pose holds a non-finite number (${[...q, ...t].join(' ')})`;
  const n = Math.hypot(...q);
  if (!(n > 1e-12) || !Number.isFinite(n)) return `quaternion ${q.join(' ')} is not a rotation (norm ${n})`;
  return null;
}

/** The count a COLMAP header comment announces ("# Number of images: 29, …"), with its line. */
function headerCount(lines: string[], noun: string): { n: number; line: number } | null {
  const re = new RegExp(`^#\\s*Number of ${noun}:\\s*(\\d+)`);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t !== '' && !t.startsWith('#')) return null;
    const m = re.exec(t);
    if (m) return { n: Number(m[1]), line: i + 1 };
  }
  return null;
}

function checkCount(file: string, lines: string[], noun: string, found: number): void {
  const h = headerCount(lines, noun);
  if (h && h.n !== found) {
    throw new UserError(`${file}:${h.line}: the header says ${h.n} ${noun}, the file holds ${found}`, {
      file,
      fix: 'the file is cut short or was edited; re-export the model from COLMAP (or correct the "# Number of" line)',
    });
  }
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

function isSkippable(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

export function parseCamerasText(text: string, file = 'cameras.txt'): Map<number, Camera> {
  const cams = new Map<number, Camera>();
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (isSkippable(line)) continue;
    const tok = line.trim().split(/\s+/);
    const ln = i + 1;
    const id = parseInt_(tok[0], file, ln, 'CAMERA_ID');
    const model = tok[1] as CameraModelName;
    if (!modelNames.includes(model)) {
      throw new UserError(`${file}:${ln}: camera model '${tok[1] ?? ''}' is not supported (supported: ${modelNames.join(', ')})`, {
        file,
        fix: 'undistort the images with colmap image_undistorter, or re-run COLMAP with a supported model',
      });
    }
    const width = parseInt_(tok[2], file, ln, 'WIDTH');
    const height = parseInt_(tok[3], file, ln, 'HEIGHT');
    const nParams = CAMERA_MODELS[model].params.length;
    if (tok.length !== 4 + nParams) throw lineError(file, ln, `${model} needs ${nParams} parameters, found ${tok.length - 4}`);
    const params = tok.slice(4).map((t, k) => parseNum(t, file, ln, CAMERA_MODELS[model].params[k]!));
    if (cams.has(id)) throw lineError(file, ln, `camera ${id} appears twice`);
    const problem = cameraProblem({ model, width, height, params });
    if (problem) throw lineError(file, ln, `camera ${id}: ${problem}`);
    cams.set(id, { id, model, width, height, params });
  }
  checkCount(file, lines, 'cameras', cams.size);
  return cams;
}

export function parseImagesText(text: string, file = 'images.txt'): Map<number, Image> {
  const images = new Map<number, Image>();
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (isSkippable(line)) continue;
    const ln = i + 1;
    const t = line.trim();
    // ID QW QX QY QZ TX TY TZ CAMERA_ID NAME; NAME is the rest of the line (it may hold spaces).
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+)$/.exec(t);
    if (!m) throw lineError(file, ln, 'expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME');
    const id = parseInt_(m[1], file, ln, 'IMAGE_ID');
    const q = [2, 3, 4, 5].map((k) => parseNum(m[k], file, ln, 'quaternion')) as [number, number, number, number];
    const tv = [6, 7, 8].map((k) => parseNum(m[k], file, ln, 'translation')) as [number, number, number];
    const cameraId = parseInt_(m[9], file, ln, 'CAMERA_ID');
    const name = m[10]!;
    confinedPath('', name, { file, line: ln });
    const pose = poseProblem(q, tv);
    if (pose) throw lineError(file, ln, `image ${id}: ${pose}`);
    // The next line holds the observations (X Y POINT3D_ID triples), possibly empty.
    const obsLine = i + 1 < lines.length ? lines[i + 1]! : '';
    i++;
    const obsTok = obsLine.trim() === '' ? [] : obsLine.trim().split(/\s+/);
    if (obsTok.length % 3 !== 0) throw lineError(file, i + 1, `observations must be X Y POINT3D_ID triples, found ${obsTok.length} numbers`);
    const n = obsTok.length / 3;
    const xys = new Float64Array(2 * n);
    const point3DIds = new Array<number>(n);
    for (let k = 0; k < n; k++) {
      xys[2 * k] = parseNum(obsTok[3 * k], file, i + 1, 'X');
      xys[2 * k + 1] = parseNum(obsTok[3 * k + 1], file, i + 1, 'Y');
      point3DIds[k] = parseInt_(obsTok[3 * k + 2], file, i + 1, 'POINT3D_ID');
    }
    if (images.has(id)) throw lineError(file, ln, `image ${id} appears twice`);
    images.set(id, { id, cameraId, name, qvec: q, tvec: tv, xys, point3DIds });
  }
  checkCount(file, lines, 'images', images.size);
  return images;
}

export function parsePoints3DText(text: string, file = 'points3D.txt'): Map<number, Point3D> {
  const pts = new Map<number, Point3D>();
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (isSkippable(line)) continue;
    const ln = i + 1;
    const tok = line.trim().split(/\s+/);
    if (tok.length < 8 || (tok.length - 8) % 2 !== 0) throw lineError(file, ln, 'expected POINT3D_ID X Y Z R G B ERROR then IMAGE_ID POINT2D_IDX pairs');
    const id = parseInt_(tok[0], file, ln, 'POINT3D_ID');
    const xyz = [1, 2, 3].map((k) => parseNum(tok[k], file, ln, 'X Y Z')) as [number, number, number];
    const rgb = [4, 5, 6].map((k) => parseInt_(tok[k], file, ln, 'R G B')) as [number, number, number];
    if (rgb.some((c) => c < 0 || c > 255)) throw lineError(file, ln, 'colour components must be 0..255');
    const error = parseNum(tok[7], file, ln, 'ERROR');
    const track = [];
    for (let k = 8; k < tok.length; k += 2) {
      track.push({ imageId: parseInt_(tok[k], file, ln, 'IMAGE_ID'), point2DIdx: parseInt_(tok[k + 1], file, ln, 'POINT2D_IDX') });
    }
    if (pts.has(id)) throw lineError(file, ln, `point ${id} appears twice`);
    pts.set(id, { id, xyz, rgb, error, track });
  }
  return pts;
}

export function parseModelText(texts: { cameras: string; images: string; points3D: string }, files = { cameras: 'cameras.txt', images: 'images.txt', points3D: 'points3D.txt' }): SparseModel {
  const model = emptyModel();
  model.cameras = parseCamerasText(texts.cameras, files.cameras);
  model.images = parseImagesText(texts.images, files.images);
  model.points3D = parsePoints3DText(texts.points3D, files.points3D);
  return model;
}

/** Shortest exact decimal; keeps the sign of −0, which String() drops. */
const f = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

export function formatCamerasText(model: SparseModel): string {
  const out = [
    '# Camera list with one line of data per camera:',
    '#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]',
    `# Number of cameras: ${model.cameras.size}`,
  ];
  for (const c of sortedValues(model.cameras)) out.push(`${c.id} ${c.model} ${c.width} ${c.height} ${c.params.map(f).join(' ')}`);
  return out.join('\n') + '\n';
}

export function formatImagesText(model: SparseModel): string {
  let nObs = 0;
  for (const im of model.images.values()) nObs += im.point3DIds.length;
  const mean = model.images.size ? nObs / model.images.size : 0;
  const out = [
    '# Image list with two lines of data per image:',
    '#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME',
    '#   POINTS2D[] as (X, Y, POINT3D_ID)',
    `# Number of images: ${model.images.size}, mean observations per image: ${mean}`,
  ];
  for (const im of sortedValues(model.images)) {
    out.push(`${im.id} ${im.qvec.map(f).join(' ')} ${im.tvec.map(f).join(' ')} ${im.cameraId} ${im.name}`);
    const parts = new Array<string>(im.point3DIds.length);
    for (let k = 0; k < im.point3DIds.length; k++) parts[k] = `${f(im.xys[2 * k]!)} ${f(im.xys[2 * k + 1]!)} ${im.point3DIds[k]}`;
    out.push(parts.join(' '));
  }
  return out.join('\n') + '\n';
}

export function formatPoints3DText(model: SparseModel): string {
  let nTrack = 0;
  for (const p of model.points3D.values()) nTrack += p.track.length;
  const mean = model.points3D.size ? nTrack / model.points3D.size : 0;
  const out = [
    '# 3D point list with one line of data per point:',
    '#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)',
    `# Number of points: ${model.points3D.size}, mean track length: ${mean}`,
  ];
  for (const p of sortedValues(model.points3D)) {
    const track = p.track.map((t) => `${t.imageId} ${t.point2DIdx}`).join(' ');
    out.push(`${p.id} ${p.xyz.map(f).join(' ')} ${p.rgb.join(' ')} ${f(p.error)}${track ? ' ' + track : ''}`);
  }
  return out.join('\n') + '\n';
}

/** Map values in increasing id order, so files are deterministic. */
export function sortedValues<T>(m: Map<number, T>): T[] {
  return [...m.keys()].sort((a, b) => a - b).map((k) => m.get(k)!);
}
