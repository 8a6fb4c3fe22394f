/**
 * Niantic .spz: a gzip stream of a 16-byte header and per-attribute blocks.
 *
 *   header   u32 magic 0x5053474e ("NGSP"), u32 version, u32 numPoints, u8 shDegree,
 *            u8 fractionalBits, u8 flags (0x1 antialiased, 0x80 LoD tree), u8 reserved
 *   blocks   positions  3 × i24 fixed point (value · 2^fractionalBits)   (v1: 3 × f16)
 *            alphas     u8 sigmoid(opacity) · 255
 *            colours    3 × u8 (f_dc · 0.15 + 0.5) · 255
 *            scales     3 × u8 (log scale + 10) · 16
 *            rotations  v3: u32 "smallest three" (2-bit index of the largest |component| of
 *                       (x,y,z,w), then 3 × (sign bit + 9-bit magnitude / √½), last component in
 *                       the low bits); v1/v2: 3 × u8 (x,y,z)·127.5+127.5 with w ≥ 0
 *            SH         per point, coefficients 1..K each as r,g,b: u8 value·128+128
 *
 * Spark 2.2 (the viewer) reads versions 1–3, gzip only: its file sniffing looks for the gzip
 * magic and then "NGSP", and its decoder rejects versions outside 1–3. r2s writes v3 (4-byte
 * rotations, ~0.1° steps; Spark's own 2.2 writer still emits v2) and reads v1–v3. Version 4
 * (ZSTD streams) is not read by Spark 2.2 and not supported here. test/io-spz.test.ts runs
 * Spark's decoder on our files.
 *
 * Coordinates are stored as given (no axis change), exactly like the .ply, so both files of a
 * scene look the same in Spark; the viewer converts axes in one place.
 */
import { promises as fs } from 'node:fs';
import zlib from 'node:zlib';
import type { GaussianParams } from '../core/gaussians.js';
import { writeFileAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { warn } from '../util/log.js';
import { dropNonFiniteSplats } from './splat-finite.js';

export const SPZ_MAGIC = 0x5053474e;
const COLOR_SCALE = 0.15;
const SQRT1_2 = Math.SQRT1_2;
const SH_COEFS = [0, 3, 8, 15];

export interface SpzWriteOptions {
  /** 2 or 3 (default 3: smallest-three rotations, 4× finer than v2) */
  version?: 2 | 3;
  /** fixed-point fraction bits of positions (default 12: 0.24 mm steps, ±2048 units range) */
  fractionalBits?: number;
  antialiased?: boolean;
  /** bits kept per SH value: degree 1 and degrees 2–3 (default 5 and 4, as Niantic's encoder) */
  shBits?: [number, number];
  /** gzip level 1..9 (default 6, as Niantic and Spark; 1 is ~4× faster, a little larger) */
  level?: number;
}

export interface SpzContents {
  params: GaussianParams;
  shDegree: number;
  version: number;
  fractionalBits: number;
  antialiased: boolean;
}

const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

function quantizeSh(x: number, bits: number): number {
  const q = Math.round(x * 128) + 128;
  const bucket = 1 << (8 - bits);
  return clampByte(Math.round(Math.floor((q + bucket / 2) / bucket) * bucket));
}

/** The uncompressed SPZ payload (header + blocks). */
export function encodeSpzRaw(params: GaussianParams, shDegree: number, opts: SpzWriteOptions = {}): Buffer {
  const version = opts.version ?? 3;
  const fb = opts.fractionalBits ?? 12;
  if (version !== 2 && version !== 3) throw new Error(`SPZ version ${version} cannot be written (2 or 3)`);
  if (!Number.isInteger(fb) || fb < 0 || fb > 23) throw new Error(`fractionalBits must be 0..23, got ${fb}`);
  if (!Number.isInteger(shDegree) || shDegree < 0 || shDegree > 3) throw new Error(`shDegree must be 0..3, got ${shDegree}`);
  const [bits1, bitsRest] = opts.shBits ?? [5, 4];
  const n = params.count;
  const K = SH_COEFS[shDegree]!;
  const quatBytes = version === 3 ? 4 : 3;
  const size = 16 + n * (9 + 1 + 3 + 3 + quatBytes + 3 * K);
  const out = Buffer.alloc(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, SPZ_MAGIC, true);
  view.setUint32(4, version, true);
  view.setUint32(8, n, true);
  out[12] = shDegree;
  out[13] = fb;
  out[14] = opts.antialiased ? 0x1 : 0;
  out[15] = 0;
  let off = 16;
  const scale = 2 ** fb;
  const LIM = 0x7fffff;
  let clipped = 0;
  for (let i = 0; i < 3 * n; i++) {
    let v = Math.round(params.means[i]! * scale);
    if (v > LIM || v < -LIM || !Number.isFinite(v)) { clipped++; v = Number.isFinite(v) ? Math.max(-LIM, Math.min(LIM, v)) : 0; }
    out[off] = v & 0xff; out[off + 1] = (v >> 8) & 0xff; out[off + 2] = (v >> 16) & 0xff;
    off += 3;
  }
  if (clipped) warn(`spz: ${clipped} position coordinates outside ±${(LIM / scale).toFixed(0)} were clamped (use fewer fractionalBits)`);
  for (let g = 0; g < n; g++) out[off++] = clampByte(Math.round((1 / (1 + Math.exp(-params.opacityLogits[g]!))) * 255));
  for (let g = 0; g < n; g++) for (let c = 0; c < 3; c++) out[off++] = clampByte(Math.round((params.sh[48 * g + c]! * COLOR_SCALE + 0.5) * 255));
  for (let i = 0; i < 3 * n; i++) out[off++] = clampByte(Math.round((params.logScales[i]! + 10) * 16));
  const q = [0, 0, 0, 0];
  for (let g = 0; g < n; g++) {
    // ours (w, x, y, z) → SPZ order (x, y, z, w), normalised
    const w = params.quats[4 * g]!, x = params.quats[4 * g + 1]!, y = params.quats[4 * g + 2]!, z = params.quats[4 * g + 3]!;
    const norm = Math.hypot(w, x, y, z);
    if (norm > 0 && Number.isFinite(norm)) { q[0] = x / norm; q[1] = y / norm; q[2] = z / norm; q[3] = w / norm; }
    else { q[0] = 0; q[1] = 0; q[2] = 0; q[3] = 1; }
    if (version === 3) {
      let big = 0;
      for (let k = 1; k < 4; k++) if (Math.abs(q[k]!) > Math.abs(q[big]!)) big = k;
      const negate = q[big]! < 0; // −q is the same rotation; the largest decodes positive
      let comp = big;
      for (let k = 0; k < 4; k++) {
        if (k === big) continue;
        const v = q[k]!;
        const sign = (v < 0) !== negate ? 1 : 0;
        const mag = Math.min(511, Math.round((Math.min(Math.abs(v), SQRT1_2) / SQRT1_2) * 511));
        comp = ((comp << 10) | (sign << 9) | mag) >>> 0;
      }
      view.setUint32(off, comp, true);
      off += 4;
    } else {
      const s = q[3]! < 0 ? -1 : 1;
      for (let k = 0; k < 3; k++) out[off++] = clampByte(Math.round((s * q[k]! + 1) * 127.5));
    }
  }
  for (let g = 0; g < n; g++) {
    for (let k = 1; k <= K; k++) {
      const bits = k <= 3 ? bits1 : bitsRest;
      for (let c = 0; c < 3; c++) out[off++] = quantizeSh(params.sh[48 * g + 3 * k + c]!, bits);
    }
  }
  if (off !== size) throw new Error(`internal: spz wrote ${off} of ${size} bytes`);
  return out;
}

export function encodeSpz(params: GaussianParams, shDegree: number, opts: SpzWriteOptions = {}): Buffer {
  return zlib.gzipSync(encodeSpzRaw(params, shDegree, opts), { level: opts.level ?? 6 });
}

export async function writeSpz(file: string, params: GaussianParams, shDegree: number, opts: SpzWriteOptions = {}): Promise<void> {
  await writeFileAtomic(file, encodeSpz(params, shDegree, opts));
}

function spzError(file: string, what: string): UserError {
  return new UserError(`${file}: ${what}`, { file, fix: 'the file is not a valid .spz (gzip, versions 1–3); export it again' });
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Decode a (gzipped) SPZ file's bytes. */
export function decodeSpz(bytes: Uint8Array, file = 'splats.spz'): SpzContents {
  // an uncompressed payload (some tools keep one in memory or on disk) reads as is
  if (bytes.byteLength >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === SPZ_MAGIC) return decodeSpzRaw(bytes, file);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw spzError(file, 'not gzip-compressed (SPZ version 4 / ZSTD is not supported)');
  let raw: Buffer;
  try {
    raw = zlib.gunzipSync(bytes);
  } catch (e) {
    throw spzError(file, `gzip stream is damaged (${(e as Error).message})`);
  }
  return decodeSpzRaw(raw, file);
}

export function decodeSpzRaw(raw: Uint8Array, file = 'splats.spz'): SpzContents {
  if (raw.byteLength < 16) throw spzError(file, 'shorter than the 16-byte header');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== SPZ_MAGIC) throw spzError(file, `bad magic 0x${magic.toString(16)} (expected 0x5053474e "NGSP")`);
  const version = view.getUint32(4, true);
  if (version < 1 || version > 3) throw spzError(file, `version ${version} is not supported (1–3)`);
  const n = view.getUint32(8, true);
  const shDegree = raw[12]!;
  const fb = raw[13]!;
  const flags = raw[14]!;
  if (shDegree > 3) throw spzError(file, `SH degree ${shDegree} (max 3)`);
  if (flags & 0x80) throw new UserError(`${file}: SPZ with a level-of-detail tree is not supported`, { file, fix: 'export the splats without LoD' });
  const K = SH_COEFS[shDegree]!;
  const posBytes = version === 1 ? 6 : 9;
  const quatBytes = version === 3 ? 4 : 3;
  const need = 16 + n * (posBytes + 1 + 3 + 3 + quatBytes + 3 * K);
  if (raw.byteLength < need) throw spzError(file, `truncated: ${n} points need ${need} bytes, found ${raw.byteLength}`);
  const means = new Float32Array(3 * n), logScales = new Float32Array(3 * n), quats = new Float32Array(4 * n);
  const opacityLogits = new Float32Array(n), sh = new Float32Array(48 * n);
  let off = 16;
  const inv = 1 / 2 ** fb;
  for (let i = 0; i < 3 * n; i++) {
    if (version === 1) { means[i] = halfToFloat(view.getUint16(off, true)); off += 2; continue; }
    let v = raw[off]! | (raw[off + 1]! << 8) | (raw[off + 2]! << 16);
    if (v & 0x800000) v |= ~0xffffff; // sign-extend 24 → 32 bits
    means[i] = v * inv;
    off += 3;
  }
  // bytes 0 and 255 would be ±∞ logits; clamp to the nearest representable opacities instead
  for (let g = 0; g < n; g++) {
    const a = Math.min(Math.max(raw[off++]! / 255, 0.5 / 255), 254.5 / 255);
    opacityLogits[g] = Math.log(a / (1 - a));
  }
  for (let g = 0; g < n; g++) for (let c = 0; c < 3; c++) sh[48 * g + c] = (raw[off++]! / 255 - 0.5) / COLOR_SCALE;
  for (let i = 0; i < 3 * n; i++) logScales[i] = raw[off++]! / 16 - 10;
  const q = [0, 0, 0, 0];
  for (let g = 0; g < n; g++) {
    if (version === 3) {
      let comp = view.getUint32(off, true);
      off += 4;
      const big = comp >>> 30;
      let sum = 0;
      for (let k = 3; k >= 0; k--) {
        if (k === big) continue;
        const mag = comp & 511;
        const sign = (comp >>> 9) & 1;
        comp >>>= 10;
        const v = SQRT1_2 * (mag / 511) * (sign ? -1 : 1);
        q[k] = v;
        sum += v * v;
      }
      q[big] = Math.sqrt(Math.max(0, 1 - sum));
    } else {
      q[0] = raw[off]! / 127.5 - 1; q[1] = raw[off + 1]! / 127.5 - 1; q[2] = raw[off + 2]! / 127.5 - 1;
      off += 3;
      q[3] = Math.sqrt(Math.max(0, 1 - q[0]! * q[0]! - q[1]! * q[1]! - q[2]! * q[2]!));
    }
    quats[4 * g] = q[3]!; quats[4 * g + 1] = q[0]!; quats[4 * g + 2] = q[1]!; quats[4 * g + 3] = q[2]!;
  }
  for (let g = 0; g < n; g++) for (let k = 1; k <= K; k++) for (let c = 0; c < 3; c++) sh[48 * g + 3 * k + c] = (raw[off++]! - 128) / 128;
  return { params: dropNonFiniteSplats({ count: n, means, logScales, quats, opacityLogits, sh }, file), shDegree, version, fractionalBits: fb, antialiased: (flags & 0x1) !== 0 };
}

export async function readSpz(file: string): Promise<SpzContents> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file, fix: 'check the path' });
  }
  return decodeSpz(bytes, file);
}
