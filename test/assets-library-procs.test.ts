/** Two extract processes at once on one library: catalog.json stays valid and holds both. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { readCatalog } from '../src/assets/library/catalog.js';

it('two processes extracting concurrently', async () => {
  const lib = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-assets-procs-'));
  const script = path.join(lib, '..', `r2s-extract-${process.pid}.mts`);
  await fs.writeFile(script, `
import { extractAsset } from '${path.resolve('src/assets/extract.ts')}';
import { boxShape } from '${path.resolve('src/assets/mesh/test-shapes.ts')}';
const s = boxShape(1, 1, 1, 3000);
for (let k = 0; k < 4; k++) await extractAsset({ params: s.params, shDegree: 0, indices: Int32Array.from({ length: 1000 + k }, (_, i) => i),
  frame: { up: [0, 0, 1], scale: 'arbitrary', method: 'none', factor: 1 }, library: process.argv[2], name: process.argv[3] + k,
  source: { capture: 'p', contentHash: process.argv[3] }, options: { mesh: false, thumbnail: false, splatsGlb: false } });
`);
  const run = (name: string) => promisify(execFile)(process.execPath, ['--import', 'tsx', script, lib, name]);
  await Promise.all([run('a'), run('b')]);
  const cat = await readCatalog(lib);
  expect(cat.assets.length).toBe(8);
  await fs.rm(lib, { recursive: true, force: true });
  await fs.rm(script, { force: true });
}, 120_000);
