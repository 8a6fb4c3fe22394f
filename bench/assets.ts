/**
 * Asset extraction timing: a whole extract (splats, TSDF mesh with LODs, colliders, thumbnail,
 * catalog) of a 100k- and a 1M-Gaussian cut (Gaussians sampled on a box's surface: a real mesh to
 * find, unlike uniform noise), with the mesh's accuracy against the true box (so a faster setting
 * that loses the surface shows here) and the machine's load average (other jobs share the CPU).
 * Writes key "extract" of bench/assets.json (read-modify-write: the selection benchmark owns key
 * "select"). `R2S_BENCH_SIZES=100000` limits the sizes.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeIO } from '@gltf-transform/core';
import { extractAsset } from '../src/assets/extract.js';
import { meshAccuracy } from '../src/assets/mesh/metrics.js';
import { meshBounds, transformMesh, type TriMesh } from '../src/assets/mesh/types.js';
import { boxShape } from '../src/assets/mesh/test-shapes.js';
import { defaultBackend } from '../src/assets/mesh/render.js';
import { withLock } from '../src/assets/library/lock.js';
import { writeJsonAtomic } from '../src/util/fsx.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sizes = (process.env.R2S_BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
const backend = await defaultBackend();
const runs: Record<string, unknown>[] = [];

/** LOD0 of mesh.glb (the first primitive). */
async function readMesh(file: string): Promise<TriMesh> {
  const doc = await new NodeIO().read(file);
  const p = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
  return { positions: Float32Array.from(p.getAttribute('POSITION')!.getArray()!), indices: Uint32Array.from(p.getIndices()!.getArray()!) };
}

for (const n of sizes) {
  const s = boxShape(1.2, 0.8, 0.9, n, 7);
  const lib = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-bench-assets-'));
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  const load0 = os.loadavg()[0];
  const t0 = performance.now();
  const { record, dir } = await extractAsset({
    params: s.params, shDegree: 0, indices: Int32Array.from({ length: s.params.count }, (_, i) => i),
    frame: { up: [0, 0, 1], scale: 'metric', method: 'given-cameras', factor: 1 },
    library: lib, name: `bench-${n}`, source: { capture: 'bench', contentHash: String(n) },
    options: { backend },
  });
  const wall = (performance.now() - t0) / 1000;
  clearInterval(timer);
  const load1 = os.loadavg()[0];
  // the true box in the asset frame: x' = s·R·(x − c) with c = −Rᵀt/s
  const T = record.sceneToAsset;
  const c = [0, 1, 2].map((k) => -(T.R[k]! * T.t[0] + T.R[3 + k]! * T.t[1] + T.R[6 + k]! * T.t[2]) / T.s);
  const truth = transformMesh(s.mesh, T.R, T.s, c);
  const b = meshBounds(truth), diag = Math.hypot(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]);
  const acc = meshAccuracy(await readMesh(path.join(dir, 'mesh.glb')), truth, 0.01 * diag);
  const run = {
    gaussians: n, wallS: +wall.toFixed(2), peakRssMiB: Math.round(peak / 2 ** 20), loadAvg1m: [+load0.toFixed(2), +load1.toFixed(2)],
    chamferPctDiag: +((100 * acc.chamfer) / diag).toFixed(3), fscore1pct: +acc.fscore.toFixed(3),
    triangles: record.counts.triangles, collisionParts: record.counts.collisionParts, stagesS: Object.fromEntries(Object.entries(record.timings).map(([k, v]) => [k, +v.toFixed(2)])) };
  console.error(JSON.stringify(run));
  runs.push(run);
  await fs.rm(lib, { recursive: true, force: true });
}
const file = path.join(here, 'assets.json');
await withLock(here, async () => {
  const cur = JSON.parse(await fs.readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  cur.extract = {
    machine: `${os.cpus().length} cores, ${backend.name}`, target: '≤ 60 s for 1M Gaussians', date: new Date().toISOString(),
    note: 'whole cut meshed: 20 orbit/low views of 192 px rendered (sub-pixel Gaussians thinned and widened to σ = ½ px first, coarsen.ts: 1M → about 0.1M drawn), TSDF 160 voxels on the long side, LOD0 20k triangles, colliders from V-HACD (≤ 16 pieces, 50k voxels; the hull alone when the mesh fills ≥ 97 % of it); chamferPctDiag / fscore1pct: LOD0 against the true box; loadAvg1m: 1-minute load average before / after on this 2-core machine (other jobs running)',
    runs,
  };
  await writeJsonAtomic(file, cur);
});
