/**
 * Mesh clean-up after marching cubes: drop degenerate triangles (repeated vertex or zero area —
 * the slivers MC makes where the surface grazes a grid corner), keep the large connected
 * components (floaters from stray Gaussians go), and drop unreferenced vertices.
 */
import type { TriMesh } from './types.js';

export interface CleanOptions {
  /** keep components with at least this fraction of the largest component's triangles (default 0.05) */
  minComponentRatio: number;
  /** triangles with area below this many squared "mean edge lengths" are slivers (default 1e-6) */
  minRelativeArea: number;
}

export const defaultCleanOptions: CleanOptions = { minComponentRatio: 0.05, minRelativeArea: 1e-6 };

export function cleanMesh(m: TriMesh, o: CleanOptions = defaultCleanOptions): TriMesh {
  const tris = dropDegenerate(m, o.minRelativeArea);
  const kept = keepLargeComponents(m.positions.length / 3, tris, o.minComponentRatio);
  return compact({ ...m, indices: kept });
}

function dropDegenerate(m: TriMesh, rel: number): Uint32Array {
  const p = m.positions, I = m.indices;
  let edge = 0;
  for (let t = 0; t < I.length; t += 3) edge += dist(p, I[t]!, I[t + 1]!);
  const eps = rel * (edge / Math.max(1, I.length / 3)) ** 2;
  const out: number[] = [];
  for (let t = 0; t < I.length; t += 3) {
    const a = I[t]!, b = I[t + 1]!, c = I[t + 2]!;
    if (a === b || b === c || a === c) continue;
    if (area(p, a, b, c) <= eps) continue;
    out.push(a, b, c);
  }
  return Uint32Array.from(out);
}

/** Union-find over vertices; components measured in triangles. */
function keepLargeComponents(nv: number, I: Uint32Array, ratio: number): Uint32Array {
  const parent = new Int32Array(nv);
  for (let i = 0; i < nv; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) { parent[x] = parent[parent[x]!]!; x = parent[x]!; }
    return x;
  };
  for (let t = 0; t < I.length; t += 3) {
    const a = find(I[t]!), b = find(I[t + 1]!), c = find(I[t + 2]!);
    parent[b] = a;
    parent[find(c)] = a;
  }
  const count = new Map<number, number>();
  for (let t = 0; t < I.length; t += 3) { const r = find(I[t]!); count.set(r, (count.get(r) ?? 0) + 1); }
  const largest = Math.max(0, ...count.values());
  const out: number[] = [];
  for (let t = 0; t < I.length; t += 3) if (count.get(find(I[t]!))! >= ratio * largest) out.push(I[t]!, I[t + 1]!, I[t + 2]!);
  return Uint32Array.from(out);
}

/** Remove vertices no triangle references, renumbering the triangles. */
export function compact(m: TriMesh): TriMesh {
  const nv = m.positions.length / 3;
  const map = new Int32Array(nv).fill(-1);
  let n = 0;
  const I = new Uint32Array(m.indices.length);
  for (let k = 0; k < m.indices.length; k++) {
    const v = m.indices[k]!;
    if (map[v] === -1) map[v] = n++;
    I[k] = map[v]!;
  }
  const P = new Float32Array(n * 3), C = m.colors ? new Float32Array(n * 3) : undefined;
  for (let v = 0; v < nv; v++) {
    const j = map[v]!;
    if (j < 0) continue;
    for (let a = 0; a < 3; a++) {
      P[3 * j + a] = m.positions[3 * v + a]!;
      if (C) C[3 * j + a] = m.colors![3 * v + a]!;
    }
  }
  return C ? { positions: P, indices: I, colors: C } : { positions: P, indices: I };
}

function dist(p: Float32Array, a: number, b: number): number {
  return Math.hypot(p[3 * a]! - p[3 * b]!, p[3 * a + 1]! - p[3 * b + 1]!, p[3 * a + 2]! - p[3 * b + 2]!);
}

export function area(p: Float32Array, a: number, b: number, c: number): number {
  const ux = p[3 * b]! - p[3 * a]!, uy = p[3 * b + 1]! - p[3 * a + 1]!, uz = p[3 * b + 2]! - p[3 * a + 2]!;
  const vx = p[3 * c]! - p[3 * a]!, vy = p[3 * c + 1]! - p[3 * a + 1]!, vz = p[3 * c + 2]! - p[3 * a + 2]!;
  return 0.5 * Math.hypot(uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx);
}
