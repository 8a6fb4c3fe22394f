/**
 * Simplification to a triangle budget and levels of detail with meshoptimizer (quadric edge
 * collapse; the topology-preserving simplifier first, the sloppy one only when a budget cannot
 * be met otherwise).
 */
import { MeshoptSimplifier } from 'meshoptimizer';
import { compact } from './clean.js';
import type { TriMesh } from './types.js';

export interface SimplifyOptions {
  /** LOD0 triangle budget (default 20000) */
  maxTriangles: number;
  /** further LODs as fractions of LOD0's triangles (default [0.25, 0.0625]) */
  lodRatios: number[];
  /** largest geometric error allowed, relative to the mesh extent (default 0.01) */
  maxRelativeError: number;
}

export const defaultSimplifyOptions: SimplifyOptions = { maxTriangles: 20000, lodRatios: [0.25, 0.0625], maxRelativeError: 0.01 };

export async function simplifyTo(m: TriMesh, targetTriangles: number, relError: number): Promise<TriMesh> {
  if (m.indices.length / 3 <= targetTriangles) return m;
  await MeshoptSimplifier.ready;
  let idx = m.indices;
  // The error bound is a quality cap; relax it step by step only when the budget demands.
  for (const e of [relError, relError * 4, 1]) {
    [idx] = MeshoptSimplifier.simplify(m.indices, m.positions, 3, targetTriangles * 3, e, []);
    if (idx.length / 3 <= targetTriangles * 1.05) break;
  }
  if (idx.length / 3 > targetTriangles * 1.05) {
    // Topology kept it above budget: allow a coarser, sloppy pass (may merge nearby parts).
    [idx] = MeshoptSimplifier.simplifySloppy(m.indices, m.positions, 3, null, targetTriangles * 3, relError * 4);
  }
  return compact({ ...m, indices: idx });
}

/** LOD0 at the budget, then each ratio of LOD0 (each LOD simplified from the full mesh). */
export async function buildLods(m: TriMesh, o: SimplifyOptions = defaultSimplifyOptions): Promise<TriMesh[]> {
  const lod0 = await simplifyTo(m, o.maxTriangles, o.maxRelativeError);
  const lods = [lod0];
  const n0 = lod0.indices.length / 3;
  for (const r of o.lodRatios) lods.push(await simplifyTo(m, Math.max(12, Math.floor(n0 * r)), o.maxRelativeError * 4));
  return lods;
}
