/**
 * Asset extraction timing: a whole extract (splats, TSDF mesh with LODs, colliders, thumbnail,
 * catalog) of a 100k- and a 1M-Gaussian cut (Gaussians sampled on a box's surface: a real mesh to
 * find, unlike uniform noise), with the mesh's accuracy against the true box (so a faster setting
 * that loses the surface shows here) and the machine's load average (other jobs share the CPU).
 * Writes key "extract" of bench/assets.json (read-modify-write: the selection benchmark owns key
 * "select"). `R2S_BENCH_SIZES=100000` limits the sizes.
 *
 * Other cases, run one at a time with `R2S_BENCH_CASE` (each writes its own key):
 *  - `texture` (key "texture"): textured vs vertex-coloured mesh at the same triangle count, drawn
 *    at held-out views against the splats' render there: the synthetic checker box (as
 *    test/assets-texture) at the default LODs, and moldGoldCape when `R2S_MOLD_WS` names a trained
 *    workspace of it (sparse/ with the reference cameras, scene/splats.ply): the cape is cut by its
 *    masks (every 10th view, liftMasks + cleanCut), meshed with every other photo's viewpoint,
 *    and drawn from the remaining photos' viewpoints.
 *  - `temple-auto` (key "autoNoFloor"): `r2s extract --auto --all --metric` on the templeRing
 *    workspace `R2S_TEMPLE_WS` (GT cameras imported, trained): number of assets and their extents
 *    against the GT box of gt/README.txt.
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
import { spawnSync } from 'node:child_process';
import { readGaussianPly } from '../src/io/ply.js';
import { readColmapModel } from '../src/io/colmap.js';
import { pinholeOf } from '../src/core/camera.js';
import { defaultRasterOptions, type RasterCamera } from '../src/core/raster.js';
import type { GaussianParams } from '../src/core/gaussians.js';
import { quatToMat } from '../src/geometry/rotation.js';
import { gatherGaussians } from '../src/scene/gaussians.js';
import { trainingSize } from '../src/scene/image-io.js';
import { cleanCut, liftMasks, readObjectMasks, type MaskView } from '../src/assets/select/index.js';
import { assetFrame, rotationUpToY } from '../src/assets/export/frame.js';
import { transformGaussians } from '../src/assets/export/transform-gaussians.js';
import { meshFromGaussians, gaussianBounds } from '../src/assets/mesh/index.js';
import { maskedPsnr, renderMesh } from '../src/assets/mesh/raster-mesh.js';
import { checkerColour } from '../src/assets/mesh/test-shapes.js';
import { captureViews, lookAtCamera } from '../src/assets/mesh/views.js';
import { triangleCount } from '../src/assets/mesh/types.js';
import type { RasterBackend } from '../src/assets/mesh/render.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const benchCase = process.env.R2S_BENCH_CASE ?? 'extract';
if (benchCase === 'texture') { await textureCase(); process.exit(0); }
if (benchCase === 'temple-auto') { await templeAutoCase(); process.exit(0); }
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

/** Read-modify-write one key of bench/assets.json under the library lock. */
async function writeKey(key: string, value: unknown): Promise<void> {
  const file = path.join(here, 'assets.json');
  await withLock(here, async () => {
    const cur = JSON.parse(await fs.readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
    cur[key] = value;
    await writeJsonAtomic(file, cur);
  });
}

/** Mean PSNR of every LOD drawn textured and vertex-coloured at `held` against the splats' render there (pixels both cover). */
async function compareLods(backend: RasterBackend, asset: GaussianParams, shDegree: number, lods: TriMesh[], held: RasterCamera[]): Promise<Record<string, number>[]> {
  const truth: { cam: RasterCamera; rgb: Float32Array; alpha: Float32Array }[] = [];
  for (const cam of held) {
    const pass = await backend.render(asset, cam, { ...defaultRasterOptions, shDegree, background: [0, 0, 0] });
    truth.push({ cam, rgb: Float32Array.from(pass.out.rgb), alpha: Float32Array.from(pass.out.alpha) });
    pass.dispose();
  }
  return lods.map((lod) => {
    let tex = 0, vert = 0;
    for (const h of truth) {
      const a = renderMesh(lod, h.cam, 'texture'), b = renderMesh(lod, h.cam, 'vertex');
      const mask = Float32Array.from(h.alpha, (x, i) => (x > 0.5 && a.alpha[i]! > 0 ? 1 : 0));
      tex += maskedPsnr(a.rgb, h.rgb, mask) / truth.length;
      vert += maskedPsnr(b.rgb, h.rgb, mask) / truth.length;
    }
    return { triangles: triangleCount(lod), textureSide: lod.texture?.width ?? 0, psnrTextured: +tex.toFixed(2), psnrVertexColours: +vert.toFixed(2), gainDb: +(tex - vert).toFixed(2) };
  });
}

async function textureCase(): Promise<void> {
  const backend = await defaultBackend();
  const out: Record<string, unknown> = { machine: `${os.cpus().length} cores, ${backend.name}`, date: new Date().toISOString(),
    protocol: 'each LOD of meshFromGaussians (defaults: LOD0 20k triangles, 1024² texture, shrinking with √triangles) drawn unlit by src/assets/mesh/raster-mesh.ts with its texture and with its vertex colours, at held-out viewpoints, against the splats rendered there; PSNR over the pixels both the splats (alpha > 0.5) and the mesh cover' };
  // synthetic: the checker box of test/assets-texture, default LODs
  {
    const s = boxShape(1.2, 0.8, 0.9, 40000, 3, checkerColour(0.1));
    const params = transformGaussians(s.params, { R: rotationUpToY([0, 0, 1]), s: 1, t: [0, 0, 0] }, undefined, 0);
    const t0 = performance.now();
    const res = await meshFromGaussians(params, backend);
    const seconds = (performance.now() - t0) / 1000;
    const center: [number, number, number] = [0, 0.45, 0], radius = 0.5 * Math.hypot(1.2, 0.8, 0.9);
    const held = Array.from({ length: 6 }, (_, i) => {
      const az = (2 * Math.PI * i) / 6 + 0.3, el = ((i % 2 ? 24 : 47) * Math.PI) / 180, d = 2.3 * radius;
      return lookAtCamera([d * Math.cos(el) * Math.cos(az), 0.45 + d * Math.sin(el), d * Math.cos(el) * Math.sin(az)], center, [0, 1, 0], 320, radius);
    });
    out.synthetic = { shape: 'box 1.2 × 0.8 × 0.9, 0.1 checker, 40k Gaussians', heldOutViews: '6 × 320 px', lods: await compareLods(backend, params, 0, res.lods, held),
      seconds: +seconds.toFixed(1), stagesS: Object.fromEntries(Object.entries(res.timings).map(([k, v]) => [k, +v.toFixed(2)])) };
    console.error(JSON.stringify(out.synthetic));
  }
  const ws = process.env.R2S_MOLD_WS;
  if (ws) out.moldGoldCape = await moldCase(backend, ws);
  else out.moldGoldCape = { status: 'not run: set R2S_MOLD_WS to a trained workspace of nerd_moldGoldCape_1024' };
  await writeKey('texture', out);
}

async function moldCase(backend: RasterBackend, ws: string): Promise<Record<string, unknown>> {
  const ds = path.resolve('../shared/datasets/nerd_moldGoldCape_1024');
  const { params, shDegree } = await readGaussianPly(path.join(ws, 'scene', 'splats.ply'));
  const model = await readColmapModel(path.join(ws, 'sparse'));
  const train = JSON.parse(await fs.readFile(path.join(ws, 'scene', 'train.json'), 'utf8').catch(() => '{}')) as { maxSize?: number; options?: { maxSize?: number; iterations?: number } };
  const maxSize = train.options?.maxSize ?? 192;
  const cams = [...model.images.values()].sort((a, b) => a.name.localeCompare(b.name)).map((im) => {
    const cam = model.cameras.get(im.cameraId)!;
    const size = trainingSize(cam.width, cam.height, maxSize);
    const sx = size.width / cam.width, sy = size.height / cam.height, k = pinholeOf(cam);
    return { name: im.name, camera: { ...size, fx: k.fx * sx, fy: k.fy * sy, cx: k.cx * sx, cy: k.cy * sy, R: quatToMat(im.qvec), t: [...im.tvec] } as RasterCamera };
  });
  const masks = await readObjectMasks(path.join(ds, 'masks'), cams.map((c) => ({ name: c.name, width: c.camera.width, height: c.camera.height })), { resize: true });
  const masked: MaskView[] = cams.filter((c, i) => i % 10 === 0 && masks.has(c.name)).map((c) => ({ name: c.name, camera: c.camera, mask: masks.get(c.name)! }));
  const t0 = performance.now();
  const lift = await liftMasks(params, masked, { raster: { ...defaultRasterOptions, shDegree } });
  const cut = cleanCut(params, lift.indices);
  // asset frame: up = the photos' mean up (−y of the cameras), scene units
  const up = [0, 0, 0];
  for (const c of cams) for (let a = 0; a < 3; a++) up[a]! -= (c.camera.R as number[])[3 + a]! / cams.length;
  const F = assetFrame(params, cut.indices, up as [number, number, number], 1);
  const asset = transformGaussians(params, F.T, cut.indices, shDegree);
  const Ra = F.T.R, ta = F.T.t;
  const toAsset = (c: RasterCamera): RasterCamera => {
    const R = c.R as number[];
    const Rn = [0, 1, 2].flatMap((r) => [0, 1, 2].map((q) => R[3 * r]! * Ra[3 * q]! + R[3 * r + 1]! * Ra[3 * q + 1]! + R[3 * r + 2]! * Ra[3 * q + 2]!));
    const tn = [0, 1, 2].map((r) => c.t[r]! - (Rn[3 * r]! * ta[0] + Rn[3 * r + 1]! * ta[1] + Rn[3 * r + 2]! * ta[2]));
    return { ...c, R: Rn, t: tn };
  };
  const used = cams.filter((_, i) => i % 2 === 0).map((c) => toAsset(c.camera));
  const others = cams.filter((_, i) => i % 2 === 1).map((c) => toAsset(c.camera));
  const res = await meshFromGaussians(asset, backend, used, {});
  const seconds = (performance.now() - t0) / 1000;
  const b = gaussianBounds(asset);
  const center: [number, number, number] = [0, 1, 2].map((a) => (b.min[a]! + b.max[a]!) / 2) as [number, number, number];
  const radius = 0.5 * Math.hypot(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]);
  const held = captureViews(others, center, radius, { size: 320, orbit: 0, elevationsDeg: [], maxCapture: 12, distance: 2.5, low: 0 });
  return {
    dataset: 'nerd_moldGoldCape_1024 (119 views, reference cameras), trained in R2S_MOLD_WS', trainIterations: train.options?.iterations ?? null, trainMaxSize: maxSize,
    gaussians: params.count, asset: cut.indices.length, maskedViews: masked.length,
    bakeViews: `20 orbit/low + ${Math.min(24, used.length)} of the ${used.length} even-numbered photos' viewpoints (192 px)`,
    heldOutViews: `${held.length} of the ${others.length} odd-numbered photos' viewpoints, re-aimed at the cape, 320 px`,
    lods: await compareLods(backend, asset, shDegree, res.lods, held), seconds: +seconds.toFixed(1),
    stagesS: Object.fromEntries(Object.entries(res.timings).map(([k, v]) => [k, +v.toFixed(2)])),
  };
}

async function templeAutoCase(): Promise<void> {
  const ws = process.env.R2S_TEMPLE_WS;
  if (!ws) throw new Error('set R2S_TEMPLE_WS to a trained templeRing workspace (r2s import gt/colmap_text; r2s train)');
  const lib = path.join(os.tmpdir(), `r2s-bench-temple-${process.pid}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(here, '..', 'bin', 'r2s.mjs'), 'extract', '-w', ws, '--auto', '--all', '--metric', '--library', lib, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`extract failed: ${r.stderr.slice(-500)}`);
  const seconds = (performance.now() - t0) / 1000;
  const train = JSON.parse(await fs.readFile(path.join(ws, 'scene', 'train.json'), 'utf8').catch(() => '{}')) as { steps?: number; gaussians?: number; seconds?: number; trainPsnr?: number; options?: { maxSize?: number } };
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ground: unknown; candidates: unknown[]; assets: { extentsM: number[]; gaussians: number; triangles: number }[] };
  // GT tight box (gt/README.txt); the asset's up is the scene's y (ring axis), its sides the scene's x and z
  const gt = [0.078626 + 0.023121, 0.121636 + 0.038009, -0.017395 + 0.09194];
  const a = res.assets[0];
  const ext = a ? a.extentsM : [];
  // match each asset axis to the GT axis of the nearest length (the heading is the box's, not the scene's)
  const height = ext[1] ?? NaN, sides = [ext[0] ?? NaN, ext[2] ?? NaN].sort((x, y) => y - x), gtSides = [gt[0]!, gt[2]!].sort((x, y) => y - x);
  const rel = [sides[0]! / gtSides[0]! - 1, height / gt[1]! - 1, sides[1]! / gtSides[1]! - 1];
  await writeKey('autoNoFloor', {
    dataset: 'middlebury_templeRing (47 views, GT cameras in metres via r2s import, points triangulated from them), trained in R2S_TEMPLE_WS',
    train: { steps: train.steps, maxSize: train.options?.maxSize, gaussians: train.gaussians, seconds: train.seconds, trainPsnr: train.trainPsnr },
    command: 'r2s extract --auto --all --metric', machine: `${os.cpus().length} cores`, date: new Date().toISOString(), seconds: +seconds.toFixed(1),
    ground: res.ground, assets: res.assets.length, extentsM: ext.map((v) => +v.toFixed(4)),
    truthM: { longSide: +gtSides[0]!.toFixed(4), height: +gt[1]!.toFixed(4), shortSide: +gtSides[1]!.toFixed(4) },
    relError: { longSide: +rel[0]!.toFixed(4), height: +rel[1]!.toFixed(4), shortSide: +rel[2]!.toFixed(4) },
    goal: 'one asset, every extent within 5 % of the GT box',
  });
  await fs.rm(lib, { recursive: true, force: true });
}
