/**
 * convexDecomposition: a near-convex mesh is its own hull (one piece, no V-HACD); a mesh far from
 * convex (two cubes apart) still splits.
 */
import { describe, expect, it } from 'vitest';
import { convexDecomposition } from '../src/assets/export/collision.js';
import type { TriMesh } from '../src/assets/mesh/types.js';

/** Closed cube of side s at offset o (outward winding). */
function cube(s: number, o: [number, number, number] = [0, 0, 0]): TriMesh {
  const P: number[] = [];
  for (let k = 0; k < 8; k++) P.push(o[0] + s * (k & 1), o[1] + s * ((k >> 1) & 1), o[2] + s * ((k >> 2) & 1));
  const I = [0, 2, 1, 1, 2, 3, 4, 5, 6, 5, 7, 6, 0, 1, 4, 1, 5, 4, 2, 6, 3, 3, 6, 7, 0, 4, 2, 2, 4, 6, 1, 3, 5, 3, 7, 5];
  return { positions: Float32Array.from(P), indices: Uint32Array.from(I) };
}

function merge(a: TriMesh, b: TriMesh): TriMesh {
  const n = a.positions.length / 3;
  return { positions: Float32Array.from([...a.positions, ...b.positions]), indices: Uint32Array.from([...a.indices, ...Array.from(b.indices, (i) => i + n)]) };
}

describe('convexDecomposition', () => {
  it('returns the hull alone for a convex mesh', async () => {
    const parts = await convexDecomposition(cube(1));
    expect(parts.length).toBe(1);
    const p = parts[0]!.positions;
    for (let a = 0; a < 3; a++) {
      const xs = Array.from({ length: p.length / 3 }, (_, v) => p[3 * v + a]!);
      expect(Math.min(...xs)).toBeCloseTo(0, 5);
      expect(Math.max(...xs)).toBeCloseTo(1, 5);
    }
  });

  it('splits a mesh far from convex', async () => {
    const parts = await convexDecomposition(merge(cube(1), cube(1, [3, 0, 0])));
    expect(parts.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
