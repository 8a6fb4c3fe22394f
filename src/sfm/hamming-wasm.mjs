/**
 * Nearest / second-nearest Hamming search in WebAssembly, for its native 64-bit popcount (about
 * 5-10× the plain-JS bit tricks). The module is tiny, so it is assembled here byte by byte instead
 * of shipping a .wasm file. One instance per thread.
 *
 * nn2(a, nA, b, nB, bytesPerDesc, out, rows, nRows): for each row index r < nRows, i = rows[r]
 * (i32 at rows + 4r), scans all nB descriptors of b and writes (best j, d1, d2) as three i32 at
 * out + 12r. bytesPerDesc must be a multiple of 8.
 */

function sleb(v) {
  const out = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) { out.push(byte); return out; }
    out.push(byte | 0x80);
  }
}
function uleb(v) {
  const out = [];
  do { let b = v & 0x7f; v >>>= 7; if (v) b |= 0x80; out.push(b); } while (v);
  return out;
}
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const vec = (items) => [...uleb(items.length), ...items.flat()];
const str = (s) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

function build() {
  // params: a0 nA1 b2 nB3 w4 out5 rows6 nRows7 ; locals: r8 pa9 b1_10 b2_11 bi12 j13 pb14 d15 k16
  const G = (i) => [0x20, i], S = (i) => [0x21, i], T = (i) => [0x22, i], C = (v) => [0x41, ...sleb(v)];
  const ADD = 0x6a, MUL = 0x6c, LTU = 0x49, GEU = 0x4f;
  const code = [
    ...C(0), ...S(8),
    0x02, 0x40, // block exitR
    0x03, 0x40, // loop R
    ...G(8), ...G(7), GEU, 0x0d, 1,
    ...G(0), ...G(6), ...G(8), ...C(4), MUL, ADD, 0x28, 2, 0, ...G(4), MUL, ADD, ...S(9),
    ...C(1 << 30), ...T(10), ...S(11),
    ...C(-1), ...S(12),
    ...C(0), ...S(13),
    ...G(2), ...S(14),
    0x02, 0x40, // block exitJ
    0x03, 0x40, // loop J
    ...G(13), ...G(3), GEU, 0x0d, 1,
    ...C(0), ...S(15),
    ...C(0), ...S(16),
    0x03, 0x40, // loop K
    ...G(15),
    ...G(9), ...G(16), ADD, 0x29, 3, 0,
    ...G(14), ...G(16), ADD, 0x29, 3, 0,
    0x85, 0x7b, 0xa7, ADD, ...S(15),
    // next word while words remain and the partial distance can still beat the second best
    ...G(16), ...C(8), ADD, ...T(16), ...G(4), LTU, ...G(15), ...G(11), LTU, 0x71, 0x0d, 0,
    0x0b, // end K
    ...G(15), ...G(10), LTU,
    0x04, 0x40,
    ...G(10), ...S(11), ...G(15), ...S(10), ...G(13), ...S(12),
    0x05,
    ...G(15), ...G(11), LTU, 0x04, 0x40, ...G(15), ...S(11), 0x0b,
    0x0b,
    ...G(14), ...G(4), ADD, ...S(14),
    ...G(13), ...C(1), ADD, ...S(13),
    0x0c, 0, // br J
    0x0b, // end loop J
    0x0b, // end block exitJ
    ...G(5), ...G(8), ...C(12), MUL, ADD, ...G(12), 0x36, 2, 0,
    ...G(5), ...G(8), ...C(12), MUL, ADD, ...G(10), 0x36, 2, 4,
    ...G(5), ...G(8), ...C(12), MUL, ADD, ...G(11), 0x36, 2, 8,
    ...G(8), ...C(1), ADD, ...S(8),
    0x0c, 0, // br R
    0x0b, // end loop R
    0x0b, // end block exitR
    0x0b, // end function
  ];
  const body = [...vec([[9, 0x7f]]), ...code];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(new Array(8).fill([0x7f])), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...str('nn2'), 0x00, 0], [...str('mem'), 0x02, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

let inst = null;
function instance() {
  if (!inst) inst = new WebAssembly.Instance(new WebAssembly.Module(build()), {});
  return inst;
}

/**
 * best/d1/d2 for the given rows of A against all of B (both `words` Uint32 per descriptor, words
 * even). Returns false when WebAssembly is unavailable, so the caller falls back to JS.
 */
export function nearestTwoWasm(A, B, nB, words, rows, best, d1, d2) {
  if (words % 2 !== 0 || typeof WebAssembly === 'undefined') return false;
  const { nn2, mem } = instance().exports;
  const bytes = words * 4;
  const aBytes = A.byteLength, bBytes = nB * bytes, rBytes = rows.length * 4, oBytes = rows.length * 12;
  const need = aBytes + bBytes + rBytes + oBytes + 64;
  const have = mem.buffer.byteLength;
  if (need > have) mem.grow(Math.ceil((need - have) / 65536));
  const u8 = new Uint8Array(mem.buffer);
  const aOff = 0, bOff = aOff + aBytes, rOff = bOff + bBytes, oOff = rOff + rBytes;
  u8.set(new Uint8Array(A.buffer, A.byteOffset, aBytes), aOff);
  u8.set(new Uint8Array(B.buffer, B.byteOffset, bBytes), bOff);
  new Int32Array(mem.buffer, rOff, rows.length).set(rows);
  nn2(aOff, 0, bOff, nB, bytes, oOff, rOff, rows.length);
  const o = new Int32Array(mem.buffer, oOff, rows.length * 3);
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    best[i] = o[r * 3]; d1[i] = o[r * 3 + 1]; d2[i] = o[r * 3 + 2];
  }
  return true;
}
