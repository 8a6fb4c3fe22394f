/**
 * COLMAP binary model, byte for byte as COLMAP writes it (little-endian):
 *   cameras.bin   u64 count; per camera: u32 id, i32 model id, u64 width, u64 height, f64 params[]
 *   images.bin    u64 count; per image: u32 id, f64 qw qx qy qz, f64 tx ty tz, u32 camera id,
 *                 name bytes + NUL, u64 n, then n × (f64 x, f64 y, u64 point3D id; 2^64−1 = none)
 *   points3D.bin  u64 count; per point: u64 id, f64 xyz, u8 rgb, f64 error, u64 track length,
 *                 then track length × (u32 image id, u32 point2D index)
 * Checked as the text reader checks (colmap-text.ts): finite numbers (NaN/Inf refused with the
 * record and byte offset), usable cameras and quaternions, image names inside their folder.
 */
import { CAMERA_MODELS, type Camera, type CameraModelName } from '../core/camera.js';
import { type Image, type Point3D, type SparseModel, emptyModel } from '../core/sparse-model.js';
import { cameraProblem, poseProblem, sortedValues } from './colmap-text.js';
import { UserError } from '../util/errors.js';
import { confinedPath } from '../util/confine.js';

const U64_NONE = 0xffffffffffffffffn;
const modelById = new Map<number, CameraModelName>(Object.entries(CAMERA_MODELS).map(([name, m]) => [m.id, name as CameraModelName]));

/** Sequential little-endian reader that turns any overrun into a UserError naming the record. */
class Reader {
  private off = 0;
  private readonly view: DataView;
  /** what is being read, for error messages */
  where = 'header';

  constructor(private readonly buf: Uint8Array, private readonly file: string) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.off + n > this.buf.byteLength) {
      throw new UserError(`${this.file}: truncated at byte ${this.off} of ${this.buf.byteLength} (reading ${this.where})`, {
        file: this.file,
        fix: 'the file is incomplete or not a COLMAP binary model; re-export it from COLMAP',
      });
    }
  }

  /** byte offset of the next read */
  get offset(): number { return this.off; }

  bad(what: string): UserError {
    return new UserError(`${this.file}: ${what} at byte ${this.off} (${this.where})`, { file: this.file, fix: 'the file is not a valid COLMAP binary model; re-export it from COLMAP' });
  }

  u8(): number { this.need(1); return this.view.getUint8(this.off++); }
  u32(): number { this.need(4); const v = this.view.getUint32(this.off, true); this.off += 4; return v; }
  i32(): number { this.need(4); const v = this.view.getInt32(this.off, true); this.off += 4; return v; }
  f64(): number { this.need(8); const v = this.view.getFloat64(this.off, true); this.off += 8; return v; }
  u64big(): bigint { this.need(8); const v = this.view.getBigUint64(this.off, true); this.off += 8; return v; }

  /** u64 that must fit a JS number (counts, ids). */
  u64(): number {
    const v = this.u64big();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.bad(`value ${v} is too large`);
    return Number(v);
  }

  /** Count of records each at least `minBytes` long: rejects counts the file cannot hold. */
  count(minBytes: number): number {
    const n = this.u64();
    const left = this.buf.byteLength - this.off;
    if (n * minBytes > left) {
      throw new UserError(`${this.file}: truncated at byte ${this.off} of ${this.buf.byteLength} (reading ${this.where}: ${n} records need at least ${n * minBytes} bytes, ${left} left)`, {
        file: this.file,
        fix: 'the file is incomplete or not a COLMAP binary model; re-export it from COLMAP',
      });
    }
    return n;
  }

  cstring(): string {
    const end = this.buf.indexOf(0, this.off);
    if (end < 0) { this.off = this.buf.byteLength; this.need(1); }
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.off, end - this.off).toString('utf8');
    this.off = end + 1;
    return s;
  }

  done(): void {
    if (this.off !== this.buf.byteLength) throw this.bad(`${this.buf.byteLength - this.off} unexpected trailing bytes`);
  }
}

export function parseCamerasBin(buf: Uint8Array, file = 'cameras.bin'): Map<number, Camera> {
  const r = new Reader(buf, file);
  const n = r.count(24);
  const cams = new Map<number, Camera>();
  for (let i = 0; i < n; i++) {
    r.where = `camera ${i + 1} of ${n}`;
    const id = r.u32();
    const modelId = r.i32();
    const model = modelById.get(modelId);
    if (!model) {
      throw new UserError(`${file}: camera ${id} has model id ${modelId}, which is not supported (supported: ${[...modelById.values()].join(', ')})`, {
        file,
        fix: 'undistort the images with colmap image_undistorter, or re-run COLMAP with a supported model',
      });
    }
    const width = r.u64();
    const height = r.u64();
    const params = CAMERA_MODELS[model].params.map(() => r.f64());
    if (cams.has(id)) throw r.bad(`camera ${id} appears twice`);
    const problem = cameraProblem({ model, width, height, params });
    if (problem) throw r.bad(`camera ${id}: ${problem}`);
    cams.set(id, { id, model, width, height, params });
  }
  r.done();
  return cams;
}

export function parseImagesBin(buf: Uint8Array, file = 'images.bin'): Map<number, Image> {
  const r = new Reader(buf, file);
  const n = r.count(73);
  const images = new Map<number, Image>();
  for (let i = 0; i < n; i++) {
    r.where = `image ${i + 1} of ${n}`;
    const id = r.u32();
    const qvec: [number, number, number, number] = [r.f64(), r.f64(), r.f64(), r.f64()];
    const tvec: [number, number, number] = [r.f64(), r.f64(), r.f64()];
    const cameraId = r.u32();
    const pose = poseProblem(qvec, tvec);
    if (pose) throw r.bad(`image ${id}: ${pose}`);
    const nameAt = r.offset;
    const name = r.cstring();
    confinedPath('', name, { file, where: `image ${id}, ${r.where}, byte ${nameAt}` });
    const nObs = r.count(24);
    const xys = new Float64Array(2 * nObs);
    const point3DIds = new Array<number>(nObs);
    for (let k = 0; k < nObs; k++) {
      xys[2 * k] = r.f64();
      xys[2 * k + 1] = r.f64();
      if (!Number.isFinite(xys[2 * k]!) || !Number.isFinite(xys[2 * k + 1]!)) throw r.bad(`image ${id}: observation ${k} is at ${xys[2 * k]}, ${xys[2 * k + 1]}`);
      const pid = r.u64big();
      if (pid === U64_NONE) point3DIds[k] = -1;
      else if (pid > BigInt(Number.MAX_SAFE_INTEGER)) throw r.bad(`point3D id ${pid} is too large`);
      else point3DIds[k] = Number(pid);
    }
    if (images.has(id)) throw r.bad(`image ${id} appears twice`);
    images.set(id, { id, cameraId, name, qvec, tvec, xys, point3DIds });
  }
  r.done();
  return images;
}

export function parsePoints3DBin(buf: Uint8Array, file = 'points3D.bin'): Map<number, Point3D> {
  const r = new Reader(buf, file);
  const n = r.count(51);
  const pts = new Map<number, Point3D>();
  for (let i = 0; i < n; i++) {
    r.where = `point ${i + 1} of ${n}`;
    const id = r.u64();
    const xyz: [number, number, number] = [r.f64(), r.f64(), r.f64()];
    const rgb: [number, number, number] = [r.u8(), r.u8(), r.u8()];
    const error = r.f64();
    if (!xyz.every(Number.isFinite) || !Number.isFinite(error)) throw r.bad(`point ${id}: non-finite position or error (${xyz.join(' ')}, ${error})`);
    const len = r.count(8);
    const track = new Array<{ imageId: number; point2DIdx: number }>(len);
    for (let k = 0; k < len; k++) track[k] = { imageId: r.u32(), point2DIdx: r.u32() };
    if (pts.has(id)) throw r.bad(`point ${id} appears twice`);
    pts.set(id, { id, xyz, rgb, error, track });
  }
  r.done();
  return pts;
}

export function parseModelBin(bufs: { cameras: Uint8Array; images: Uint8Array; points3D: Uint8Array }, files = { cameras: 'cameras.bin', images: 'images.bin', points3D: 'points3D.bin' }): SparseModel {
  const model = emptyModel();
  model.cameras = parseCamerasBin(bufs.cameras, files.cameras);
  model.images = parseImagesBin(bufs.images, files.images);
  model.points3D = parsePoints3DBin(bufs.points3D, files.points3D);
  return model;
}

/** Sequential little-endian writer into a buffer sized in advance. */
class Writer {
  private off = 0;
  readonly buf: Buffer;
  private readonly view: DataView;
  constructor(size: number) {
    this.buf = Buffer.alloc(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
  u8(v: number): void { this.view.setUint8(this.off++, v); }
  u32(v: number): void { this.view.setUint32(this.off, v, true); this.off += 4; }
  i32(v: number): void { this.view.setInt32(this.off, v, true); this.off += 4; }
  f64(v: number): void { this.view.setFloat64(this.off, v, true); this.off += 8; }
  u64(v: number | bigint): void { this.view.setBigUint64(this.off, BigInt(v), true); this.off += 8; }
  bytes(b: Uint8Array): void { this.buf.set(b, this.off); this.off += b.byteLength; }
  finish(): Buffer {
    if (this.off !== this.buf.byteLength) throw new Error(`internal: wrote ${this.off} of ${this.buf.byteLength} bytes`);
    return this.buf;
  }
}

function checkU32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new UserError(`${what} ${v} does not fit COLMAP's 32-bit id`, { fix: 'renumber the model with ids below 2^32' });
  return v;
}

export function formatCamerasBin(model: SparseModel): Buffer {
  const cams = sortedValues(model.cameras);
  let size = 8;
  for (const c of cams) size += 24 + 8 * c.params.length;
  const w = new Writer(size);
  w.u64(cams.length);
  for (const c of cams) {
    w.u32(checkU32(c.id, 'camera id'));
    w.i32(CAMERA_MODELS[c.model].id);
    w.u64(c.width);
    w.u64(c.height);
    for (const p of c.params) w.f64(p);
  }
  return w.finish();
}

export function formatImagesBin(model: SparseModel): Buffer {
  const ims = sortedValues(model.images);
  const names = ims.map((im) => Buffer.from(im.name, 'utf8'));
  let size = 8;
  ims.forEach((im, i) => { size += 4 + 56 + 4 + names[i]!.byteLength + 1 + 8 + 24 * im.point3DIds.length; });
  const w = new Writer(size);
  w.u64(ims.length);
  ims.forEach((im, i) => {
    w.u32(checkU32(im.id, 'image id'));
    for (const q of im.qvec) w.f64(q);
    for (const t of im.tvec) w.f64(t);
    w.u32(checkU32(im.cameraId, 'camera id'));
    w.bytes(names[i]!);
    w.u8(0);
    w.u64(im.point3DIds.length);
    for (let k = 0; k < im.point3DIds.length; k++) {
      w.f64(im.xys[2 * k]!);
      w.f64(im.xys[2 * k + 1]!);
      const pid = im.point3DIds[k]!;
      w.u64(pid < 0 ? U64_NONE : pid);
    }
  });
  return w.finish();
}

export function formatPoints3DBin(model: SparseModel): Buffer {
  const pts = sortedValues(model.points3D);
  let size = 8;
  for (const p of pts) size += 8 + 24 + 3 + 8 + 8 + 8 * p.track.length;
  const w = new Writer(size);
  w.u64(pts.length);
  for (const p of pts) {
    w.u64(p.id);
    for (const x of p.xyz) w.f64(x);
    for (const c of p.rgb) w.u8(Math.max(0, Math.min(255, Math.round(c))));
    w.f64(p.error);
    w.u64(p.track.length);
    for (const t of p.track) {
      w.u32(checkU32(t.imageId, 'image id'));
      w.u32(checkU32(t.point2DIdx, 'point2D index'));
    }
  }
  return w.finish();
}
