/**
 * Mesh extraction end to end on Gaussian shapes with exact meshes (a box and a sphere sampled on
 * their surfaces, in a Z-up scene in units of 0.5 m): accuracy of mesh.glb against the true mesh in
 * the asset frame, extents, pivot, glTF validity and a physics drop of the colliders.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractAsset } from '../src/assets/extract.js';
import { meshAccuracy } from '../src/assets/mesh/metrics.js';
import { boxShape, sphereShape, type Shape } from '../src/assets/mesh/test-shapes.js';
import { meshBounds, transformMesh } from '../src/assets/mesh/types.js';
import { dropOnPlane, readGlbMeshes, validateGlb } from './assets-fixtures.js';

const FACTOR = 0.5; // metres per scene unit
let lib: string;
const shapes: Record<string, Shape> = { box: boxShape(2.0, 1.2, 1.6, 30000), sphere: sphereShape(0.8, 30000) };
const results: Record<string, { dir: string; truth: ReturnType<typeof transformMesh>; extents: number[] }> = {};

beforeAll(async () => {
  lib = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-assets-mesh-'));
  for (const [name, s] of Object.entries(shapes)) {
    const indices = Int32Array.from({ length: s.params.count }, (_, i) => i);
    const { record, dir } = await extractAsset({
      params: s.params, shDegree: 0, indices,
      frame: { up: [0, 0, 1], scale: 'metric', method: 'given-cameras', factor: FACTOR },
      library: lib, name, source: { capture: 'synthetic', contentHash: name },
      options: { splatsGlb: false },
    });
    const T = record.sceneToAsset;
    // true mesh in the asset frame: x' = s·R·x + t = s·R·(x − c) with c = −Rᵀt/s
    const c = [0, 1, 2].map((k) => -(T.R[k]! * T.t[0] + T.R[3 + k]! * T.t[1] + T.R[6 + k]! * T.t[2]) / T.s);
    results[name] = { dir, truth: transformMesh(s.mesh, T.R, T.s, c), extents: record.extentsM };
  }
}, 300_000);

afterAll(async () => { await fs.rm(lib, { recursive: true, force: true }); });

describe.each(Object.keys(shapes))('%s', (name) => {
  it('mesh within 1 % Chamfer and F-score ≥ 0.9 at 1 % of the diagonal', async () => {
    const { dir, truth } = results[name]!;
    const [mesh] = await readGlbMeshes(await fs.readFile(path.join(dir, 'mesh.glb')));
    const b = meshBounds(truth);
    const diag = Math.hypot(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]);
    const acc = meshAccuracy(mesh!.mesh, truth, 0.01 * diag);
    console.log(`${name}: chamfer ${(100 * acc.chamfer / diag).toFixed(3)} % of diagonal, F@1% ${acc.fscore.toFixed(3)} (P ${acc.precision.toFixed(3)}, R ${acc.recall.toFixed(3)})`);
    expect(acc.chamfer).toBeLessThanOrEqual(0.01 * diag);
    expect(acc.fscore).toBeGreaterThanOrEqual(0.9);
  });

  it('extents within 2 %, pivot at the bottom centre on the ground', () => {
    const { truth, extents } = results[name]!;
    const b = meshBounds(truth);
    const ext = [0, 1, 2].map((a) => b.max[a]! - b.min[a]!);
    console.log(`${name}: extents ${extents.map((e) => e.toFixed(4))} vs true ${ext.map((e) => e.toFixed(4))}, true bottom y ${b.min[1].toExponential(2)}`);
    for (let a = 0; a < 3; a++) expect(Math.abs(extents[a]! / ext[a]! - 1)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(b.min[1])).toBeLessThanOrEqual(0.001);
    expect(Math.abs(b.min[0] + b.max[0]) / 2).toBeLessThanOrEqual(0.005);
    expect(Math.abs(b.min[2] + b.max[2]) / 2).toBeLessThanOrEqual(0.005);
  });

  it('mesh.glb, LODs and collision.glb pass gltf-validator', async () => {
    const { dir } = results[name]!;
    for (const f of ['mesh.glb', 'mesh_lod1.glb', 'mesh_lod2.glb', 'collision.glb']) {
      const r = await validateGlb(await fs.readFile(path.join(dir, f)));
      expect(r.messages, f).toEqual([]);
      expect(r.numErrors).toBe(0);
    }
  });

  it('colliders dropped on a plane rest upright with their bottom at 0 ± 1 cm', async () => {
    const { dir } = results[name]!;
    const parts = await readGlbMeshes(await fs.readFile(path.join(dir, 'collision.glb')), 'part_');
    expect(parts.length).toBeGreaterThan(0);
    const r = await dropOnPlane(parts.map((p) => p.mesh.positions));
    console.log(`${name}: ${parts.length} convex parts, rest up·Y ${r.up.toFixed(4)}, bottom ${(r.bottom * 1000).toFixed(2)} mm`);
    expect(r.up).toBeGreaterThan(0.99);
    expect(Math.abs(r.bottom)).toBeLessThanOrEqual(0.01);
  });
});
