/**
 * Colliders: the convex hull and a convex decomposition (V-HACD through vhacd-js, which works
 * under Node 20 but ships no "main"/"exports", hence the deep import). Hulls come from
 * manifold-3d: quickhull3d 3.1 cannot be loaded by Node's ESM loader (its dist imports
 * './QuickHull' without an extension), so vitest and plain node fail on it.
 * Pieces are taken on a coarse LOD: colliders need the shape, not the detail.
 */
import Module from 'manifold-3d';
import { ConvexMeshDecomposition } from 'vhacd-js/lib/vhacd.js';
import { compact } from '../mesh/clean.js';
import type { TriMesh } from '../mesh/types.js';

export interface CollisionOptions {
  /** most convex pieces (default 16) */
  maxHulls: number;
  /**
   * a mesh filling at least this fraction of its convex hull's volume is near-convex: its hull is
   * the one piece, and V-HACD (seconds to tens of seconds) is skipped (default 0.97)
   */
  convexVolumeRatio: number;
  /**
   * V-HACD voxel count (default 50000: half the time of 100000 — 13 vs 26 s for a 1 m box on a
   * loaded 2-core machine — with the same 16 pieces; the pieces are shrink-wrapped onto the mesh)
   */
  voxelResolution: number;
  /** vertices per piece (default 64) */
  maxVerticesPerHull: number;
}

export const defaultCollisionOptions: CollisionOptions = { maxHulls: 16, convexVolumeRatio: 0.97, voxelResolution: 50000, maxVerticesPerHull: 64 };

let manifold: Promise<Awaited<ReturnType<typeof Module>>> | null = null;

async function manifoldApi() {
  manifold ??= Module().then((w) => { w.setup(); return w; });
  return manifold;
}

/** Convex hull of a point set (counter-clockwise seen from outside). */
export async function convexHull(points: ArrayLike<number>): Promise<TriMesh> {
  const { Manifold } = await manifoldApi();
  const pts: [number, number, number][] = [];
  for (let i = 0; i < points.length; i += 3) pts.push([points[i]!, points[i + 1]!, points[i + 2]!]);
  const h = Manifold.hull(pts);
  const m = h.getMesh();
  const P = new Float32Array((m.vertProperties.length / m.numProp) * 3);
  for (let v = 0; v < P.length / 3; v++) for (let a = 0; a < 3; a++) P[3 * v + a] = m.vertProperties[v * m.numProp + a]!;
  const out = compact({ positions: P, indices: Uint32Array.from(m.triVerts) });
  h.delete();
  return out;
}

let decomposer: Promise<ConvexMeshDecomposition> | null = null;

/** |signed volume| of a closed triangle mesh (divergence theorem: Σ a·(b×c) / 6). */
function meshVolume(m: TriMesh): number {
  const p = m.positions, I = m.indices;
  let v = 0;
  for (let t = 0; t < I.length; t += 3) {
    const a = 3 * I[t]!, b = 3 * I[t + 1]!, c = 3 * I[t + 2]!;
    v += p[a]! * (p[b + 1]! * p[c + 2]! - p[b + 2]! * p[c + 1]!) - p[a + 1]! * (p[b]! * p[c + 2]! - p[b + 2]! * p[c]!) + p[a + 2]! * (p[b]! * p[c + 1]! - p[b + 1]! * p[c]!);
  }
  return Math.abs(v) / 6;
}

export async function convexDecomposition(m: TriMesh, o: CollisionOptions = defaultCollisionOptions): Promise<TriMesh[]> {
  const hull = await convexHull(m.positions);
  const hv = meshVolume(hull);
  if (hv > 0 && meshVolume(m) >= o.convexVolumeRatio * hv) return [hull];
  decomposer ??= ConvexMeshDecomposition.create();
  const d = await decomposer;
  const hulls = d.computeConvexHulls({ positions: Float64Array.from(m.positions), indices: m.indices }, {
    maxHulls: o.maxHulls,
    voxelResolution: o.voxelResolution,
    maxVerticesPerHull: o.maxVerticesPerHull,
  });
  // re-hull each piece with quickhull: consistent outward winding and no stray interior points
  return Promise.all(hulls.filter((h) => h.positions.length >= 12).map((h) => convexHull(h.positions)));
}
