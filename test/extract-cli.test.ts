/**
 * `r2s extract`, `r2s assets` and `r2s compose` through the real CLI on the synthetic three-object
 * workspace (`r2s synth --scene objects`), with the TRUE Gaussians standing in for the trained
 * scene (training is too slow here): --auto finds the three objects, their extents and pivots, and
 * each one's mesh against its true mesh; --masks from 10 % of the views against the exact amodal
 * masks of the others; glTF validity; one-line errors that leave the library as it was; concurrent
 * extracts into one catalog (extract takes no workspace lock); library list/show/rm; compose.
 * Kept to few processes (each pays the CLI's start-up): one listing of each kind, one --all that
 * meshes all three objects.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { NodeIO } from '@gltf-transform/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildObjectsScene, OBJECT_SPECS, OBJECTS_RASTER, shapeMesh, type ObjectsTruthFile } from '../src/synthetic/objects.js';
import { writeGaussianPly, readGaussianPly } from '../src/io/ply.js';
import { readColmapModel } from '../src/io/colmap.js';
import { camerasOfModel } from '../src/assets/extract.js';
import { transformGaussians } from '../src/assets/export/transform-gaussians.js';
import { meshAccuracy } from '../src/assets/mesh/metrics.js';
import { meshBounds, transformMesh } from '../src/assets/mesh/types.js';
import { rasterizeReference } from '../src/scene/raster/reference.js';
import type { AssetRecord } from '../src/assets/library/record.js';
import type { Catalog } from '../src/assets/library/catalog.js';
import { readGlbMeshes, validateGlb } from './assets-fixtures.js';
import { countTuples, loadStage } from './usd-reader.js';
import { cliIn, type CliRun } from './support/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'r2s-extract-cli-'));
const WS = path.join(tmp, 'objects');
const LIB = path.join(tmp, 'lib');
const VIEWS = 30, SIZE = 128;

type Run = CliRun;
/** `r2s ...` as a child process (cwd: the temp folder, so ./assets would land there). */
const r2s = cliIn(tmp);

/** The error lines a failed command printed (Dawn's adapter warnings are not ours). */
const errorLines = (r: Run) => r.stderr.trim().split('\n').filter((l) => l && !l.startsWith('Warning:'));

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const record = (lib: string, id: string) => JSON.parse(readFileSync(path.join(lib, id, 'asset.json'), 'utf8')) as AssetRecord;
const catalog = (lib: string) => JSON.parse(readFileSync(path.join(lib, 'catalog.json'), 'utf8')) as Catalog;

/** Scene point of the asset's origin (its pivot): c = −Rᵀt / s. */
function pivotInScene(T: AssetRecord['sceneToAsset']): number[] {
  return [0, 1, 2].map((k) => -(T.R[k]! * T.t[0] + T.R[3 + k]! * T.t[1] + T.R[6 + k]! * T.t[2]) / T.s);
}

/** The true mesh of the object nearest the asset's pivot, in the asset frame. */
function trueMeshInAssetFrame(rec: AssetRecord) {
  const c = pivotInScene(rec.sceneToAsset);
  const spec = OBJECT_SPECS.reduce((a, b) => (Math.hypot(b.at[0] - c[0]!, b.at[1] - c[1]!) < Math.hypot(a.at[0] - c[0]!, a.at[1] - c[1]!) ? b : a));
  return { spec, mesh: transformMesh(shapeMesh(spec), rec.sceneToAsset.R, rec.sceneToAsset.s, c) };
}

let truth: ObjectsTruthFile;

beforeAll(async () => {
  const s = await r2s('synth', WS, '--scene', 'objects', '--views', String(VIEWS), '--size', String(SIZE));
  expect(s.code, s.stderr).toBe(0);
  // the true Gaussians as the "trained" scene
  await writeGaussianPly(path.join(WS, 'scene', 'splats.ply'), buildObjectsScene({ views: VIEWS, size: SIZE }).params, 0);
  truth = JSON.parse(readFileSync(path.join(WS, 'synthetic-objects.json'), 'utf8')) as ObjectsTruthFile;
}, 180_000);

afterAll(() => {
  // leave the folder for inspection when R2S_KEEP is set
  if (!process.env.R2S_KEEP) return import('node:fs').then((fs) => fs.rmSync(tmp, { recursive: true, force: true }));
});

/** asset id per object name, from the --all run */
const ids: Record<string, string> = {};

describe('r2s extract --auto', () => {
  it('lists exactly the three objects (rank, metric extents, score, Gaussians) and writes nothing', async () => {
    const [r, human] = await Promise.all([r2s('extract', '-w', WS, '--auto', '--json'), r2s('extract', '-w', WS, '--auto')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.listed).toBe(true);
    expect(r.json.units).toBe('m');
    expect(r.json.candidates).toHaveLength(3);
    expect(r.json.assets).toEqual([]);
    expect(existsSync(path.join(tmp, 'assets'))).toBe(false);
    expect(existsSync(path.join(WS, 'stages', 'extract.json'))).toBe(false); // a listing is not recorded
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/3 object\(s\) standing on the ground/);
    expect(human.stdout.split('\n').filter((l) => /^\s+[123]\s/.test(l))).toHaveLength(3);
  }, 120_000);

  it('--all writes three assets: extents within 2 % of the truth, pivot at the bottom centre (0 ± 1 mm); each mesh within 1 % Chamfer, F-score ≥ 0.9; glTF valid', async () => {
    const r = await r2s('extract', '-w', WS, '--auto', '--all', '--library', LIB, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.assets).toHaveLength(3);
    expect(existsSync(path.join(WS, 'stages', 'extract.json'))).toBe(true);
    expect(existsSync(path.join(WS, '.r2s.lock'))).toBe(false);
    for (const a of r.json.assets as { id: string }[]) {
      const rec = record(LIB, a.id);
      const { spec, mesh } = trueMeshInAssetFrame(rec);
      ids[spec.name] = a.id;
      const want = truth.objects.find((o) => o.name === spec.name)!.extents;
      const e = rec.extentsM; // x, y (up), z
      const horiz = [e[0], e[2]].sort(), wantH = [want[0], want[1]].sort();
      const err = [Math.abs(horiz[0]! / wantH[0]! - 1), Math.abs(horiz[1]! / wantH[1]! - 1), Math.abs(e[1] / want[2] - 1)];
      console.log(`${spec.name}: extents ${e.map((v) => v.toFixed(4)).join(' × ')} vs ${want.join(' × ')} (max error ${(100 * Math.max(...err)).toFixed(2)} %)`);
      expect(Math.max(...err), spec.name).toBeLessThanOrEqual(0.02);
      expect(rec.scale).toMatchObject({ kind: 'metric', method: 'given-cameras' });
      expect(rec.source.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
      // pivot: the true object's bottom on y = 0 and centred on x, z
      const b = meshBounds(mesh);
      console.log(`${spec.name}: true bottom y ${(1000 * b.min[1]).toFixed(3)} mm, centre x ${(1000 * (b.min[0] + b.max[0]) / 2).toFixed(2)} mm, z ${(1000 * (b.min[2] + b.max[2]) / 2).toFixed(2)} mm`);
      expect(Math.abs(b.min[1])).toBeLessThanOrEqual(0.001);
      expect(Math.abs(b.min[0] + b.max[0]) / 2).toBeLessThanOrEqual(0.005);
      expect(Math.abs(b.min[2] + b.max[2]) / 2).toBeLessThanOrEqual(0.005);
      // the mesh against the true mesh
      const [m] = await readGlbMeshes(readFileSync(path.join(LIB, a.id, 'mesh.glb')));
      const diag = Math.hypot(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]);
      const acc = meshAccuracy(m!.mesh, mesh, 0.01 * diag);
      const mb = meshBounds(m!.mesh);
      console.log(`${spec.name} mesh: ${rec.counts.triangles} triangles, Chamfer ${((100 * acc.chamfer) / diag).toFixed(3)} % of the diagonal, F@1% ${acc.fscore.toFixed(3)} (P ${acc.precision.toFixed(3)}, R ${acc.recall.toFixed(3)}), extents ${[0, 1, 2].map((k) => (mb.max[k]! - mb.min[k]!).toFixed(3)).join(' × ')} vs ${[0, 1, 2].map((k) => (b.max[k]! - b.min[k]!).toFixed(3)).join(' × ')}`);
      expect(acc.chamfer, spec.name).toBeLessThanOrEqual(0.01 * diag);
      expect(acc.fscore, spec.name).toBeGreaterThanOrEqual(0.9);
      for (const f of [rec.files.mesh!, ...rec.files.lods, rec.files.collision!]) {
        const v = await validateGlb(readFileSync(path.join(LIB, a.id, f)));
        expect(v.messages, f).toEqual([]);
        expect(v.numErrors, f).toBe(0);
      }
      expect(existsSync(path.join(LIB, a.id, 'splats.glb'))).toBe(true);
      expect(existsSync(path.join(LIB, a.id, 'thumbnail.png'))).toBe(true);
      // asset.usda read back by TinyUSDZ (issue 27): the same triangles, collider parts and splats
      const usd = await loadStage(readFileSync(path.join(LIB, a.id, 'asset.usda')), 'asset.usda');
      expect(usd.meshes.filter((m) => !m.absPath.includes('/Collision/'))[0]!.faceVertexIndices.length / 3).toBe(rec.counts.triangles);
      expect(usd.meshes.filter((m) => m.absPath.includes('/Collision/'))).toHaveLength(rec.counts.collisionParts);
      expect(countTuples(usd.layer, 'point3f[] positions')).toBe(rec.counts.gaussians);
    }
    expect(Object.keys(ids).sort()).toEqual(['box', 'cylinder', 'sphere']);
    expect(catalog(LIB).assets).toHaveLength(3);
  }, 600_000); // three meshes with baked textures: ~130 s each on a loaded 2-core machine
});

describe('r2s extract --masks (10 % of the views), three processes at once into one library', () => {
  const masked = Array.from({ length: VIEWS }, (_, i) => i).filter((i) => i % 10 === 0);
  const LIBM = path.join(tmp, 'lib-masks');
  it('mask IoU ≥ 0.95 on every other view (exact amodal masks); catalog.json valid with all three', async () => {
    const dirs: Record<string, string> = {};
    for (const o of truth.objects) {
      const d = path.join(tmp, 'masks10', o.name);
      mkdirSync(d, { recursive: true });
      for (const i of masked) {
        const name = `view_${String(i).padStart(3, '0')}.png`;
        const src = path.join(WS, o.masks, name);
        // the box's masks at twice the image size (full-size masks of a downscaled capture): resized
        if (o.name === 'box') await sharp(src).resize(2 * truth.camera.width, 2 * truth.camera.height, { kernel: 'nearest' }).png().toFile(path.join(d, name));
        else writeFileSync(path.join(d, name), readFileSync(src));
      }
      dirs[o.name] = d;
    }
    const runs = await Promise.all(truth.objects.map((o) => r2s('extract', '-w', WS, '--masks', dirs[o.name]!, '--name', o.name, '--no-mesh', '--no-splats-glb', '--library', LIBM, '--json')));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const cat = catalog(LIBM);
    expect(cat.kind).toBe('r2s.catalog');
    expect(cat.assets.map((a) => a.name).sort()).toEqual(['box', 'cylinder', 'sphere']);

    const model = await readColmapModel(path.join(WS, 'sparse'));
    const names = [...model.images.values()].map((im) => im.name);
    const cams = camerasOfModel(model);
    for (const [k, o] of truth.objects.entries()) {
      const a = runs[k]!.json.assets[0] as { id: string; quality: { maskIoU: number; maskedViews: number } };
      expect(a.quality.maskedViews).toBe(masked.length);
      const rec = record(LIBM, a.id);
      // the asset's splats back in the scene frame (inverse of sceneToAsset)
      const T = rec.sceneToAsset;
      const Rt = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => T.R[3 * c + r]!));
      const inv = { R: Rt, s: 1 / T.s, t: [0, 1, 2].map((r) => -(Rt[3 * r]! * T.t[0] + Rt[3 * r + 1]! * T.t[1] + Rt[3 * r + 2]! * T.t[2]) / T.s) as [number, number, number] };
      const asset = transformGaussians((await readGaussianPly(path.join(LIBM, a.id, 'splats.ply'))).params, inv, undefined);
      const ious: number[] = [];
      for (const [j, cam] of cams.entries()) {
        const name = names[j]!;
        if (masked.includes(Number(/view_(\d+)/.exec(name)![1]))) continue;
        const alpha = rasterizeReference(asset, cam, OBJECTS_RASTER).alpha;
        const { data } = await sharp(path.join(WS, o.amodalMasks, name)).greyscale().raw().toBuffer({ resolveWithObject: true });
        let inter = 0, union = 0;
        for (let p = 0; p < alpha.length; p++) {
          const x = alpha[p]! > 0.5, y = data[p]! > 127;
          if (x && y) inter++;
          if (x || y) union++;
        }
        ious.push(union ? inter / union : 1);
      }
      const min = Math.min(...ious), mean = ious.reduce((s, v) => s + v, 0) / ious.length;
      console.log(`${o.name}: mask IoU on ${ious.length} other views min ${min.toFixed(4)} mean ${mean.toFixed(4)}; on the masked views ${a.quality.maskIoU}`);
      expect(ious).toHaveLength(VIEWS - masked.length);
      expect(min, o.name).toBeGreaterThanOrEqual(0.95);
    }
  }, 240_000);
});

describe('r2s compose', () => {
  it('placements → .ply, .spz and a .glb with the meshes at the placed transforms (standing on the scene ground)', async () => {
    const id = ids.box!, name = record(LIB, id).name;
    const out = path.join(tmp, 'composed', 'scene');
    const at = [0.2, -0.9, 0];
    const r = await r2s('compose', '--scene', WS, '--place', `${id}@${at.join(',')},30`, '--place', `${id}@-1,0.2,0,0,0.5`, '-o', out, '--library', LIB, '--json');
    expect(r.code, r.stderr).toBe(0);
    for (const ext of ['ply', 'spz', 'glb']) expect(statSync(`${out}.${ext}`).size).toBeGreaterThan(0);
    const sceneCount = (await readGaussianPly(path.join(WS, 'scene', 'splats.ply'))).params.count;
    expect(r.json.gaussians).toBe(sceneCount + 2 * record(LIB, id).counts.gaussians);
    const glb = readFileSync(`${out}.glb`);
    expect((await validateGlb(glb)).numErrors).toBe(0);
    const doc = await new NodeIO().readBinary(glb);
    const holder = doc.getRoot().listNodes().find((n) => n.getName() === `${id}#0`)!;
    expect(holder.getTranslation().map((v) => +v.toFixed(6))).toEqual(at);
    // the mesh at its world transform: bottom on the ground z = 0, centred at the placed point
    const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
    holder.traverse((n) => {
      const m = n.getMesh();
      if (!m || m.getName() !== name) return; // the visual mesh (named after the asset), not the colliders
      const W = n.getWorldMatrix();
      for (const p of m.listPrimitives()) {
        const pos = p.getAttribute('POSITION')!.getArray()!;
        for (let i = 0; i < pos.length; i += 3) {
          for (let a = 0; a < 3; a++) {
            const v = W[a]! * pos[i]! + W[4 + a]! * pos[i + 1]! + W[8 + a]! * pos[i + 2]! + W[12 + a]!;
            lo[a] = Math.min(lo[a]!, v); hi[a] = Math.max(hi[a]!, v);
          }
        }
      }
    });
    console.log(`composed box mesh: world bbox ${lo.map((v) => v.toFixed(3))} .. ${hi.map((v) => v.toFixed(3))}`);
    expect(Math.abs(lo[2]!)).toBeLessThanOrEqual(0.01);
    expect(Math.abs((lo[0]! + hi[0]!) / 2 - at[0]!)).toBeLessThanOrEqual(0.01);
    expect(Math.abs((lo[1]! + hi[1]!) / 2 - at[1]!)).toBeLessThanOrEqual(0.01);
    expect(hi[2]! - lo[2]!).toBeGreaterThan(0.4); // upright: the box's 0.42 m height along the scene's up
  }, 120_000);
});

describe('bad input: one-line errors, the library unchanged', () => {
  it('empty box, masks matching no image, masks of the wrong size, no trained scene, unwritable library', async () => {
    const before = hashTree(LIB);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    const none = path.join(tmp, 'bad-none'), wrong = path.join(tmp, 'bad-wrong'), empty = path.join(tmp, 'untrained');
    mkdirSync(none); mkdirSync(wrong); mkdirSync(empty);
    await sharp(Buffer.alloc(32 * 24), { raw: { width: 32, height: 24, channels: 1 } }).png().toFile(path.join(none, 'other.png'));
    await sharp(Buffer.alloc(50 * 50), { raw: { width: 50, height: 50, channels: 1 } }).png().toFile(path.join(wrong, 'view_000.png'));
    const blocker = path.join(tmp, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const cases: [string[], RegExp][] = [
      [['-w', WS, '--box', '10,10,10,0.1,0.1,0.1', '--library', LIB], /contains none of the scene's \d+ splats/],
      [['-w', WS, '--masks', none, '--library', LIB], /no mask matches an image/],
      [['-w', WS, '--masks', wrong, '--library', LIB], /mask is 50×50 but image view_000\.png is 128×96.*resize the mask to 128×96/],
      [['-w', empty, '--auto', '--all', '--library', LIB], /no trained scene.*run `r2s train -w .*` first/],
      [['-w', WS, '--auto', '--all', '--library', path.join(blocker, 'lib')], /asset library .* is not writable/],
      [['-w', WS, '--box', '0,0,0,1,1,1', '--auto', '--library', LIB], /--box and --auto do not go together/],
    ];
    const runs = await Promise.all(cases.map(([args]) => r2s('extract', ...args)));
    for (const [k, r] of runs.entries()) {
      expect(r.code, cases[k]![0].join(' ')).toBe(1);
      const lines = errorLines(r);
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^r2s extract: /);
      expect(lines[0]).toMatch(cases[k]![1]);
    }
    expect(hashTree(LIB)).toEqual(before);
  }, 180_000);
});

describe('r2s assets', () => {
  it('list, show, rm (and rm of an unknown id is one line)', async () => {
    const list = await r2s('assets', 'list', '--library', LIB, '--json');
    expect(list.code, list.stderr).toBe(0);
    const listed = (list.json.assets as { id: string }[]).map((a) => a.id);
    expect(listed.length).toBe(3);
    const human = await r2s('assets', 'list', '--library', LIB);
    for (const id of listed) expect(human.stdout).toContain(id);
    const show = await r2s('assets', 'show', listed[0]!, '--library', LIB, '--json');
    expect(show.json.asset.id).toBe(listed[0]);
    expect(show.json.asset.upAxis).toBe('+Y');
    const rm = await r2s('assets', 'rm', listed[0]!, '--library', LIB, '--json');
    expect(rm.code, rm.stderr).toBe(0);
    expect(existsSync(path.join(LIB, listed[0]!))).toBe(false);
    expect(catalog(LIB).assets.map((a) => a.id)).toEqual(listed.slice(1));
    const again = await r2s('assets', 'rm', listed[0]!, '--library', LIB);
    expect(again.code).toBe(1);
    expect(errorLines(again)).toHaveLength(1);
    expect(errorLines(again)[0]).toMatch(/no asset/);
  }, 120_000);
});
