/** compose: placements from the CLI syntax and arrangement files, combined splats and glTF scene. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { NodeIO } from '@gltf-transform/core';
import { composeScene, parseArrangement, parsePlacement } from '../src/assets/compose.js';
import { extractAsset } from '../src/assets/extract.js';
import { readGaussianPly } from '../src/io/ply.js';
import { boxShape } from '../src/assets/mesh/test-shapes.js';
import { validateGlb } from './assets-fixtures.js';

it('places two copies of an asset and writes .ply, .spz and a valid .glb', async () => {
  const lib = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-assets-compose-'));
  const s = boxShape(0.5, 0.5, 0.5, 3000);
  const { record } = await extractAsset({
    params: s.params, shDegree: 0, indices: Int32Array.from({ length: s.params.count }, (_, i) => i),
    frame: { up: [0, 0, 1], scale: 'metric', method: 'user-measurement', factor: 1 }, library: lib, name: 'cube',
    source: { capture: 'synthetic', contentHash: 'c' },
    options: { meshOptions: { views: { size: 96, orbit: 12, elevationsDeg: [20, 50], maxCapture: 0, distance: 2.5, low: 4 } } },
  });
  const placements = [parsePlacement(`${record.id}@1,0,0,90,2`), ...parseArrangement({ version: 1, items: [{ assetId: record.id, position: [-1, 0, 0], quaternion: [0, 0, 0, 1], scale: [1, 1, 1] }] })];
  expect(parseArrangement({ kind: 'r2s.arrangement', version: 1, placements: [{ asset: 'a', position: [0, 0, 0], yaw: 0, scale: 1 }] })).toHaveLength(1);
  const out = path.join(lib, 'out', 'scene');
  const res = await composeScene({ library: lib, placements, out });
  expect(res.gaussians).toBe(2 * s.params.count);
  const ply = await readGaussianPly(res.files.ply);
  let minX = Infinity, maxX = -Infinity;
  for (let i = 0; i < ply.params.count; i++) { minX = Math.min(minX, ply.params.means[3 * i]!); maxX = Math.max(maxX, ply.params.means[3 * i]!); }
  expect(maxX).toBeCloseTo(1 + 0.5, 1); // scaled ×2, yawed 90°: x half-extent 0.5
  expect(minX).toBeCloseTo(-1 - 0.25, 1);
  const glb = await fs.readFile(res.files.glb);
  expect((await validateGlb(glb)).numErrors).toBe(0);
  const doc = await new NodeIO().readBinary(glb);
  expect(doc.getRoot().listScenes()[0]!.listChildren()).toHaveLength(2);
  await fs.rm(lib, { recursive: true, force: true });
}, 120_000);
