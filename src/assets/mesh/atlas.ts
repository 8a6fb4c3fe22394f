/**
 * A UV atlas for a triangle mesh: charts, their flattening, and their packing into one square
 * texture. Written here because the xatlas WebAssembly builds on npm (`xatlas-web` 0.1.0,
 * `xatlasjs` 0.2.0 behind `xatlas-three`) are compiled for browsers and web workers only: their
 * Emscripten loaders throw "environment detection error" under Node.
 *
 *  - Charts: grown from the triangles best aligned with an axis direction (±X, ±Y, ±Z) first; a
 *    chart takes every edge-neighbour whose normal still faces its direction (cos ≥ 0.15), so
 *    a noisy surface (a TSDF mesh of a trained scene) does not break into thousands of slivers
 *    as it does when each triangle takes its nearest direction (templeRing: 3656 charts for 20k
 *    triangles that way).
 *  - Flattening: orthographic projection of the chart on the plane of its direction. Every normal
 *    of the chart is within 81° of that direction, so triangles keep their orientation (no flips)
 *    and are stretched at most 1/0.15 ≈ 6.7× (about 1.2× for most; cos 0.35 gave 2622 charts on
 *    templeRing, 0.15 gives 1979).
 *  - Packing: charts' bounding rectangles (plus a gutter) on shelves, tallest first; the texel
 *    size is the largest (bisection) for which every chart fits the square.
 * Vertices on chart borders are duplicated (one copy per chart): the atlas mesh has more vertices,
 * the same triangles in the same order. Colours carry over to the copies.
 *
 * UV convention (`TriMesh.uvs`): glTF's — u to the right, v down, (0, 0) the top-left corner of
 * the image's first row. USD's `st` has v up: st = (u, 1 − v).
 */
import type { TriMesh } from './types.js';

export interface AtlasOptions {
  /** texture side in texels (default 1024) */
  size: number;
  /** empty texels around every chart (default 2: bilinear filtering and a mip level stay inside) */
  gutter: number;
}

export const defaultAtlasOptions: AtlasOptions = { size: 1024, gutter: 2 };

export interface AtlasResult {
  /** the mesh with `uvs` (vertices duplicated along chart borders) */
  mesh: TriMesh;
  charts: number;
  /** texels per scene unit */
  texelsPerUnit: number;
  /** share of the texture covered by charts' rectangles */
  fill: number;
}

const DIRS: ReadonlyArray<readonly [number, number, number]> = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
/** in-plane axes (u, v) of each direction's projection, right-handed with the direction */
const AXES: ReadonlyArray<readonly [number, number]> = [[1, 2], [2, 1], [2, 0], [0, 2], [0, 1], [1, 0]];
const MIN_COS = 0.15;

export function buildAtlas(m: TriMesh, partial: Partial<AtlasOptions> = {}): AtlasResult {
  const o = { ...defaultAtlasOptions, ...partial };
  const P = m.positions, I = m.indices, T = I.length / 3;
  const fn = faceNormals(P, I);
  const adj = faceAdjacency(I, P.length / 3);
  // charts grown from the best-aligned faces: a chart takes edge-neighbours that still face its direction
  const best = new Uint8Array(T), align = new Float64Array(T);
  for (let t = 0; t < T; t++) { best[t] = bestDir(fn, t); const D = DIRS[best[t]!]!; align[t] = fn[3 * t]! * D[0] + fn[3 * t + 1]! * D[1] + fn[3 * t + 2]! * D[2]; }
  const order = Array.from({ length: T }, (_, i) => i).sort((a, b) => align[b]! - align[a]!);
  const chartOf = new Int32Array(T).fill(-1);
  const dirOf: number[] = [];
  const queue = new Int32Array(T);
  for (const seed of order) {
    if (chartOf[seed] !== -1) continue;
    const c = dirOf.length, d = best[seed]!, D = DIRS[d]!;
    dirOf.push(d);
    let head = 0, tail = 0;
    queue[tail++] = seed; chartOf[seed] = c;
    while (head < tail) {
      const t = queue[head++]!;
      for (let e = 0; e < 3; e++) {
        const u = adj[3 * t + e]!;
        if (u < 0 || chartOf[u] !== -1) continue;
        if (fn[3 * u]! * D[0] + fn[3 * u + 1]! * D[1] + fn[3 * u + 2]! * D[2] < MIN_COS) continue;
        chartOf[u] = c; queue[tail++] = u;
      }
    }
  }
  const roots = { size: dirOf.length };
  const C = roots.size;
  const chartLabel = Uint8Array.from(dirOf);
  // projected bounds per chart (scene units)
  const lo = new Float64Array(2 * C).fill(Infinity), hi = new Float64Array(2 * C).fill(-Infinity);
  for (let t = 0; t < T; t++) {
    const c = chartOf[t]!, [a0, a1] = AXES[chartLabel[c]!]!;
    for (let k = 0; k < 3; k++) {
      const v = I[3 * t + k]!;
      const x = P[3 * v + a0]!, y = P[3 * v + a1]!;
      if (x < lo[2 * c]!) lo[2 * c] = x;
      if (x > hi[2 * c]!) hi[2 * c] = x;
      if (y < lo[2 * c + 1]!) lo[2 * c + 1] = y;
      if (y > hi[2 * c + 1]!) hi[2 * c + 1] = y;
    }
  }
  const ws = new Float64Array(C), hs = new Float64Array(C);
  let area = 0;
  for (let c = 0; c < C; c++) { ws[c] = hi[2 * c]! - lo[2 * c]!; hs[c] = hi[2 * c + 1]! - lo[2 * c + 1]!; area += ws[c]! * hs[c]!; }
  // largest texel density that packs: bisection between a surely-fitting and a surely-failing one
  const S = o.size, g = o.gutter;
  let good = 0, bad = area > 0 ? (S / Math.sqrt(area)) : S;
  let placed = pack(ws, hs, 0, S, g);
  for (let it = 0; it < 24; it++) {
    const mid = it === 0 ? 0.7 * bad : 0.5 * (good + bad);
    const p = pack(ws, hs, mid, S, g);
    if (p) { good = mid; placed = p; } else bad = mid;
    if (bad - good < 1e-3 * bad) break;
  }
  if (!placed) throw new Error(`atlas: ${C} charts do not fit a ${S}² texture even at zero size (gutter ${g})`);
  const scale = good;
  // duplicate vertices per chart, uvs from the projection
  const key = new Map<number, number>();
  const nv = P.length / 3;
  const newIdx = new Uint32Array(I.length);
  const srcOf: number[] = [], uv: number[] = [];
  for (let t = 0; t < T; t++) {
    const c = chartOf[t]!, [a0, a1] = AXES[chartLabel[c]!]!;
    for (let k = 0; k < 3; k++) {
      const v = I[3 * t + k]!, kk = c * nv + v;
      let j = key.get(kk);
      if (j === undefined) {
        j = srcOf.length;
        key.set(kk, j);
        srcOf.push(v);
        const x = g + placed.x[c]! + (P[3 * v + a0]! - lo[2 * c]!) * scale;
        const y = g + placed.y[c]! + (P[3 * v + a1]! - lo[2 * c + 1]!) * scale;
        uv.push(x / S, y / S);
      }
      newIdx[3 * t + k] = j;
    }
  }
  const n = srcOf.length;
  const pos = new Float32Array(3 * n), col = m.colors ? new Float32Array(3 * n) : undefined;
  srcOf.forEach((v, j) => {
    for (let a = 0; a < 3; a++) {
      pos[3 * j + a] = P[3 * v + a]!;
      if (col) col[3 * j + a] = m.colors![3 * v + a]!;
    }
  });
  const mesh: TriMesh = { positions: pos, indices: newIdx, uvs: Float32Array.from(uv) };
  if (col) mesh.colors = col;
  let used = 0;
  for (let c = 0; c < C; c++) used += (Math.ceil(ws[c]! * scale) + 2 * g) * (Math.ceil(hs[c]! * scale) + 2 * g);
  return { mesh, charts: C, texelsPerUnit: scale, fill: used / (S * S) };
}

/** Shelf packing of w×h rectangles scaled by `s` (+ gutter) into an S×S square; null when they do not fit. */
function pack(ws: Float64Array, hs: Float64Array, s: number, S: number, g: number): { x: Float64Array; y: Float64Array } | null {
  const C = ws.length;
  const W = new Float64Array(C), H = new Float64Array(C);
  for (let c = 0; c < C; c++) { W[c] = Math.ceil(ws[c]! * s) + 2 * g + 1; H[c] = Math.ceil(hs[c]! * s) + 2 * g + 1; }
  const order = Array.from({ length: C }, (_, i) => i).sort((a, b) => H[b]! - H[a]! || W[b]! - W[a]!);
  const x = new Float64Array(C), y = new Float64Array(C);
  let cx = 0, cy = 0, shelf = 0;
  for (const c of order) {
    if (W[c]! > S) return null;
    if (cx + W[c]! > S) { cy += shelf; cx = 0; shelf = 0; }
    if (cy + H[c]! > S) return null;
    x[c] = cx; y[c] = cy;
    cx += W[c]!;
    shelf = Math.max(shelf, H[c]!);
  }
  return { x, y };
}

export function faceNormals(P: ArrayLike<number>, I: ArrayLike<number>): Float64Array {
  const T = I.length / 3, n = new Float64Array(3 * T);
  for (let t = 0; t < T; t++) {
    const a = 3 * I[3 * t]!, b = 3 * I[3 * t + 1]!, c = 3 * I[3 * t + 2]!;
    const ux = P[b]! - P[a]!, uy = P[b + 1]! - P[a + 1]!, uz = P[b + 2]! - P[a + 2]!;
    const vx = P[c]! - P[a]!, vy = P[c + 1]! - P[a + 1]!, vz = P[c + 2]! - P[a + 2]!;
    const x = uy * vz - uz * vy, y = uz * vx - ux * vz, z = ux * vy - uy * vx;
    const l = Math.hypot(x, y, z) || 1;
    n[3 * t] = x / l; n[3 * t + 1] = y / l; n[3 * t + 2] = z / l;
  }
  return n;
}

function bestDir(fn: Float64Array, t: number): number {
  let best = 0, bd = -Infinity;
  for (let d = 0; d < 6; d++) {
    const D = DIRS[d]!;
    const v = fn[3 * t]! * D[0] + fn[3 * t + 1]! * D[1] + fn[3 * t + 2]! * D[2];
    if (v > bd) { bd = v; best = d; }
  }
  return best;
}

/** The face across each edge (t, e) — edge e runs from corner e to corner e+1 — or −1 (border / non-manifold). */
function faceAdjacency(I: ArrayLike<number>, nv: number): Int32Array {
  const T = I.length / 3, adj = new Int32Array(3 * T).fill(-1);
  const edges = new Map<number, number>();
  for (let t = 0; t < T; t++) for (let e = 0; e < 3; e++) {
    const a = I[3 * t + e]!, b = I[3 * t + ((e + 1) % 3)]!;
    const k = Math.min(a, b) * nv + Math.max(a, b);
    const o = edges.get(k);
    if (o === undefined) edges.set(k, 3 * t + e);
    else if (o >= 0) { adj[3 * t + e] = Math.floor(o / 3); adj[o] = t; edges.set(k, -1); }
  }
  return adj;
}

/** Vertex normals of the welded surface (vertices at the same position share one), area-weighted. */
export function weldedNormals(m: TriMesh): Float32Array {
  const P = m.positions, I = m.indices, nv = P.length / 3;
  const id = new Int32Array(nv);
  const seen = new Map<string, number>();
  for (let v = 0; v < nv; v++) {
    const k = `${P[3 * v]},${P[3 * v + 1]},${P[3 * v + 2]}`;
    let j = seen.get(k);
    if (j === undefined) { j = v; seen.set(k, v); }
    id[v] = j;
  }
  const acc = new Float64Array(3 * nv);
  for (let t = 0; t < I.length; t += 3) {
    const a = 3 * I[t]!, b = 3 * I[t + 1]!, c = 3 * I[t + 2]!;
    const ux = P[b]! - P[a]!, uy = P[b + 1]! - P[a + 1]!, uz = P[b + 2]! - P[a + 2]!;
    const vx = P[c]! - P[a]!, vy = P[c + 1]! - P[a + 1]!, vz = P[c + 2]! - P[a + 2]!;
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    for (const v of [I[t]!, I[t + 1]!, I[t + 2]!]) { const j = 3 * id[v]!; acc[j] += nx; acc[j + 1] += ny; acc[j + 2] += nz; }
  }
  const out = new Float32Array(3 * nv);
  for (let v = 0; v < nv; v++) {
    const j = 3 * id[v]!, l = Math.hypot(acc[j]!, acc[j + 1]!, acc[j + 2]!);
    if (!(l > 0)) { out[3 * v + 1] = 1; continue; } // only degenerate triangles: any unit vector
    out[3 * v] = acc[j]! / l; out[3 * v + 1] = acc[j + 1]! / l; out[3 * v + 2] = acc[j + 2]! / l;
  }
  return out;
}
