import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { writeObjectsWorkspace, shapeMesh, OBJECT_SPECS, OBJECTS_TRUTH_FILE, type ObjectsTruthFile } from '../src/synthetic/objects.js';
import { readColmapModel } from '../src/io/colmap.js';
import { readFrameUp } from '../src/assets/select/frame.js';

/** Signed volume of a closed triangle mesh (positive when faces wind counter-clockwise outside). */
function volume(m: { positions: Float32Array; indices: Uint32Array }): number {
  let v = 0;
  const p = (i: number) => [m.positions[3 * i]!, m.positions[3 * i + 1]!, m.positions[3 * i + 2]!];
  for (let f = 0; f < m.indices.length; f += 3) {
    const [a, b, c] = [p(m.indices[f]!), p(m.indices[f + 1]!), p(m.indices[f + 2]!)];
    v += (a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) - a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) + a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!)) / 6;
  }
  return v;
}

describe('synthetic three-object scene', () => {
  it('exact meshes: closed, outward, with the analytic volumes and extents', () => {
    for (const s of OBJECT_SPECS) {
      const m = shapeMesh(s, 128);
      const want = s.kind === 'box' ? s.size![0] * s.size![1] * s.size![2] : s.kind === 'sphere' ? (4 / 3) * Math.PI * s.radius! ** 3 : Math.PI * s.radius! ** 2 * s.height!;
      expect(volume(m) / want, s.name).toBeGreaterThan(0.995);
      expect(volume(m) / want, s.name).toBeLessThan(1.0001);
      let zmin = Infinity, zmax = -Infinity;
      for (let i = 2; i < m.positions.length; i += 3) { zmin = Math.min(zmin, m.positions[i]!); zmax = Math.max(zmax, m.positions[i]!); }
      expect(zmin).toBeCloseTo(0, 6);
    }
  });

  it('writes a workspace: images, sparse (exact cameras, points, frame up), masks, meshes, truth', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'r2s-objects-'));
    const { capture } = await writeObjectsWorkspace(root, { views: 6, size: 96 });
    const truth = JSON.parse(readFileSync(path.join(root, OBJECTS_TRUTH_FILE), 'utf8')) as ObjectsTruthFile;
    expect(truth.objects.map((o) => o.name)).toEqual(['box', 'sphere', 'cylinder']);
    expect(truth.objects[0]!.extents).toEqual([0.5, 0.36, 0.42]);
    expect(readFrameUp(root)).toEqual([0, 0, 1]);
    const model = await readColmapModel(path.join(root, 'sparse'));
    expect(model.images.size).toBe(6);
    expect(model.points3D.size).toBeGreaterThan(1000);
    const k = capture.intrinsics;
    for (const o of truth.objects) {
      expect(existsSync(path.join(root, o.mesh))).toBe(true);
      for (const v of capture.views) {
        for (const dir of [o.masks, o.amodalMasks]) {
          const meta = await sharp(path.join(root, dir, v.name)).metadata();
          expect([meta.width, meta.height]).toEqual([k.width, k.height]);
        }
      }
    }
    // visible ⊆ amodal (up to antialiased edges), and every object is seen in some view
    capture.scene.objects.forEach((_, j) => {
      let vis = 0, outside = 0;
      for (const v of capture.views) for (let p = 0; p < v.visible[j]!.length; p++) if (v.visible[j]![p]) { vis++; if (!v.amodal[j]![p]) outside++; }
      expect(vis).toBeGreaterThan(100);
      expect(outside / vis).toBeLessThan(0.01);
    });
  });
});
