import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, existsSync, mkdirSync, copyFileSync, symlinkSync } from 'node:fs';
import sharp from 'sharp';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importToWorkspace } from '../src/stages/library.js';
import { readColmapModel, writeColmapModel } from '../src/io/colmap.js';
import { readTransforms, writeTransforms, type TransformsJson } from '../src/io/nerfstudio.js';
import { Workspace } from '../src/pipeline/workspace.js';
import type { Priors } from '../src/ingest/priors.js';
import { UserError } from '../src/util/errors.js';
import { run as importCommand } from '../src/cli/commands/import.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const datasets = path.resolve(repoRoot, '../shared/datasets');
const fox = path.join(datasets, 'ingp_fox');
const fountain = path.join(datasets, 'strecha_fountain-P11');
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'r2s-import-'));

describe('r2s import', () => {
  it('imports ingp_fox transforms.json into a workspace, and a re-run is a no-op', async (ctx) => {
    if (!existsSync(fox)) return ctx.skip();
    const wsDir = path.join(tmp(), 'ws');
    const json = path.join(fox, 'gt/transforms.json');
    const res = await importToWorkspace({ source: json, workspace: wsDir, triangulate: false, silent: true });
    expect(res).toMatchObject({ kind: 'transforms', images: 67, cameras: 1, points: 0, skipped: false });
    const ws = new Workspace(wsDir);
    const files = readdirSync(ws.imagesDir).sort();
    expect(files.length).toBe(67);
    expect(files[0]).toBe('0001.jpg');
    expect(readFileSync(path.join(ws.imagesDir, '0042.jpg')).equals(readFileSync(path.join(fox, 'images/0042.jpg')))).toBe(true);
    // sparse/ holds both formats, equal to what the json says
    const bin = await readColmapModel(ws.sparseDir, 'bin');
    const txt = await readColmapModel(ws.sparseDir, 'txt');
    const direct = (await readTransforms(json)).model;
    for (const m of [bin, txt]) {
      expect(m.images.size).toBe(67);
      for (const [id, im] of direct.images) {
        expect(m.images.get(id)!.qvec).toEqual(im.qvec);
        expect(m.images.get(id)!.tvec).toEqual(im.tvec);
        expect(m.images.get(id)!.name).toBe(im.name);
      }
      expect(m.cameras).toEqual(direct.cameras);
    }
    const priors = JSON.parse(readFileSync(ws.priorsPath, 'utf8')) as Priors;
    expect(priors.version).toBe(1);
    expect(priors.images.length).toBe(67);
    expect(priors.images[0]).toMatchObject({ name: '0001.jpg', width: 1080, height: 1920, focalSource: 'user' });
    expect(priors.images[0]!.focalPx).toBeCloseTo((1375.52 + 1374.49) / 2, 9);
    expect(ws.readStage('import')?.status).toBe('done');
    const again = await importToWorkspace({ source: json, workspace: wsDir, triangulate: false, silent: true });
    expect(again.skipped).toBe(true);
  });

  it('imports a transforms.json with its sparse_pc.ply points, images from --images', async (ctx) => {
    if (!existsSync(fox)) return ctx.skip();
    const model = (await readTransforms(path.join(fox, 'gt/transforms.json'))).model;
    for (let i = 1; i <= 5; i++) model.points3D.set(i, { id: i, xyz: [i, -i, 0.5 * i], rgb: [10 * i, 20, 30], error: 0, track: [] });
    const dir = tmp();
    await writeTransforms(path.join(dir, 'transforms.json'), model, { points: true });
    // nerfstudio masks for two frames
    mkdirSync(path.join(dir, 'masks'));
    for (const n of ['0001', '0002']) await sharp({ create: { width: 9, height: 16, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toFile(path.join(dir, 'masks', `${n}.png`));
    const json = JSON.parse(readFileSync(path.join(dir, 'transforms.json'), 'utf8')) as TransformsJson;
    json.frames[0]!.mask_path = 'masks/0001.png';
    json.frames[1]!.mask_path = 'masks/0002.png';
    writeFileSync(path.join(dir, 'transforms.json'), JSON.stringify(json));
    const wsDir = path.join(dir, 'ws');
    await expect(importToWorkspace({ source: path.join(dir, 'transforms.json'), workspace: wsDir, triangulate: false, silent: true })).rejects.toThrow(/67 of 67 images .* are missing, first: images\/0001\.jpg/);
    const res = await importToWorkspace({ source: path.join(dir, 'transforms.json'), workspace: wsDir, imagesDir: path.join(fox, 'images'), triangulate: false, silent: true });
    expect(res).toMatchObject({ images: 67, points: 5, masks: 2 });
    const got = await readColmapModel(path.join(wsDir, 'sparse'));
    expect(got.points3D.get(3)).toEqual({ id: 3, xyz: [3, -3, 1.5], rgb: [30, 20, 30], error: 0, track: [] });
    const priors = JSON.parse(readFileSync(path.join(wsDir, 'priors.json'), 'utf8')) as Priors;
    expect(priors.images[0]!.mask).toBe('0001.jpg.png');
    expect(priors.images[2]!.mask).toBeUndefined();
    expect(await sharp(path.join(wsDir, 'masks', '0001.jpg.png')).metadata()).toMatchObject({ width: 1080, height: 1920 });
  });

  it('imports a COLMAP text model with images from ../../images, and a binary sparse/0 layout', async (ctx) => {
    if (!existsSync(fountain)) return ctx.skip();
    const wsDir = path.join(tmp(), 'ws');
    const res = await importToWorkspace({ source: path.join(fountain, 'gt/colmap_text'), workspace: wsDir, triangulate: false, silent: true });
    expect(res).toMatchObject({ kind: 'colmap', images: 11, cameras: 1, skipped: false });
    const ws = new Workspace(wsDir);
    expect(readdirSync(ws.imagesDir).sort()).toEqual(readdirSync(path.join(fountain, 'images')).sort());
    const ref = await readColmapModel(path.join(fountain, 'gt/colmap_text'));
    const got = await readColmapModel(ws.sparseDir, 'bin');
    expect(got.cameras).toEqual(ref.cameras);
    for (const [id, im] of ref.images) expect({ ...got.images.get(id)!, xys: null }).toEqual({ ...im, xys: null });

    // project/sparse/0/*.bin with project/images: pass the project folder
    const proj = tmp();
    mkdirSync(path.join(proj, 'sparse/0'), { recursive: true });
    await writeColmapModel(path.join(proj, 'sparse/0'), ref, { text: false });
    symlinkSync(path.join(fountain, 'images'), path.join(proj, 'images'));
    const ws2 = path.join(tmp(), 'ws');
    expect(await importCommand([proj, '-w', ws2])).toBe(0);
    expect((await readColmapModel(path.join(ws2, 'sparse'))).images.size).toBe(11);
  });

  it('names how many images are missing and the first one; rejects wrong-sized images', async (ctx) => {
    if (!existsSync(fountain)) return ctx.skip();
    const proj = tmp();
    const model = path.join(proj, 'model');
    mkdirSync(model);
    for (const f of ['cameras.txt', 'images.txt', 'points3D.txt']) copyFileSync(path.join(fountain, 'gt/colmap_text', f), path.join(model, f));
    const imgs = path.join(proj, 'images');
    mkdirSync(imgs);
    for (const f of ['0000.jpg', '0001.jpg']) copyFileSync(path.join(fountain, 'images', f), path.join(imgs, f));
    const ws = path.join(proj, 'ws');
    const p = importToWorkspace({ source: model, workspace: ws, triangulate: false, silent: true });
    await expect(p).rejects.toThrow(UserError);
    await expect(importToWorkspace({ source: model, workspace: ws, triangulate: false, silent: true })).rejects.toThrow(/9 of 11 images of .*model are missing, first: 0002\.jpg/);
    expect(existsSync(ws)).toBe(false); // nothing written

    // a model whose camera does not match the pixels (e.g. made on downscaled images)
    const m = await readColmapModel(model);
    for (const c of m.cameras.values()) c.width = 1536;
    await writeColmapModel(model, m, { binary: false });
    await expect(importToWorkspace({ source: model, workspace: ws, imagesDir: path.join(fountain, 'images'), triangulate: false, silent: true })).rejects.toThrow(/image is 3072×2048 but its camera 1 is 1536×2048/);
    await expect(importToWorkspace({ source: path.join(proj, 'nothing'), workspace: ws, triangulate: false, silent: true })).rejects.toThrow(/not found/);
    await expect(importToWorkspace({ source: imgs, workspace: ws, triangulate: false, silent: true })).rejects.toThrow(/no COLMAP model/);
  });
});

describe('r2s import of cameras without points', () => {
  it('triangulates points from the known poses (and --no-triangulate keeps the model bare)', async () => {
    const { renderSyntheticCapture } = await import('../src/synthetic/generate.js');
    const { captureToModel, writeSyntheticWorkspace } = await import('../src/synthetic/workspace.js');
    const cap = renderSyntheticCapture({ views: 10, size: 192, seed: 3 });
    const src = path.join(tmp(), 'capture');
    await writeSyntheticWorkspace(src, cap);
    // what a ground-truth model looks like: cameras and poses, no points, no 2D observations
    const bare = captureToModel(cap, 'truth');
    bare.points3D.clear();
    for (const im of bare.images.values()) { im.xys = new Float64Array(0); im.point3DIds = []; }
    await writeColmapModel(path.join(src, 'gt'), bare);

    const wsDir = path.join(tmp(), 'ws');
    const res = await importToWorkspace({ source: path.join(src, 'gt'), workspace: wsDir, imagesDir: path.join(src, 'images'), silent: true });
    expect(res.points).toBeGreaterThan(150);
    const model = await readColmapModel(new Workspace(wsDir).sparseDir);
    expect(model.points3D.size).toBe(res.points);
    for (const [id, im] of bare.images) expect(model.images.get(id)!.qvec).toEqual(im.qvec); // poses kept

    const plain = path.join(tmp(), 'ws');
    const off = await importToWorkspace({ source: path.join(src, 'gt'), workspace: plain, imagesDir: path.join(src, 'images'), triangulate: false, silent: true });
    expect(off.points).toBe(0);
  });
});
