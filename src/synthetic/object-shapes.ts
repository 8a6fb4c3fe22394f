/**
 * Analytic shapes of the synthetic three-object scene (objects.ts): an upright box, a sphere and an
 * upright cylinder standing on the ground z = 0 (z up, metres). Each shape gives
 *  - surface samples (position, outward normal, a stripe/checker pattern value), placed so that
 *    the samples reach the true extents exactly (box edges, the sphere's equator at longitudes
 *    that are multiples of 7.5°, the cylinder's rims; vertical sides start one row above the
 *    ground, so heights are exact measured from the ground plane) — extents measured on the
 *    Gaussian means of the true scene are then exact;
 *  - an exact closed triangle mesh (the Chamfer-distance truth for meshing).
 */
import type { Vec3 } from '../geometry/rotation.js';

export type ShapeKind = 'box' | 'sphere' | 'cylinder';

export interface ShapeSpec {
  name: string;
  kind: ShapeKind;
  /** centre of the footprint on the ground (x, y); the shape stands on z = 0 */
  at: [number, number];
  /** box: full edge lengths along its local x, y and z (z = up) */
  size?: Vec3;
  /** sphere / cylinder radius */
  radius?: number;
  /** cylinder height */
  height?: number;
  /** rotation about z (degrees), local x → world */
  yawDeg?: number;
  /** linear RGB base colour in [0, 1] */
  colour: Vec3;
}

export interface SurfaceSample {
  p: Vec3;
  n: Vec3;
  /** 0 or 1: the texture pattern (stripes / checks) */
  pattern: number;
}

export interface TriMesh {
  /** V×3 */
  positions: Float32Array;
  /** F×3, counter-clockwise seen from outside */
  indices: Uint32Array;
}

/** Extents of a shape along its own axes (x, y, z), metres. */
export function shapeExtents(s: ShapeSpec): Vec3 {
  if (s.kind === 'box') return [...s.size!] as Vec3;
  if (s.kind === 'sphere') return [2 * s.radius!, 2 * s.radius!, 2 * s.radius!];
  return [2 * s.radius!, 2 * s.radius!, s.height!];
}

/** Centre of the shape's bounding box in world coordinates. */
export function shapeCentre(s: ShapeSpec): Vec3 {
  return [s.at[0], s.at[1], shapeExtents(s)[2] / 2];
}

/** Local → world: yaw about z, then move to the footprint centre. */
function place(s: ShapeSpec, p: Vec3): Vec3 {
  const y = ((s.yawDeg ?? 0) * Math.PI) / 180, c = Math.cos(y), sn = Math.sin(y);
  return [s.at[0] + c * p[0] - sn * p[1], s.at[1] + sn * p[0] + c * p[1], p[2]];
}

function rotate(s: ShapeSpec, n: Vec3): Vec3 {
  const y = ((s.yawDeg ?? 0) * Math.PI) / 180, c = Math.cos(y), sn = Math.sin(y);
  return [c * n[0] - sn * n[1], sn * n[0] + c * n[1], n[2]];
}

/** Points in [-h, h] with spacing ≤ step, both ends included. */
function span(h: number, step: number): number[] {
  const n = Math.max(1, Math.ceil((2 * h) / step));
  return Array.from({ length: n + 1 }, (_, i) => -h + (2 * h * i) / n);
}

/** Surface samples with spacing ≈ `step` (the bottom, resting on the ground, is left out). */
export function sampleSurface(s: ShapeSpec, step: number): SurfaceSample[] {
  const out: SurfaceSample[] = [];
  const push = (p: Vec3, n: Vec3, pattern: number) => out.push({ p: place(s, p), n: rotate(s, n), pattern });
  if (s.kind === 'box') {
    const [hx, hy, hz] = [s.size![0] / 2, s.size![1] / 2, s.size![2] / 2];
    const chk = (a: number, b: number) => (Math.floor((a + 4) / 0.1) + Math.floor((b + 4) / 0.1)) % 2;
    // side faces: edges included; the vertical edges are shared (sampled once, by the x faces).
    // Sides start one row above the ground: a splat centred at z = 0 would hang half below the
    // floor (outside the true shape) and blend into the ground layer.
    for (const sx of [-1, 1]) for (const v of span(hy, step)) for (const z of span(hz, step).slice(1)) push([sx * hx, v, z + hz], [sx, 0, 0], chk(v, z));
    for (const sy of [-1, 1]) for (const u of span(hx, step).slice(1, -1)) for (const z of span(hz, step).slice(1)) push([u, sy * hy, z + hz], [0, sy, 0], chk(u, z));
    for (const u of span(hx, step).slice(1, -1)) for (const v of span(hy, step).slice(1, -1)) push([u, v, 2 * hz], [0, 0, 1], chk(u, v));
  } else if (s.kind === 'sphere') {
    const r = s.radius!;
    const rings = Math.max(4, Math.ceil((Math.PI * r) / step));
    for (let i = 0; i <= rings; i++) {
      const lat = -Math.PI / 2 + (Math.PI * i) / rings;
      const ringR = r * Math.cos(lat);
      // multiples of 48 longitudes so the equator holds the exact ±x, ±y extremes (and 7.5° steps)
      const m = i === 0 || i === rings ? 1 : Math.max(48, 48 * Math.ceil((2 * Math.PI * ringR) / step / 48));
      for (let k = 0; k < m; k++) {
        const lon = (2 * Math.PI * k) / m;
        const n: Vec3 = [Math.cos(lat) * Math.cos(lon), Math.cos(lat) * Math.sin(lon), Math.sin(lat)];
        push([r * n[0], r * n[1], r + r * n[2]], n, Math.floor((lat + Math.PI / 2) / (Math.PI / 8)) % 2);
      }
    }
  } else {
    const r = s.radius!, h = s.height!;
    const m = Math.max(48, 48 * Math.ceil((2 * Math.PI * r) / step / 48));
    for (const z of span(h / 2, step).slice(1)) {
      for (let k = 0; k < m; k++) {
        const a = (2 * Math.PI * k) / m;
        push([r * Math.cos(a), r * Math.sin(a), z + h / 2], [Math.cos(a), Math.sin(a), 0], Math.floor((z + h / 2) / 0.08) % 2);
      }
    }
    // top cap: concentric rings inside the rim
    const rings = Math.max(1, Math.ceil(r / step));
    for (let i = 0; i < rings; i++) {
      const rr = (r * i) / rings;
      const mm = i === 0 ? 1 : Math.max(6, Math.round((2 * Math.PI * rr) / step));
      for (let k = 0; k < mm; k++) {
        const a = (2 * Math.PI * k) / mm;
        push([rr * Math.cos(a), rr * Math.sin(a), h], [0, 0, 1], i % 2);
      }
    }
  }
  return out;
}

/** Exact closed triangle mesh of the shape in world coordinates (sphere/cylinder: `segments` around). */
export function shapeMesh(s: ShapeSpec, segments = 64): TriMesh {
  const V: number[] = [], F: number[] = [];
  const v = (p: Vec3) => (V.push(...place(s, p)), V.length / 3 - 1);
  if (s.kind === 'box') {
    const [hx, hy, hz] = [s.size![0] / 2, s.size![1] / 2, s.size![2]];
    const c = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => v([i & 1 ? hx : -hx, i & 2 ? hy : -hy, i & 4 ? hz : 0]));
    const quads = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]];
    for (const q of quads) F.push(c[q[0]!]!, c[q[1]!]!, c[q[2]!]!, c[q[0]!]!, c[q[2]!]!, c[q[3]!]!);
  } else if (s.kind === 'sphere') {
    const r = s.radius!, rings = segments / 2;
    const bottom = v([0, 0, 0]);
    const grid: number[][] = [];
    for (let i = 1; i < rings; i++) {
      const lat = -Math.PI / 2 + (Math.PI * i) / rings;
      grid.push(Array.from({ length: segments }, (_, k) => {
        const lon = (2 * Math.PI * k) / segments;
        return v([r * Math.cos(lat) * Math.cos(lon), r * Math.cos(lat) * Math.sin(lon), r + r * Math.sin(lat)]);
      }));
    }
    const top = v([0, 0, 2 * r]);
    for (let k = 0; k < segments; k++) {
      const k1 = (k + 1) % segments;
      F.push(bottom, grid[0]![k1]!, grid[0]![k]!);
      for (let i = 0; i + 1 < grid.length; i++) F.push(grid[i]![k]!, grid[i]![k1]!, grid[i + 1]![k1]!, grid[i]![k]!, grid[i + 1]![k1]!, grid[i + 1]![k]!);
      F.push(top, grid[grid.length - 1]![k]!, grid[grid.length - 1]![k1]!);
    }
  } else {
    const r = s.radius!, h = s.height!;
    const b0 = v([0, 0, 0]), t0 = v([0, 0, h]);
    const lo: number[] = [], hi: number[] = [];
    for (let k = 0; k < segments; k++) {
      const a = (2 * Math.PI * k) / segments;
      lo.push(v([r * Math.cos(a), r * Math.sin(a), 0]));
      hi.push(v([r * Math.cos(a), r * Math.sin(a), h]));
    }
    for (let k = 0; k < segments; k++) {
      const k1 = (k + 1) % segments;
      F.push(b0, lo[k1]!, lo[k]!, t0, hi[k]!, hi[k1]!, lo[k]!, lo[k1]!, hi[k1]!, lo[k]!, hi[k1]!, hi[k]!);
    }
  }
  return { positions: Float32Array.from(V), indices: Uint32Array.from(F) };
}

/** Wavefront OBJ text of a mesh (1-based indices). */
export function meshToObj(m: TriMesh, name: string): string {
  const lines = [`# r2s synthetic object ${name} (metres, z up)`, `o ${name}`];
  for (let i = 0; i < m.positions.length; i += 3) lines.push(`v ${m.positions[i]!.toFixed(6)} ${m.positions[i + 1]!.toFixed(6)} ${m.positions[i + 2]!.toFixed(6)}`);
  for (let i = 0; i < m.indices.length; i += 3) lines.push(`f ${m.indices[i]! + 1} ${m.indices[i + 1]! + 1} ${m.indices[i + 2]! + 1}`);
  return lines.join('\n') + '\n';
}
