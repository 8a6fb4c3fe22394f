/**
 * Marching cubes over a scalar grid (Lorensen & Cline with Bourke's tables, imported from three.js
 * rather than copied). Vertices on grid edges are shared between cubes (one per edge), so the
 * output is welded: connected components and the simplifier see a proper manifold where the field
 * is. Cubes touching an unobserved voxel (weight 0) emit nothing, so the edge of what the cameras
 * saw does not close into a spurious wall.
 */
import { edgeTable, triTable } from 'three/examples/jsm/objects/MarchingCubes.js';
import type { TriMesh } from './types.js';

export interface Grid {
  /** voxels per axis */
  nx: number;
  ny: number;
  nz: number;
  /** world position of voxel (0,0,0) */
  origin: [number, number, number];
  /** voxel edge length */
  voxel: number;
  /** field values, x fastest: index = x + nx·(y + ny·z); negative inside */
  values: Float32Array;
  /** observation weight per voxel; 0 = unknown */
  weights?: Float32Array;
}

// Bourke's corner order: bit i of the cube index is corner i.
const CORNERS = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]] as const;
const EDGES = [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]] as const;

/** Extract the `iso` level set; triangles wind counter-clockwise seen from the positive side. */
export function marchingCubes(g: Grid, iso = 0): TriMesh {
  const { nx, ny, nz, values: f, weights: w } = g;
  const sx = 1, sy = nx, sz = nx * ny;
  const cornerOff = CORNERS.map(([a, b, c]) => a * sx + b * sy + c * sz);
  // Edge key: voxel index of the edge's lower corner × 3 + axis.
  const edgeVert = new Map<number, number>();
  const pos: number[] = [];
  const tris: number[] = [];
  const val = new Float64Array(8);
  const ev = new Int32Array(12);
  const vertexOn = (q: number, e: number): number => {
    const [c0, c1] = EDGES[e]!;
    const a = CORNERS[c0]!, b = CORNERS[c1]!;
    const axis = a[0] !== b[0] ? 0 : a[1] !== b[1] ? 1 : 2;
    const lo = a[axis]! < b[axis]! ? c0 : c1;
    const key = (q + cornerOff[lo]!) * 3 + axis;
    const hit = edgeVert.get(key);
    if (hit !== undefined) return hit;
    const va = val[c0]!, vb = val[c1]!;
    const t = va === vb ? 0.5 : (iso - va) / (vb - va);
    const x = q % nx, y = Math.floor(q / nx) % ny, z = Math.floor(q / sz);
    const id = pos.length / 3;
    pos.push(
      g.origin[0] + g.voxel * (x + a[0] + t * (b[0] - a[0])),
      g.origin[1] + g.voxel * (y + a[1] + t * (b[1] - a[1])),
      g.origin[2] + g.voxel * (z + a[2] + t * (b[2] - a[2])),
    );
    edgeVert.set(key, id);
    return id;
  };
  for (let z = 0; z < nz - 1; z++) {
    for (let y = 0; y < ny - 1; y++) {
      for (let x = 0; x < nx - 1; x++) {
        const q = x + sy * y + sz * z;
        let idx = 0, unknown = false;
        for (let c = 0; c < 8; c++) {
          const o = q + cornerOff[c]!;
          if (w && w[o] === 0) { unknown = true; break; }
          const v = f[o]!;
          val[c] = v;
          if (v < iso) idx |= 1 << c;
        }
        if (unknown) continue;
        const bits = edgeTable[idx]!;
        if (bits === 0) continue;
        for (let e = 0; e < 12; e++) if (bits & (1 << e)) ev[e] = vertexOn(q, e);
        const base = idx * 16;
        for (let k = 0; triTable[base + k] !== -1; k += 3) {
          // Bourke's winding faces the inside (value < iso); flip to face the positive side.
          tris.push(ev[triTable[base + k]!]!, ev[triTable[base + k + 2]!]!, ev[triTable[base + k + 1]!]!);
        }
      }
    }
  }
  return { positions: Float32Array.from(pos), indices: Uint32Array.from(tris) };
}
