/** The asset library: catalog kept valid under concurrent extracts, list/show/rm, unwritable library. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractAsset, type ExtractInput } from '../src/assets/extract.js';
import { listAssets, removeAsset, showAsset } from '../src/assets/library/ops.js';
import { readCatalog } from '../src/assets/library/catalog.js';
import { boxShape } from '../src/assets/mesh/test-shapes.js';
import { UserError } from '../src/util/errors.js';

let root: string;
const shape = boxShape(1, 1, 1, 2000);
const input = (library: string, name: string, n = shape.params.count): ExtractInput => ({
  params: shape.params, shDegree: 0, indices: Int32Array.from({ length: n }, (_, i) => i),
  frame: { up: [0, 0, 1], scale: 'arbitrary', method: 'none', factor: 1 },
  library, name, source: { capture: 'synthetic', contentHash: 'abc' },
  provenance: { licence: 'CC-BY-4.0' }, quality: { maskIoU: 0.9, psnr: 30 },
  options: { mesh: false, thumbnail: false },
});

beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'r2s-assets-lib-')); });
afterAll(async () => { await fs.rm(root, { recursive: true, force: true }); });

describe('asset library', () => {
  it('eight concurrent extracts keep catalog.json valid and complete', async () => {
    const lib = path.join(root, 'lib');
    const runs = Array.from({ length: 8 }, (_, k) => extractAsset(input(lib, `thing ${k}`, 1000 + k)));
    const ids = (await Promise.all(runs)).map((r) => r.record.id).sort();
    const cat = await readCatalog(lib);
    expect(cat.kind).toBe('r2s.catalog');
    expect(cat.assets.map((a) => a.id).sort()).toEqual(ids);
    expect((await fs.readdir(lib)).filter((f) => f.startsWith('.'))).toEqual([]);
    const e = cat.assets[0]!;
    for (const f of [e.splats]) expect((await fs.stat(path.join(lib, e.path, f))).size).toBeGreaterThan(0);
    expect((await fs.stat(path.join(lib, e.path, 'splats.spz'))).size).toBeGreaterThan(0);
    expect((await fs.stat(path.join(lib, e.path, 'splats.glb'))).size).toBeGreaterThan(0);
  });

  it('list, show and remove', async () => {
    const lib = path.join(root, 'lib2');
    const { record } = await extractAsset(input(lib, 'Chair'));
    expect((await listAssets(lib)).map((a) => a.id)).toEqual([record.id]);
    const rec = await showAsset(lib, record.id);
    expect(rec.provenance.licence).toBe('CC-BY-4.0');
    expect(rec.quality.psnr).toBe(30);
    expect(rec.scale.kind).toBe('arbitrary');
    await removeAsset(lib, record.id);
    expect(await listAssets(lib)).toEqual([]);
    await expect(fs.stat(path.join(lib, record.id))).rejects.toThrow();
    await expect(showAsset(lib, record.id)).rejects.toBeInstanceOf(UserError);
  });

  it('a library that cannot be written is a one-line UserError and nothing changes', async () => {
    const file = path.join(root, 'not-a-dir');
    await fs.writeFile(file, 'x');
    const err = await extractAsset(input(file, 'x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).oneLine()).not.toContain('\n');
    expect(await fs.readFile(file, 'utf8')).toBe('x');
    if (process.getuid?.() !== 0) {
      const ro = path.join(root, 'ro');
      await fs.mkdir(ro);
      await fs.chmod(ro, 0o555);
      await expect(extractAsset(input(ro, 'x'))).rejects.toBeInstanceOf(UserError);
      expect(await fs.readdir(ro)).toEqual([]);
    }
  });
});
