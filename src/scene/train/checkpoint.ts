/**
 * A tiny container for typed arrays plus a JSON header: [u32 header length][header JSON][arrays,
 * each 8-byte aligned]. Checkpoints hold every bit of optimizer state, so `--resume` continues
 * bit-exactly. Reading checks every length and offset against the bytes (CheckpointFormatError).
 */
export type Arr = Float32Array | Float64Array | Int32Array;

interface Entry {
  name: string;
  type: 'f32' | 'f64' | 'i32';
  offset: number;
  length: number;
}

export function packArrays(meta: unknown, arrays: Record<string, Arr>): Uint8Array {
  const entries: Entry[] = [];
  let off = 0;
  for (const [name, a] of Object.entries(arrays)) {
    const type = a instanceof Float64Array ? 'f64' : a instanceof Int32Array ? 'i32' : 'f32';
    entries.push({ name, type, offset: off, length: a.length });
    off += Math.ceil(a.byteLength / 8) * 8;
  }
  const header = new TextEncoder().encode(JSON.stringify({ meta, entries }));
  const headerPadded = Math.ceil((4 + header.length) / 8) * 8;
  const buf = new Uint8Array(headerPadded + off);
  new DataView(buf.buffer).setUint32(0, header.length, true);
  buf.set(header, 4);
  for (const e of entries) {
    const a = arrays[e.name]!;
    buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), headerPadded + e.offset);
  }
  return buf;
}

/** A checkpoint whose bytes do not hold what its header says (empty, cut short, not ours). */
export class CheckpointFormatError extends Error {
  constructor(what: string) {
    super(`not a readable checkpoint: ${what}`);
    this.name = 'CheckpointFormatError';
  }
}

const TYPES = { f32: 4, f64: 8, i32: 4 } as const;

/**
 * `metaOnly`: parse the header and skip the arrays (a caller deciding whether to load at all).
 * Every length and offset is checked against the bytes before use: a damaged file is a
 * CheckpointFormatError, never a RangeError from deep inside a DataView.
 */
export function unpackArrays<M>(bytes: Uint8Array, o: { metaOnly?: boolean } = {}): { meta: M; arrays: Record<string, Arr> } {
  if (bytes.byteLength < 4) throw new CheckpointFormatError(`${bytes.byteLength} bytes, shorter than its header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true);
  if (4 + n > bytes.byteLength) throw new CheckpointFormatError(`header of ${n} bytes in a file of ${bytes.byteLength}`);
  let parsed: { meta: M; entries: Entry[] };
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + n))) as { meta: M; entries: Entry[] };
  } catch (e) {
    throw new CheckpointFormatError(`header is not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!parsed || typeof parsed !== 'object' || !parsed.meta || typeof parsed.meta !== 'object' || !Array.isArray(parsed.entries)) throw new CheckpointFormatError('header lacks meta or entries');
  const { meta, entries } = parsed;
  if (o.metaOnly) return { meta, arrays: {} };
  const base = Math.ceil((4 + n) / 8) * 8;
  const arrays: Record<string, Arr> = {};
  for (const e of entries) {
    const size = e && typeof e === 'object' ? TYPES[e.type as keyof typeof TYPES] : undefined;
    if (!size || typeof e.name !== 'string' || !Number.isSafeInteger(e.offset) || !Number.isSafeInteger(e.length) || e.offset < 0 || e.length < 0 || e.offset % 8 !== 0) {
      throw new CheckpointFormatError(`bad array entry ${JSON.stringify(e)?.slice(0, 80)}`);
    }
    const end = base + e.offset + e.length * size;
    if (end > bytes.byteLength) throw new CheckpointFormatError(`array ${e.name} ends at byte ${end}, the file has ${bytes.byteLength} (cut short?)`);
    const copy = bytes.slice(base + e.offset, end);
    arrays[e.name] = e.type === 'f64' ? new Float64Array(copy.buffer) : e.type === 'i32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
  }
  return { meta, arrays };
}
