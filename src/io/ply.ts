/**
 * PLY files: the 3DGS Gaussian layout (what every splat tool reads) and plain coloured point
 * clouds.
 *
 * Gaussian layout, binary little-endian float32, one vertex per Gaussian:
 *   x y z nx ny nz f_dc_0..2 f_rest_0..(3K−1) opacity scale_0..2 rot_0..3
 * with K = (degree+1)² − 1 (45 f_rest for degree 3). f_rest is channel-major: f_rest[c·K + k−1]
 * is coefficient k of channel c. Opacity is a logit, scales are logs, rot is (w, x, y, z).
 * In memory (GaussianParams) SH are [gaussian][coefficient 0..15][rgb]; f_dc is coefficient 0.
 *
 * The reader parses any header (ascii / binary either endianness, comments, other elements
 * before or after `vertex`, extra or reordered properties, any numeric types, CRLF lines).
 */
import { promises as fs } from 'node:fs';
import type { GaussianParams } from '../core/gaussians.js';
import { writeFileAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { warn } from '../util/log.js';
import { dropNonFiniteSplats } from './splat-finite.js';

type PlyFormat = 'ascii' | 'binary_little_endian' | 'binary_big_endian';

interface PlyProperty {
  name: string;
  type: string;
  /** for list properties: the type of the count */
  countType?: string;
}

interface PlyElement {
  name: string;
  count: number;
  props: PlyProperty[];
}

export interface PlyHeader {
  format: PlyFormat;
  elements: PlyElement[];
  comments: string[];
  /** byte offset of the body */
  bodyOffset: number;
}

const TYPE_SIZES: Record<string, number> = {
  char: 1, int8: 1, uchar: 1, uint8: 1,
  short: 2, int16: 2, ushort: 2, uint16: 2,
  int: 4, int32: 4, uint: 4, uint32: 4,
  float: 4, float32: 4, double: 8, float64: 8,
};

function plyError(file: string, what: string, fix = 'the file is not a valid PLY file'): UserError {
  return new UserError(`${file}: ${what}`, { file, fix });
}

export function parsePlyHeader(buf: Uint8Array, file: string): PlyHeader {
  const head = Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.byteLength, 1 << 20)).toString('latin1');
  if (!head.startsWith('ply')) throw plyError(file, 'does not start with "ply"');
  const m = /end_header[ \t]*\r?\n/.exec(head);
  if (!m) throw plyError(file, 'no "end_header" line');
  const bodyOffset = m.index + m[0].length;
  const lines = head.slice(0, m.index).split(/\r?\n/);
  let format: PlyFormat | null = null;
  const elements: PlyElement[] = [];
  const comments: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const tok = line.split(/\s+/);
    const where = `header line ${i + 1}`;
    switch (tok[0]) {
      case 'format':
        if (tok[1] !== 'ascii' && tok[1] !== 'binary_little_endian' && tok[1] !== 'binary_big_endian') throw plyError(file, `${where}: unknown format '${tok[1] ?? ''}'`);
        format = tok[1];
        break;
      case 'comment':
      case 'obj_info':
        comments.push(line.slice(tok[0].length).trim());
        break;
      case 'element': {
        const count = Number(tok[2]);
        if (!tok[1] || !Number.isSafeInteger(count) || count < 0) throw plyError(file, `${where}: bad element line '${line}'`);
        elements.push({ name: tok[1], count, props: [] });
        break;
      }
      case 'property': {
        const el = elements[elements.length - 1];
        if (!el) throw plyError(file, `${where}: property before any element`);
        if (tok[1] === 'list') {
          if (!TYPE_SIZES[tok[2] ?? ''] || !TYPE_SIZES[tok[3] ?? ''] || !tok[4]) throw plyError(file, `${where}: bad list property '${line}'`);
          el.props.push({ name: tok[4], type: tok[3]!, countType: tok[2]! });
        } else {
          if (!TYPE_SIZES[tok[1] ?? ''] || !tok[2]) throw plyError(file, `${where}: bad property '${line}'`);
          el.props.push({ name: tok[2], type: tok[1]! });
        }
        break;
      }
      default:
        throw plyError(file, `${where}: unexpected '${tok[0]}'`);
    }
  }
  if (!format) throw plyError(file, 'no "format" line in the header');
  return { format, elements, comments, bodyOffset };
}

/** Column per scalar property of one element (lists are skipped). */
export type PlyColumns = Map<string, Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array>;

function makeColumn(type: string, n: number): Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array {
  switch (type) {
    case 'float': case 'float32': return new Float32Array(n);
    case 'double': case 'float64': return new Float64Array(n);
    case 'uchar': case 'uint8': return new Uint8Array(n);
    case 'uint': case 'uint32': return new Uint32Array(n);
    default: return new Int32Array(n);
  }
}

/** Where one property's values go: dst[row · stride + offset]. */
export interface PlySink {
  dst: { [i: number]: number; length: number };
  stride: number;
  offset: number;
}

/** Read the scalar columns of element `want` ('vertex'). */
export function readPlyElement(buf: Uint8Array, file: string, want = 'vertex'): { header: PlyHeader; count: number; columns: PlyColumns } {
  const columns: PlyColumns = new Map();
  const { header, count } = readPlyInto(buf, file, want, (el) => {
    const sinks = new Map<string, PlySink>();
    for (const p of el.props) {
      if (p.countType) continue;
      const c = makeColumn(p.type, el.count);
      columns.set(p.name, c);
      sinks.set(p.name, { dst: c, stride: 1, offset: 0 });
    }
    return sinks;
  });
  return { header, count, columns };
}

/**
 * Read element `want`, writing each property that `plan` maps to a sink straight into it (no
 * intermediate columns: a 1 M-splat file is 250 MB).
 */
export function readPlyInto(buf: Uint8Array, file: string, want: string, plan: (el: PlyElement) => Map<string, PlySink>): { header: PlyHeader; count: number } {
  const header = parsePlyHeader(buf, file);
  const target = header.elements.find((e) => e.name === want);
  if (!target) throw plyError(file, `no "${want}" element`);
  checkCountsFit(buf, file, header);
  const planned = plan(target);
  const sinks = target.props.map((p) => planned.get(p.name) ?? null);
  if (header.format === 'ascii') readAscii(buf, file, header, target, sinks);
  else readBinary(buf, file, header, target, sinks);
  return { header, count: target.count };
}

/**
 * The element counts a header claims must fit the bytes that follow it, before anything is
 * allocated for them: a header saying 4e9 vertices over a 1 kB body is a broken file, not a
 * reason to ask for 768 GB.
 */
function checkCountsFit(buf: Uint8Array, file: string, header: PlyHeader): void {
  const body = buf.byteLength - header.bodyOffset;
  let need = 0;
  for (const el of header.elements) {
    // the least one record can take: binary, its scalars and list counts; ascii, one character and a separator per value
    const per = header.format === 'ascii' ? el.props.length : el.props.reduce((s, p) => s + TYPE_SIZES[p.countType ?? p.type]!, 0);
    need += el.count * Math.max(per, header.format === 'ascii' ? 1 : 0);
  }
  if (header.format === 'ascii') need = Math.max(0, 2 * need - 1);
  if (need > body) {
    const claims = header.elements.map((e) => `${e.count} ${e.name}`).join(', ');
    throw plyError(file, `truncated or corrupt: the header claims ${claims}, which need at least ${need} bytes, but only ${body} follow the header`, 'the file is incomplete or its header is wrong; export it again');
  }
}

function readBinary(buf: Uint8Array, file: string, header: PlyHeader, target: PlyElement, sinks: Array<PlySink | null>): void {
  const le = header.format === 'binary_little_endian';
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = header.bodyOffset;
  const listBytes = (n: number, type: string): number => {
    if (!(n >= 0)) throw plyError(file, `a list holds ${n} items at byte ${off}`);
    return n * TYPE_SIZES[type]!;
  };
  const get = (type: string): number => {
    const size = TYPE_SIZES[type]!;
    if (off + size > buf.byteLength) throw plyError(file, `truncated: the body ends at byte ${buf.byteLength} but element data continues`, 'the file is incomplete; export it again');
    let v: number;
    switch (type) {
      case 'char': case 'int8': v = view.getInt8(off); break;
      case 'uchar': case 'uint8': v = view.getUint8(off); break;
      case 'short': case 'int16': v = view.getInt16(off, le); break;
      case 'ushort': case 'uint16': v = view.getUint16(off, le); break;
      case 'int': case 'int32': v = view.getInt32(off, le); break;
      case 'uint': case 'uint32': v = view.getUint32(off, le); break;
      case 'float': case 'float32': v = view.getFloat32(off, le); break;
      default: v = view.getFloat64(off, le);
    }
    off += size;
    return v;
  };
  for (const el of header.elements) {
    const fixed = el.props.every((p) => !p.countType);
    if (el !== target) {
      if (fixed) {
        off += el.count * el.props.reduce((s, p) => s + TYPE_SIZES[p.type]!, 0);
      } else {
        for (let i = 0; i < el.count; i++) for (const p of el.props) {
          if (p.countType) { const bytes = listBytes(get(p.countType), p.type); off += bytes; } else off += TYPE_SIZES[p.type]!;
        }
      }
      continue;
    }
    if (fixed) {
      const stride = el.props.reduce((s, p) => s + TYPE_SIZES[p.type]!, 0);
      if (off + stride * el.count > buf.byteLength) {
        throw plyError(file, `truncated: ${el.count} ${el.name} records need ${stride * el.count} bytes, only ${buf.byteLength - off} present`, 'the file is incomplete; export it again');
      }
    }
    if (fixed && le && el.props.every((p) => p.type === 'float' || p.type === 'float32')) {
      // fast path for the usual all-float32 little-endian layout: one aligned copy, then scatter
      const stride = el.props.length;
      const all = new Float32Array(el.count * stride);
      new Uint8Array(all.buffer).set(buf.subarray(off, off + all.byteLength));
      // row by row: reads stay sequential, writes land in a few nearby places
      const used = sinks.map((sk, k) => (sk ? k : -1)).filter((k) => k >= 0);
      const dsts = used.map((k) => sinks[k]!.dst), strides = used.map((k) => sinks[k]!.stride), offs = used.map((k) => sinks[k]!.offset);
      for (let i = 0; i < el.count; i++) {
        const row = i * stride;
        for (let u = 0; u < used.length; u++) dsts[u]![i * strides[u]! + offs[u]!] = all[row + used[u]!]!;
      }
      return;
    }
    for (let i = 0; i < el.count; i++) {
      for (let k = 0; k < el.props.length; k++) {
        const p = el.props[k]!;
        if (p.countType) { const bytes = listBytes(get(p.countType), p.type); off += bytes; continue; }
        const v = get(p.type);
        const sk = sinks[k];
        if (sk) sk.dst[i * sk.stride + sk.offset] = v;
      }
    }
    return;
  }
}

function readAscii(buf: Uint8Array, file: string, header: PlyHeader, target: PlyElement, sinks: Array<PlySink | null>): void {
  const text = Buffer.from(buf.buffer, buf.byteOffset + header.bodyOffset, buf.byteLength - header.bodyOffset).toString('latin1');
  const re = /\S+/g;
  const next = (): number => {
    const m = re.exec(text);
    if (!m) throw plyError(file, 'truncated: the ascii body ends before all elements were read', 'the file is incomplete; export it again');
    const v = Number(m[0]);
    if (Number.isNaN(v) && m[0].toLowerCase() !== 'nan') throw plyError(file, `'${m[0]}' is not a number`);
    return v;
  };
  for (const el of header.elements) {
    for (let i = 0; i < el.count; i++) {
      for (let k = 0; k < el.props.length; k++) {
        const p = el.props[k]!;
        if (p.countType) {
          const n = next();
          if (!(Number.isSafeInteger(n) && n >= 0)) throw plyError(file, `a list holds ${n} items (${el.name} ${i})`);
          for (let j = 0; j < n; j++) next();
          continue;
        }
        const v = next();
        const sk = el === target ? sinks[k] : null;
        if (sk) sk.dst[i * sk.stride + sk.offset] = v;
      }
    }
    if (el === target) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Gaussians

/** f_rest count per SH degree. */
const REST_COUNT = [0, 9, 24, 45];

export function gaussianPlyProperties(shDegree: number): string[] {
  const K = (shDegree + 1) ** 2 - 1;
  const names = ['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2'];
  for (let i = 0; i < 3 * K; i++) names.push(`f_rest_${i}`);
  names.push('opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3');
  return names;
}

/** The PLY bytes of `params` with SH up to `shDegree` (higher coefficients are dropped). */
export function encodeGaussianPly(params: GaussianParams, shDegree: number): Buffer {
  if (!Number.isInteger(shDegree) || shDegree < 0 || shDegree > 3) throw new Error(`shDegree must be 0..3, got ${shDegree}`);
  const n = params.count;
  const props = gaussianPlyProperties(shDegree);
  const header = ['ply', 'format binary_little_endian 1.0', 'comment written by r2s', `element vertex ${n}`, ...props.map((p) => `property float ${p}`), 'end_header', ''].join('\n');
  const headBytes = Buffer.from(header, 'latin1');
  const stride = props.length;
  const body = new Float32Array(n * stride);
  const K = (shDegree + 1) ** 2 - 1;
  const { means, logScales, quats, opacityLogits, sh } = params;
  for (let g = 0; g < n; g++) {
    const o = g * stride;
    body[o] = means[3 * g]!; body[o + 1] = means[3 * g + 1]!; body[o + 2] = means[3 * g + 2]!;
    // normals stay 0
    const s = g * 48;
    body[o + 6] = sh[s]!; body[o + 7] = sh[s + 1]!; body[o + 8] = sh[s + 2]!;
    for (let c = 0; c < 3; c++) for (let k = 1; k <= K; k++) body[o + 9 + c * K + (k - 1)] = sh[s + 3 * k + c]!;
    const r = o + 9 + 3 * K;
    body[r] = opacityLogits[g]!;
    body[r + 1] = logScales[3 * g]!; body[r + 2] = logScales[3 * g + 1]!; body[r + 3] = logScales[3 * g + 2]!;
    body[r + 4] = quats[4 * g]!; body[r + 5] = quats[4 * g + 1]!; body[r + 6] = quats[4 * g + 2]!; body[r + 7] = quats[4 * g + 3]!;
  }
  const out = Buffer.alloc(headBytes.byteLength + body.byteLength);
  headBytes.copy(out, 0);
  // Float32Array is host-endian; every platform Node runs on is little-endian, check anyway
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
  out.set(new Uint8Array(body.buffer), headBytes.byteLength);
  return out;
}

export async function writeGaussianPly(file: string, params: GaussianParams, shDegree: number): Promise<void> {
  await writeFileAtomic(file, encodeGaussianPly(params, shDegree));
}

export function decodeGaussianPly(buf: Uint8Array, file: string): { params: GaussianParams; shDegree: number } {
  let params: GaussianParams | null = null;
  let shDegree = 0;
  readPlyInto(buf, file, 'vertex', (el) => {
    const names = new Set(el.props.filter((p) => !p.countType).map((p) => p.name));
    for (const k of ['x', 'y', 'z', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3']) {
      if (names.has(k)) continue;
      const isCloud = names.has('x') && !names.has('f_dc_0') && !names.has('opacity');
      throw plyError(file, `no "${k}" property: not a 3DGS Gaussian PLY`, isCloud ? 'this is a plain point cloud; read it with readPointCloudPly' : 'export the splats as a standard 3DGS .ply');
    }
    let nRest = 0;
    while (names.has(`f_rest_${nRest}`)) nRest++;
    shDegree = REST_COUNT.indexOf(nRest);
    if (shDegree < 0) throw plyError(file, `${nRest} f_rest properties; expected 0, 9, 24 or 45 (SH degree 0..3)`, 'export the splats as a standard 3DGS .ply');
    const K = (shDegree + 1) ** 2 - 1;
    const n = el.count;
    const p: GaussianParams = {
      count: n,
      means: new Float32Array(3 * n),
      logScales: new Float32Array(3 * n),
      quats: new Float32Array(4 * n),
      opacityLogits: new Float32Array(n),
      sh: new Float32Array(48 * n),
    };
    params = p;
    const sinks = new Map<string, PlySink>();
    ['x', 'y', 'z'].forEach((k, i) => sinks.set(k, { dst: p.means, stride: 3, offset: i }));
    ['scale_0', 'scale_1', 'scale_2'].forEach((k, i) => sinks.set(k, { dst: p.logScales, stride: 3, offset: i }));
    ['rot_0', 'rot_1', 'rot_2', 'rot_3'].forEach((k, i) => sinks.set(k, { dst: p.quats, stride: 4, offset: i }));
    sinks.set('opacity', { dst: p.opacityLogits, stride: 1, offset: 0 });
    for (let c = 0; c < 3; c++) {
      sinks.set(`f_dc_${c}`, { dst: p.sh, stride: 48, offset: c });
      for (let k = 1; k <= K; k++) sinks.set(`f_rest_${c * K + k - 1}`, { dst: p.sh, stride: 48, offset: 3 * k + c });
    }
    return sinks;
  });
  return { params: dropNonFiniteSplats(params!, file), shDegree };
}

export async function readGaussianPly(file: string): Promise<{ params: GaussianParams; shDegree: number }> {
  return decodeGaussianPly(await readFileOrThrow(file), file);
}

// ---------------------------------------------------------------------------------------------
// Point clouds

export interface PointCloud {
  count: number;
  /** N×3 */
  positions: Float32Array;
  /** N×3, 0..255; null when the file has no colours */
  colors: Uint8Array | null;
}

export function decodePointCloudPly(buf: Uint8Array, file: string): PointCloud {
  const { count: n, columns } = readPlyElement(buf, file, 'vertex');
  for (const k of ['x', 'y', 'z']) if (!columns.has(k)) throw plyError(file, `no "${k}" vertex property`);
  let positions = new Float32Array(3 * n);
  ['x', 'y', 'z'].forEach((k, i) => { const c = columns.get(k)!; for (let g = 0; g < n; g++) positions[3 * g + i] = c[g]!; });
  // points at NaN/Inf (or beyond float32) poison every bound and fit made from the cloud: dropped, said once
  const keep: number[] = [];
  let firstBad = -1;
  for (let g = 0; g < n; g++) {
    if (Number.isFinite(positions[3 * g]!) && Number.isFinite(positions[3 * g + 1]!) && Number.isFinite(positions[3 * g + 2]!)) keep.push(g);
    else if (firstBad < 0) firstBad = g;
  }
  const names = [['red', 'green', 'blue'], ['r', 'g', 'b'], ['diffuse_red', 'diffuse_green', 'diffuse_blue']].find((set) => set.every((k) => columns.has(k)));
  let colors: Uint8Array | null = null;
  if (names) {
    colors = new Uint8Array(3 * n);
    names.forEach((k, i) => {
      const c = columns.get(k)!;
      // float colours are 0..1, integer colours 0..255
      const scale = c instanceof Float32Array || c instanceof Float64Array ? 255 : 1;
      for (let g = 0; g < n; g++) colors![3 * g + i] = Math.max(0, Math.min(255, Math.round(c[g]! * scale)) || 0);
    });
  }
  if (keep.length < n) {
    warn(`${file}: ${n - keep.length} of ${n} points have NaN/Inf coordinates (first: #${firstBad}); dropped them`);
    const pos = new Float32Array(3 * keep.length), col = colors ? new Uint8Array(3 * keep.length) : null;
    keep.forEach((g, j) => { pos.set(positions.subarray(3 * g, 3 * g + 3), 3 * j); col?.set(colors!.subarray(3 * g, 3 * g + 3), 3 * j); });
    positions = pos;
    colors = col;
  }
  return { count: keep.length, positions, colors };
}

export async function readPointCloudPly(file: string): Promise<PointCloud> {
  return decodePointCloudPly(await readFileOrThrow(file), file);
}

export function encodePointCloudPly(cloud: PointCloud): Buffer {
  const n = cloud.count;
  const props = ['property float x', 'property float y', 'property float z'];
  if (cloud.colors) props.push('property uchar red', 'property uchar green', 'property uchar blue');
  const header = Buffer.from(['ply', 'format binary_little_endian 1.0', 'comment written by r2s', `element vertex ${n}`, ...props, 'end_header', ''].join('\n'), 'latin1');
  const stride = cloud.colors ? 15 : 12;
  const out = Buffer.alloc(header.byteLength + n * stride);
  header.copy(out, 0);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let g = 0; g < n; g++) {
    const o = header.byteLength + g * stride;
    for (let i = 0; i < 3; i++) view.setFloat32(o + 4 * i, cloud.positions[3 * g + i]!, true);
    if (cloud.colors) for (let i = 0; i < 3; i++) view.setUint8(o + 12 + i, cloud.colors[3 * g + i]!);
  }
  return out;
}

export async function writePointCloudPly(file: string, cloud: PointCloud): Promise<void> {
  await writeFileAtomic(file, encodePointCloudPly(cloud));
}

async function readFileOrThrow(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file, fix: 'check the path' });
  }
}
