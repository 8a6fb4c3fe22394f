/**
 * Asset extraction timing: a whole extract (splats, TSDF mesh with LODs, colliders, thumbnail,
 * catalog) of a 100k- and a 1M-Gaussian cut (Gaussians sampled on a box's surface: a real mesh to
 * find, unlike uniform noise). Writes key "extract" of bench/assets.json (read-modify-write: the
 * selection benchmark owns key "select"). `R2S_BENCH_SIZES=100000` limits the sizes.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractAsset } from '../src/assets/extract.js';
import { boxShape } from '../src/assets/mesh/test-shapes.js';
import { defaultBackend } from '../src/assets/mesh/render.js';
import { withLock } from '../src/assets/library/lock.js';
import { writeJsonAtomic } from '../src/util/fsx.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sizes = (process.env.R2S_BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
const backend = await defaultBackend();
const runs: Record<string, unknown>[] = [];
for (const n of sizes) {
  const s = boxShape(1.2, 0.8, 0.9, n, 7);
  const lib = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-bench-assets-'));
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  const t0 = performance.now();
  const { record } = await extractAsset({
    params: s.params, shDegree: 0, indices: Int32Array.from({ length: s.params.count }, (_, i) => i),
    frame: { up: [0, 0, 1], scale: 'metric', method: 'given-cameras', factor: 1 },
    library: lib, name: `bench-${n}`, source: { capture: 'bench', contentHash: String(n) },
    options: { backend },
  });
  const wall = (performance.now() - t0) / 1000;
  clearInterval(timer);
  const run = { gaussians: n, wallS: +wall.toFixed(2), peakRssMiB: Math.round(peak / 2 ** 20), triangles: record.counts.triangles, collisionParts: record.counts.collisionParts, stagesS: Object.fromEntries(Object.entries(record.timings).map(([k, v]) => [k, +v.toFixed(2)])) };
  console.error(JSON.stringify(run));
  runs.push(run);
  await fs.rm(lib, { recursive: true, force: true });
}
const file = path.join(here, 'assets.json');
await withLock(here, async () => {
  const cur = JSON.parse(await fs.readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  cur.extract = {
    machine: `${os.cpus().length} cores, ${backend.name}`, target: '≤ 60 s for 1M Gaussians', date: new Date().toISOString(),
    note: 'whole cut meshed: 32 orbit/low views of 192 px rendered, TSDF 160 voxels on the long side, LOD0 20k triangles, V-HACD 16 pieces',
    runs,
  };
  await writeJsonAtomic(file, cur);
});
