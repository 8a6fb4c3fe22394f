/**
 * Nearest / second-nearest Hamming search in WebAssembly. Two hand-assembled kernels (tiny, so
 * they are built here byte by byte instead of shipping .wasm files), one instance each per thread:
 *
 * - scalar, for its native 64-bit popcount (about 5-10× the plain-JS bit tricks):
 *   nn2(a, nA, b, nB, bytesPerDesc, out, rows, nRows): for each row index r < nRows, i = rows[r]
 *   (i32 at rows + 4r), scans all nB descriptors of b and writes (best j, d1, d2) as three i32 at
 *   out + 12r. bytesPerDesc must be a multiple of 8.
 * - SIMD (v128 xor + i8x16.popcnt), BLOCK A rows at once against each B descriptor so one B
 *   load serves them all, and the best / second-best bookkeeping runs branch-free in i32x4 lanes:
 *   nn2x4(a, b, nB, bytesPerDesc, out, rows, nRows, col): nRows a multiple of BLOCK; for each
 *   group of four rows writes three v128 at out + 48·group: best j ×4, d1 ×4, d2 ×4. Unrolled for
 *   one descriptor size (built per size). i8x16.popcnt is about 70% of its time (V8 on x64 lowers
 *   it to a nibble table lookup, two byte shuffles and ~8 more instructions per vector; a hand-made
 *   lookup with i8x16.swizzle was slower, and so was skipping the last v128 once no row can still
 *   improve), so the kernel alone is ~2.5× the scalar one; the column tracking (see buildSimd)
 *   also saves the reverse pass: 2.8-3.1× per 5000×5000 pair in CPU time (bench/match.json).
 *
 * Both keep the same tie rule as the JS path: a candidate replaces the best only when strictly
 * nearer, so among equally near descriptors the lowest index wins, and d2 may equal d1.
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

function buildScalar() {
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

const simd = (op) => [0xfd, ...uleb(op)];
const V128 = 0x7b;

/** A-row block of the SIMD kernel: rows sharing each B load (groups of four share i32x4 lanes). */
const BLOCK = 8;

/**
 * The SIMD kernel for descriptors of `vecs` v128 (16 bytes, at most 15) each; see the header. With
 * `track`, it also keeps each B descriptor's nearest row (the first such row in `rows` order) as
 * two i32 (row, distance) at col + 8j, initialised by the caller: over all A rows in ascending
 * order that is exactly the reverse search's best, so the mutual check needs no second pass.
 */
function buildSimd(vecs, track) {
  const groups = BLOCK / 4;
  // params: a0 b1 nB2 bytes3 out4 rows5 nRows6 col7 ; i32 locals: r8 j9 pb10 m11 pa 12..12+BLOCK-1
  const R = 8, J = 9, PB = 10, M = 11, PA = 12;
  // v128 locals after the i32 ones (one-byte indices, < 128): jv, i16 ones, d, lt (also a
  // scratch), 4 row counts, 2 pair sums, the B descriptor's vecs v128, then b1 b2 bi per group
  let v = PA + BLOCK;
  const JV = v++, ONES = v++, D = v++, LT = v++, CNT = v, X01 = (v += 4), X23 = X01 + 1, BK = X01 + 2;
  v = BK + vecs;
  const B1 = (g) => v + 3 * g, B2 = (g) => v + 3 * g + 1, BI = (g) => v + 3 * g + 2;
  const nV128 = v + 3 * groups - (PA + BLOCK);
  const G = (i) => [0x20, i], S = (i) => [0x21, i], C = (x) => [0x41, ...sleb(x)];
  const ADD = 0x6a, MUL = 0x6c, GEU = 0x4f;
  const LOAD = (off) => [...simd(0x00), 4, ...uleb(off)], STORE = (off) => [...simd(0x0b), 4, ...uleb(off)];
  const XOR = simd(0x51), SEL = simd(0x52), POPCNT = simd(0x62), ADD8 = simd(0x6e);
  const WIDEN8 = simd(0x7d), DOT16 = simd(0xba), ADD32 = simd(0xae), MIN32 = simd(0xb6), LT32 = simd(0x39);
  const SPLAT16 = simd(0x10), SPLAT32 = simd(0x11), LANE32 = (l) => [...simd(0x1b), l], EQ32 = simd(0x37), MASK32 = simd(0xa4);
  const SHUF = (lanes) => [...simd(0x0d), ...lanes];
  const dw = (...l) => l.flatMap((x) => [x * 4, x * 4 + 1, x * 4 + 2, x * 4 + 3]);
  const LO64 = dw(0, 1, 4, 5), HI64 = dw(2, 3, 6, 7), EVEN32 = dw(0, 2, 4, 6), ODD32 = dw(1, 3, 5, 7), SWAP64 = dw(2, 3, 0, 1), SWAP32 = dw(1, 0, 3, 2);
  const colAddr = [...G(7), ...G(J), ...C(8), MUL, ADD];
  /** the group's nearest row to B descriptor j replaces the column's best when strictly nearer
   * (rows arrive in ascending order, and the lowest lane wins among equal lanes) */
  const trackColumn = (g) => !track ? [] : [
    ...G(D), ...G(D), ...G(D), ...SHUF(SWAP64), ...MIN32, ...S(LT), ...G(LT), ...G(LT), ...G(LT), ...SHUF(SWAP32), ...MIN32, ...LANE32(0), ...S(M),
    ...G(M), ...colAddr, 0x28, 2, 4, 0x48, 0x04, 0x40,
    ...colAddr,
    ...G(5), ...G(R), ...C(4 * g), ADD, ...G(D), ...G(M), ...SPLAT32, ...EQ32, ...MASK32, 0x68, ADD, ...C(4), MUL, ADD, 0x28, 2, 0,
    0x36, 2, 0,
    ...colAddr, ...G(M), 0x36, 2, 4,
    0x0b,
  ];
  /** byte-wise popcount of row `r` against the loaded B descriptor (bytes ≤ 8·vecs) → CNT + k */
  const rowCount = (r, k) => {
    const out = [];
    for (let w = 0; w < vecs; w++) {
      out.push(...G(PA + r), ...LOAD(16 * w), ...G(BK + w), ...XOR, ...POPCNT);
      if (w > 0) out.push(...ADD8);
    }
    return [...out, ...S(CNT + k)];
  };
  /** rows 2p, 2p+1 of the four counts: fold the 64-bit halves together (bytes ≤ 16·vecs ≤ 240),
   * widen byte pairs (u16 ≤ 480), then sum lane pairs → i32 [rowA, rowA, rowB, rowB] halves */
  const pairSum = (p, dst) => [
    ...G(CNT + 2 * p), ...G(CNT + 2 * p + 1), ...SHUF(LO64), ...G(CNT + 2 * p), ...G(CNT + 2 * p + 1), ...SHUF(HI64), ...ADD8,
    ...WIDEN8, ...G(ONES), ...DOT16, ...S(dst),
  ];
  const group = (g) => [
    ...[0, 1, 2, 3].flatMap((k) => rowCount(4 * g + k, k)),
    ...pairSum(0, X01), ...pairSum(1, X23),
    ...G(X01), ...G(X23), ...SHUF(EVEN32), ...G(X01), ...G(X23), ...SHUF(ODD32), ...ADD32, ...S(D),
    // strictly nearer than the best: best moves to second (lowest index wins ties)
    ...G(D), ...G(B1(g)), ...LT32, ...S(LT),
    ...G(B1(g)), ...G(D), ...G(B2(g)), ...MIN32, ...G(LT), ...SEL, ...S(B2(g)),
    ...G(D), ...G(B1(g)), ...MIN32, ...S(B1(g)),
    ...G(JV), ...G(BI(g)), ...G(LT), ...SEL, ...S(BI(g)),
    ...trackColumn(g),
  ];
  const outAddr = (g) => [...G(4), ...G(R), ...C(4 * g), ADD, ...C(12), MUL, ADD];
  const code = [
    ...C(1), ...SPLAT16, ...S(ONES),
    ...C(0), ...S(R),
    0x02, 0x40, 0x03, 0x40, // block exitR, loop R (r steps by BLOCK)
    ...G(R), ...G(6), GEU, 0x0d, 1,
    ...Array.from({ length: BLOCK }, (_, k) => [...G(0), ...G(5), ...G(R), ...C(k), ADD, ...C(4), MUL, ADD, 0x28, 2, 0, ...G(3), MUL, ADD, ...S(PA + k)]).flat(),
    ...Array.from({ length: groups }, (_, g) => [...C(1 << 30), ...SPLAT32, ...S(B1(g)), ...C(1 << 30), ...SPLAT32, ...S(B2(g)), ...C(-1), ...SPLAT32, ...S(BI(g))]).flat(),
    ...C(0), ...SPLAT32, ...S(JV),
    ...C(0), ...S(J), ...G(1), ...S(PB),
    0x02, 0x40, 0x03, 0x40, // block exitJ, loop J
    ...G(J), ...G(2), GEU, 0x0d, 1,
    ...Array.from({ length: vecs }, (_, w) => [...G(PB), ...LOAD(16 * w), ...S(BK + w)]).flat(),
    ...Array.from({ length: groups }, (_, g) => group(g)).flat(),
    ...G(JV), ...C(1), ...SPLAT32, ...ADD32, ...S(JV),
    ...G(PB), ...G(3), ADD, ...S(PB),
    ...G(J), ...C(1), ADD, ...S(J),
    0x0c, 0, 0x0b, 0x0b, // br J, end loop J, end block exitJ
    ...Array.from({ length: groups }, (_, g) => [
      ...outAddr(g), ...G(BI(g)), ...STORE(0), ...outAddr(g), ...G(B1(g)), ...STORE(16), ...outAddr(g), ...G(B2(g)), ...STORE(32),
    ]).flat(),
    ...G(R), ...C(BLOCK), ADD, ...S(R),
    0x0c, 0, 0x0b, 0x0b, // br R, end loop R, end block exitR
    0x0b,
  ];
  const body = [...vec([[4 + BLOCK, 0x7f], [nV128, V128]]), ...code];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(new Array(8).fill([0x7f])), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...str('nn2x4'), 0x00, 0], [...str('mem'), 0x02, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

let scalarInst = null;
/** SIMD instances by descriptor size and tracking; null where the engine lacks wasm SIMD. */
const simdInst = new Map();

function simdInstance(vecs, track) {
  const key = `${vecs}${track ? 't' : ''}`;
  if (!simdInst.has(key)) {
    const bytes = buildSimd(vecs, track);
    simdInst.set(key, WebAssembly.validate(bytes) ? new WebAssembly.Instance(new WebAssembly.Module(bytes), {}) : null);
  }
  return simdInst.get(key);
}

/** Copy A, B and the row list into an instance's memory (growing it); returns the offsets. */
function stage(mem, A, B, nB, bytes, rows, nRowsPadded, outBytes) {
  const aBytes = A.byteLength, bBytes = nB * bytes, rBytes = nRowsPadded * 4;
  const need = aBytes + bBytes + rBytes + outBytes + 64;
  const have = mem.buffer.byteLength;
  if (need > have) mem.grow(Math.ceil((need - have) / 65536));
  const u8 = new Uint8Array(mem.buffer);
  const aOff = 0, bOff = aOff + aBytes, rOff = bOff + bBytes, oOff = rOff + rBytes;
  u8.set(new Uint8Array(A.buffer, A.byteOffset, aBytes), aOff);
  u8.set(new Uint8Array(B.buffer, B.byteOffset, bBytes), bOff);
  const r32 = new Int32Array(mem.buffer, rOff, nRowsPadded);
  r32.set(rows);
  // padding rows repeat the last real row: equal distances never displace it (strictly nearer rule)
  r32.fill(rows.length ? rows[rows.length - 1] : 0, rows.length);
  return { aOff, bOff, rOff, oOff };
}

/** Whether nearestTwoWasm can run the SIMD kernel for this descriptor size here. */
export function simdAvailable(words) {
  return typeof WebAssembly !== 'undefined' && words % 4 === 0 && words <= 60 && simdInstance(words / 4, true) !== null;
}

/**
 * best/d1/d2 for the given rows of A against all of B (both `words` Uint32 per descriptor), with
 * the scalar kernel (`useSimd` false, words even) or the SIMD one (simdAvailable(words)). With
 * `colBest` (SIMD only, Int32Array(nB)) it also writes each B descriptor's nearest row among
 * `rows`, lowest row first on ties when `rows` ascend. Returns false when the kernel cannot run
 * here, so the caller falls back.
 */
export function nearestTwoWasm(A, B, nB, words, rows, best, d1, d2, useSimd = false, colBest = null) {
  if (typeof WebAssembly === 'undefined') return false;
  const bytes = words * 4;
  if (useSimd) {
    if (!simdAvailable(words)) return false;
    const { nn2x4, mem } = simdInstance(words / 4, colBest !== null).exports;
    const padded = Math.ceil(rows.length / BLOCK) * BLOCK;
    const { aOff, bOff, rOff, oOff } = stage(mem, A, B, nB, bytes, rows, padded, padded * 12 + (colBest ? nB * 8 : 0));
    const cOff = oOff + padded * 12;
    if (colBest) {
      const col = new Int32Array(mem.buffer, cOff, nB * 2);
      for (let j = 0; j < nB; j++) { col[2 * j] = -1; col[2 * j + 1] = 1 << 30; }
    }
    nn2x4(aOff, bOff, nB, bytes, oOff, rOff, padded, cOff);
    const o = new Int32Array(mem.buffer, oOff, padded * 3);
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r], blk = (r >> 2) * 12, lane = r & 3;
      best[i] = o[blk + lane]; d1[i] = o[blk + 4 + lane]; d2[i] = o[blk + 8 + lane];
    }
    if (colBest) {
      const col = new Int32Array(mem.buffer, cOff, nB * 2);
      for (let j = 0; j < nB; j++) colBest[j] = col[2 * j];
    }
    return true;
  }
  if (words % 2 !== 0) return false;
  if (!scalarInst) scalarInst = new WebAssembly.Instance(new WebAssembly.Module(buildScalar()), {});
  const { nn2, mem } = scalarInst.exports;
  const { aOff, bOff, rOff, oOff } = stage(mem, A, B, nB, bytes, rows, rows.length, rows.length * 12);
  nn2(aOff, 0, bOff, nB, bytes, oOff, rOff, rows.length);
  const o = new Int32Array(mem.buffer, oOff, rows.length * 3);
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    best[i] = o[r * 3]; d1[i] = o[r * 3 + 1]; d2[i] = o[r * 3 + 2];
  }
  return true;
}
