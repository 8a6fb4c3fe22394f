/**
 * A tiny container for typed arrays plus a JSON header: [u32 header length][header JSON][arrays,
 * each 8-byte aligned]. Checkpoints hold every bit of optimizer state, so `--resume` continues
 * bit-exactly.
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

/** `metaOnly`: parse the header and skip the arrays (a caller deciding whether to load at all). */
export function unpackArrays<M>(bytes: Uint8Array, o: { metaOnly?: boolean } = {}): { meta: M; arrays: Record<string, Arr> } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true);
  const { meta, entries } = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as { meta: M; entries: Entry[] };
  if (o.metaOnly) return { meta, arrays: {} };
  const base = Math.ceil((4 + n) / 8) * 8;
  const arrays: Record<string, Arr> = {};
  for (const e of entries) {
    const size = e.type === 'f64' ? 8 : 4;
    const copy = bytes.slice(base + e.offset, base + e.offset + e.length * size);
    arrays[e.name] = e.type === 'f64' ? new Float64Array(copy.buffer) : e.type === 'i32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
  }
  return { meta, arrays };
}
