// Non-finite splats in a Gaussian .ply (NaN / Inf positions, scales, rotations or opacities, as a
// diverged training run writes them). Spark would load them and draw nothing sensible, and the page
// would say "825 splats, loaded"; here they are counted, reported and dropped before decoding.

const SIZES: Record<string, number> = {
  char: 1, uchar: 1, int8: 1, uint8: 1, short: 2, ushort: 2, int16: 2, uint16: 2,
  int: 4, uint: 4, int32: 4, uint32: 4, float: 4, float32: 4, double: 8, float64: 8,
};

const CHECKED = /^(x|y|z|scale_\d|rot_\d|opacity)$/;

export interface FiniteReport {
  /** the file without the non-finite rows (the input when none) */
  bytes: Uint8Array;
  total: number;
  dropped: number;
  /** index (in the file) of the first non-finite splat, or -1 */
  first: number;
}

/** Scan a binary little-endian PLY's vertex rows; other layouts are passed through unchanged. */
export function dropNonFinite(bytes: Uint8Array): FiniteReport {
  const headText = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 65536)));
  const end = headText.indexOf('end_header\n');
  const none = { bytes, total: 0, dropped: 0, first: -1 };
  if (end < 0 || !/^format binary_little_endian /m.test(headText)) return none;
  const headerLen = new TextEncoder().encode(headText.slice(0, end + 'end_header\n'.length)).length;
  const lines = headText.slice(0, end).split('\n');
  let inVertex = false, count = 0, stride = 0, seenVertex = false;
  const checked: Array<{ off: number; type: string }> = [];
  for (const line of lines) {
    const w = line.trim().split(/\s+/);
    if (w[0] === 'element') {
      if (seenVertex && inVertex) break; // later elements do not change the vertex rows' layout
      inVertex = w[1] === 'vertex';
      if (inVertex) (count = Number(w[2])), (seenVertex = true);
      else if (!seenVertex) return none; // an element before the vertices: not a splat file we scan
    } else if (w[0] === 'property' && inVertex) {
      if (w[1] === 'list') return none;
      const size = SIZES[w[1]!];
      if (!size) return none;
      if (CHECKED.test(w[2]!) && (w[1] === 'float' || w[1] === 'float32' || w[1] === 'double' || w[1] === 'float64')) checked.push({ off: stride, type: w[1]! });
      stride += size;
    }
  }
  if (!count || !stride || headerLen + count * stride > bytes.length) return none;
  const view = new DataView(bytes.buffer, bytes.byteOffset + headerLen, count * stride);
  const bad = new Uint8Array(count);
  let dropped = 0, first = -1;
  for (let i = 0; i < count; i++) {
    const base = i * stride;
    for (const c of checked) {
      const v = c.type.startsWith('d') || c.type === 'float64' ? view.getFloat64(base + c.off, true) : view.getFloat32(base + c.off, true);
      if (!Number.isFinite(v)) {
        bad[i] = 1;
        dropped++;
        if (first < 0) first = i;
        break;
      }
    }
  }
  if (!dropped) return { bytes, total: count, dropped: 0, first: -1 };
  const keep = count - dropped;
  const newHead = new TextEncoder().encode(headText.slice(0, end + 'end_header\n'.length).replace(/element vertex \d+/, `element vertex ${keep}`));
  const rest = bytes.subarray(headerLen + count * stride);
  const out = new Uint8Array(newHead.length + keep * stride + rest.length);
  out.set(newHead, 0);
  let at = newHead.length;
  const rows = bytes.subarray(headerLen, headerLen + count * stride);
  for (let i = 0; i < count; i++) {
    if (bad[i]) continue;
    out.set(rows.subarray(i * stride, (i + 1) * stride), at);
    at += stride;
  }
  out.set(rest, at);
  return { bytes: out, total: count, dropped, first };
}
