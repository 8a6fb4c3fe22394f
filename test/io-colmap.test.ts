import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readColmapModel, writeColmapModel } from '../src/io/colmap.js';
import { CAMERA_MODELS, type CameraModelName } from '../src/core/camera.js';
import { type SparseModel, emptyModel } from '../src/core/sparse-model.js';
import { quatToMat } from '../src/geometry/rotation.js';
import { UserError } from '../src/util/errors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const datasets = path.resolve(repoRoot, '../shared/datasets');
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'r2s-colmap-'));

/** Small deterministic generator (tests only). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A model with every camera model, observations with and without points, and tracks. */
function syntheticModel(): SparseModel {
  const r = rng(7);
  const m = emptyModel();
  const names = Object.keys(CAMERA_MODELS) as CameraModelName[];
  names.forEach((model, i) => {
    const params = CAMERA_MODELS[model].params.map((_, k) => (k < 4 ? 500 + 1000 * r() : (r() - 0.5) * 0.2));
    m.cameras.set(i + 3, { id: i + 3, model, width: 640 + i, height: 480 + 2 * i, params });
  });
  // awkward doubles: exact round trips must keep all of them
  const tricky = [0.1 + 0.2, 1e-300, -0, 5e-324, 123456789.123456789, -1 / 3];
  const nImages = 6;
  for (let i = 0; i < nImages; i++) {
    const q = [r() - 0.5, r() - 0.5, r() - 0.5, r() - 0.5];
    const n = Math.hypot(...q);
    const nObs = i === 2 ? 0 : 20 + i;
    const xys = new Float64Array(2 * nObs).map(() => r() * 1000);
    if (nObs) xys[0] = tricky[i % tricky.length]!;
    const ids = Array.from({ length: nObs }, () => -1);
    m.images.set(10 * i + 1, {
      id: 10 * i + 1,
      cameraId: 3 + (i % names.length),
      name: i === 4 ? `sub dir/img ${i}.jpg` : `img${i}.jpg`,
      qvec: q.map((v) => v / n) as [number, number, number, number],
      tvec: [r() * 10, tricky[i]!, -r()],
      xys,
      point3DIds: ids,
    });
  }
  // points observed in 2..4 images; wire the observations both ways
  const imgs = [...m.images.values()].filter((im) => im.point3DIds.length);
  for (let p = 0; p < 40; p++) {
    const id = 1000 + p * 3;
    const track = [];
    for (const im of imgs) {
      const free = im.point3DIds.indexOf(-1);
      if (free >= 0 && r() < 0.6) {
        im.point3DIds[free] = id;
        track.push({ imageId: im.id, point2DIdx: free });
      }
    }
    m.points3D.set(id, { id, xyz: [r() * 4 - 2, r() * 4 - 2, tricky[p % tricky.length]!], rgb: [p, 255 - p, (p * 7) % 256], error: r(), track });
  }
  return m;
}

/** Models equal with exact doubles (including the sign of zero). */
function expectSameModel(a: SparseModel, b: SparseModel): void {
  expect([...b.cameras.keys()].sort()).toEqual([...a.cameras.keys()].sort());
  for (const [id, c] of a.cameras) expect(b.cameras.get(id)).toEqual(c);
  expect([...b.images.keys()].sort()).toEqual([...a.images.keys()].sort());
  for (const [id, im] of a.images) {
    const o = b.images.get(id)!;
    expect({ ...o, xys: Array.from(o.xys) }).toEqual({ ...im, xys: Array.from(im.xys) });
    for (let k = 0; k < im.xys.length; k++) expect(Object.is(o.xys[k], im.xys[k])).toBe(true);
    for (let k = 0; k < 3; k++) expect(Object.is(o.tvec[k], im.tvec[k])).toBe(true);
  }
  expect([...b.points3D.keys()].sort()).toEqual([...a.points3D.keys()].sort());
  for (const [id, p] of a.points3D) {
    expect(b.points3D.get(id)).toEqual(p);
    for (let k = 0; k < 3; k++) expect(Object.is(b.points3D.get(id)!.xyz[k], p.xyz[k])).toBe(true);
  }
}

describe('COLMAP model io', () => {
  it('round-trips a synthetic model exactly: txt → bin → txt and bin → txt → bin', async () => {
    const model = syntheticModel();
    const a = tmp(), b = tmp(), c = tmp();
    await writeColmapModel(a, model);
    expectSameModel(model, await readColmapModel(a, 'bin'));
    expectSameModel(model, await readColmapModel(a, 'txt'));
    // text only → binary only → text only
    await writeColmapModel(b, await readColmapModel(a, 'txt'), { binary: false, text: true });
    await writeColmapModel(c, await readColmapModel(b), { binary: true, text: false });
    expect(existsSync(path.join(c, 'cameras.txt'))).toBe(false);
    const d = tmp();
    await writeColmapModel(d, await readColmapModel(c), { binary: false });
    for (const f of ['cameras.txt', 'images.txt', 'points3D.txt']) expect(readFileSync(path.join(d, f), 'utf8')).toBe(readFileSync(path.join(a, f), 'utf8'));
    for (const f of ['cameras.bin', 'images.bin', 'points3D.bin']) expect(readFileSync(path.join(c, f)).equals(readFileSync(path.join(a, f)))).toBe(true);
  });

  it('writes missing point3D ids as uint64 max in images.bin', async () => {
    const m = emptyModel();
    m.cameras.set(1, { id: 1, model: 'PINHOLE', width: 4, height: 4, params: [1, 1, 2, 2] });
    m.images.set(1, { id: 1, cameraId: 1, name: 'a', qvec: [1, 0, 0, 0], tvec: [0, 0, 0], xys: new Float64Array([1.5, 2.5]), point3DIds: [-1] });
    const dir = tmp();
    await writeColmapModel(dir, m);
    const buf = readFileSync(path.join(dir, 'images.bin'));
    // u64 count, u32 id, 7 f64, u32 camera, "a\0", u64 n, f64 x, f64 y, u64 id
    expect(buf.length).toBe(8 + 4 + 56 + 4 + 2 + 8 + 24);
    expect(buf.subarray(buf.length - 8).equals(Buffer.alloc(8, 0xff))).toBe(true);
    expect(buf.readDoubleLE(buf.length - 24)).toBe(1.5);
    expect((await readColmapModel(dir, 'bin')).images.get(1)!.point3DIds).toEqual([-1]);
  });

  it('agrees with COLMAP itself on the binary layout', async (ctx) => {
    let hasColmap = true;
    try { execFileSync('colmap', ['help'], { stdio: 'ignore', timeout: 20_000 }); } catch { hasColmap = false; }
    if (!hasColmap) return ctx.skip();
    const model = syntheticModel();
    // COLMAP 3.8 reads names up to a space in text; keep names plain for its round trip
    for (const im of model.images.values()) im.name = im.name.replace(/ /g, '_');
    const a = tmp(), out = tmp();
    await writeColmapModel(a, model, { text: false });
    execFileSync('colmap', ['model_converter', '--input_path', a, '--output_path', out, '--output_type', 'TXT'], { stdio: 'ignore', timeout: 60_000 });
    const viaColmap = await readColmapModel(out, 'txt');
    // COLMAP writes 17 significant digits: still exact; it drops the sign of −0
    const byId = <T,>(mp: Map<number, T>): Array<[number, T]> => [...mp].sort((x, y) => x[0] - y[0]);
    const norm = (m: SparseModel): unknown =>
      JSON.parse(JSON.stringify({ c: byId(m.cameras), i: byId(m.images).map(([k, v]) => [k, { ...v, qvec: null, xys: Array.from(v.xys) }]), p: byId(m.points3D) }));
    expect(norm(viaColmap)).toEqual(norm(model));
    // COLMAP re-normalises quaternions on reading: equal to the last bits
    for (const [id, im] of model.images) viaColmap.images.get(id)!.qvec.forEach((q, k) => expect(q).toBeCloseTo(im.qvec[k]!, 14));
    // and COLMAP reads our text files too
    const t = tmp(), out2 = tmp();
    await writeColmapModel(t, model, { binary: false });
    execFileSync('colmap', ['model_converter', '--input_path', t, '--output_path', out2, '--output_type', 'BIN'], { stdio: 'ignore', timeout: 60_000 });
    expect(norm(await readColmapModel(out2, 'bin'))).toEqual(norm(model));
  });

  it('reports bad files as user errors naming the file and the line', async () => {
    const dir = tmp();
    await writeColmapModel(dir, syntheticModel());
    const bin = readFileSync(path.join(dir, 'points3D.bin'));
    writeFileSync(path.join(dir, 'points3D.bin'), bin.subarray(0, bin.length - 5));
    await expect(readColmapModel(dir, 'bin')).rejects.toThrow(/points3D\.bin: truncated at byte \d+ .*point 40 of 40/);
    await expect(readColmapModel(dir, 'bin')).rejects.toBeInstanceOf(UserError);
    const lines = readFileSync(path.join(dir, 'cameras.txt'), 'utf8').split('\n');
    lines[4] = lines[4]!.replace(/ [^ ]+$/, ' abc');
    writeFileSync(path.join(dir, 'cameras.txt'), lines.join('\n'));
    await expect(readColmapModel(dir, 'txt')).rejects.toThrow(/cameras\.txt:5: expected a number/);
    writeFileSync(path.join(dir, 'cameras.txt'), '1 FOV 10 10 1 2 3 4\n');
    await expect(readColmapModel(dir, 'txt')).rejects.toThrow(/cameras\.txt:1: camera model 'FOV' is not supported/);
    await expect(readColmapModel(tmp())).rejects.toThrow(/no COLMAP model here/);
  });

  for (const [dataset, count] of [['strecha_fountain-P11', 11], ['middlebury_templeRing', 47]] as const) {
    it(`reads ${dataset} gt/colmap_text and matches gt/cameras_w2c.json`, async (ctx) => {
      const gtDir = path.join(datasets, dataset, 'gt');
      if (!existsSync(gtDir)) return ctx.skip();
      const model = await readColmapModel(path.join(gtDir, 'colmap_text'));
      const gt = JSON.parse(readFileSync(path.join(gtDir, 'cameras_w2c.json'), 'utf8')) as { images: Record<string, { K: number[][]; R: number[][]; t: number[]; width: number; height: number }> };
      expect(model.images.size).toBe(count);
      expect(Object.keys(gt.images).length).toBe(count);
      expect(model.points3D.size).toBe(0);
      for (const im of model.images.values()) {
        const g = gt.images[im.name]!;
        expect(g, im.name).toBeDefined();
        const R = quatToMat(im.qvec);
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(R[i * 3 + j]!).toBeCloseTo(g.R[i]![j]!, 5);
        expect(im.tvec).toEqual(g.t);
        const cam = model.cameras.get(im.cameraId)!;
        expect(cam.model).toBe('PINHOLE');
        expect([cam.width, cam.height]).toEqual([g.width, g.height]);
        expect(cam.params).toEqual([g.K[0]![0], g.K[1]![1], g.K[0]![2], g.K[1]![2]]);
      }
      // the binary copy reads back identically
      const dir = tmp();
      for (const f of ['cameras.txt', 'images.txt', 'points3D.txt']) copyFileSync(path.join(gtDir, 'colmap_text', f), path.join(dir, f));
      await writeColmapModel(dir, model, { text: false });
      expectSameModel(model, await readColmapModel(dir));
    });
  }
});
