/**
 * Fuzz pass of the readers (issue 25, "must show"): a seeded mutator of real files — byte flips,
 * truncation, numbers swapped for NaN / Inf / huge / negative values, names swapped for `..` and
 * absolute paths, chunks moved — 10 000 mutated inputs per reader, called in-process on buffers.
 * Every input must end as a UserError or a clean result: no other exception (a raw JavaScript
 * message or a stack trace for the user), no non-finite value accepted, no name leading outside
 * its folder. A failure prints the reader, the case number and the error, so it can be replayed
 * (the mutator is seeded per reader).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../src/util/errors.js';
import * as log from '../src/util/log.js';
import { mulberry32, Rng } from '../src/util/rng.js';
import { parseCamerasText, parseImagesText, parsePoints3DText, formatPoints3DText } from '../src/io/colmap-text.js';
import { parseModelBin } from '../src/io/colmap.js';
import { formatCamerasBin, formatImagesBin, formatPoints3DBin } from '../src/io/colmap-binary.js';
import { parseTransformsText, transformsToModel } from '../src/io/nerfstudio.js';
import { decodeGaussianPly, decodePointCloudPly, encodeGaussianPly } from '../src/io/ply.js';
import { decodeSpz, decodeSpzRaw, encodeSpzRaw, encodeSpz } from '../src/io/spz.js';
import { loadPipeline } from '../src/batch/pipeline-file.js';
import { loadStageCatalog, type StageCatalog } from '../src/batch/stage-bridge.js';
import { readCatalog } from '../src/assets/library/catalog.js';
import { serializeState, restoreState, checkpointRun, type CheckpointedState } from '../src/scene/train/checkpoint-state.js';
import { createAdamGroups } from '../src/scene/train/param-groups.js';
import { GradStats } from '../src/scene/train/densify.js';
import { PhotometricModel } from '../src/scene/photometric.js';
import { defaultTrainOptions } from '../src/scene/train/options.js';
import { emptyModel, type SparseModel } from '../src/core/sparse-model.js';
import type { GaussianParams } from '../src/core/gaussians.js';

const N = Number(process.env.R2S_FUZZ_N ?? 10_000);
const datasets = path.resolve(__dirname, '../../shared/datasets');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'r2s-fuzz-'));

beforeAll(() => log.setQuiet(true));
afterAll(() => {
  log.setQuiet(false);
  rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// the mutator

const NUMBERS = ['NaN', 'nan', 'Infinity', '-Infinity', 'inf', '1e309', '-1e309', '1e308', '-1', '-700', '0', '-0', '4e9', '4294967296', '18446744073709551615', '1e-320', '0x10', '', '1.5', '99999999999999999999999'];
const NAMES = ['../../escape-01.jpg', '/etc/passwd', '..', '../x.png', 'a/../../b.png', 'C:\\win.png', 'a\\..\\..\\b.png', 'x\u0000.png', ' ', '.', './', 'images/../../../e.png', '//server/share.png'];
const NUMBER_RE = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;
const NAME_RE = /[\w./\\-]+\.(?:png|jpe?g|JPG|ply)/g;

type Rand = () => number;
const pick = <T>(r: Rand, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;

function spliceText(src: Buffer, re: RegExp, r: Rand, by: readonly string[]): Buffer | null {
  const text = src.toString('latin1');
  const hits = [...text.matchAll(re)];
  if (!hits.length) return null;
  const m = pick(r, hits);
  return Buffer.from(text.slice(0, m.index) + pick(r, by) + text.slice(m.index! + m[0].length), 'latin1');
}

/** Special binary values written over a random aligned place (floats and counts). */
function binarySwap(src: Buffer, r: Rand): Buffer {
  const b = Buffer.from(src);
  if (b.length < 8) return b;
  const at = Math.floor(r() * (b.length - 8) / 4) * 4;
  switch (Math.floor(r() * 6)) {
    case 0: b.writeDoubleLE(pick(r, [NaN, Infinity, -Infinity, 1e300, -1, 0, -700]), at); break;
    case 1: b.writeFloatLE(pick(r, [NaN, Infinity, -Infinity, 3e38, -1, 0]), at); break;
    case 2: b.writeUInt32LE(pick(r, [0xffffffff, 0x80000000, 0, 4e9 >>> 0, 1e6]), at); break;
    case 3: b.writeBigUInt64LE(pick(r, [0xffffffffffffffffn, 1n << 53n, 4_000_000_000n, 0n]), at); break;
    case 4: b.writeDoubleBE(NaN, at); break;
    default: b.writeInt32LE(-1, at);
  }
  return b;
}

function mutateOnce(src: Buffer, r: Rand): Buffer {
  const n = src.length;
  switch (Math.floor(r() * 7)) {
    case 0: { // byte flips
      const b = Buffer.from(src);
      for (let k = 1 + Math.floor(r() * 4); k > 0 && n; k--) b[Math.floor(r() * n)] ^= 1 + Math.floor(r() * 255);
      return b;
    }
    case 1: // truncation
      return src.subarray(0, Math.floor(r() * n));
    case 2: // a number of the text swapped for a special one
    case 3:
      return spliceText(src, NUMBER_RE, r, NUMBERS) ?? binarySwap(src, r);
    case 4: // a name swapped for one that leads outside
      return spliceText(src, NAME_RE, r, NAMES) ?? binarySwap(src, r);
    case 5: // binary values
      return binarySwap(src, r);
    default: { // a chunk moved: duplicated elsewhere or cut out
      const a = Math.floor(r() * n), len = Math.floor(r() * Math.min(64, n - a));
      const chunk = src.subarray(a, a + len);
      const at = Math.floor(r() * n);
      return r() < 0.5 ? Buffer.concat([src.subarray(0, at), chunk, src.subarray(at)]) : Buffer.concat([src.subarray(0, a), src.subarray(a + len)]);
    }
  }
}

function mutate(src: Buffer, r: Rand): Buffer {
  let b = mutateOnce(src, r);
  if (r() < 0.25) b = mutateOnce(b, r);
  return b;
}

// ---------------------------------------------------------------------------------------------
// checks on what a reader accepted

/** A name that, joined to its folder, stays inside (checked independently of src/util/confine.ts). */
function inside(name: string): boolean {
  const slashed = name.replace(/\\/g, '/');
  const norm = path.posix.normalize(slashed);
  // '' or '.' name the folder itself (an asset "path": "." would make the library its folder)
  return name !== '' && norm !== '.' && norm !== './' && !name.includes('\0') && !slashed.startsWith('/') && !/^[A-Za-z]:/.test(name) && !slashed.split('/').includes('..');
}

const finite = (a: ArrayLike<number>): boolean => { for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false; return true; };

function modelProblems(m: SparseModel): string | null {
  for (const c of m.cameras.values()) {
    if (!finite(c.params) || !(c.width > 0 && c.height > 0)) return `camera ${c.id} ${c.width}×${c.height} ${c.params.join(' ')}`;
    if (!(c.params[0]! > 0)) return `camera ${c.id} focal ${c.params[0]}`;
  }
  for (const im of m.images.values()) {
    if (!finite(im.qvec) || !finite(im.tvec) || !finite(im.xys)) return `image ${im.id} non-finite`;
    if (!(Math.hypot(...im.qvec) > 0)) return `image ${im.id} zero quaternion`;
    if (!inside(im.name)) return `image ${im.id} name ${JSON.stringify(im.name)}`;
  }
  for (const p of m.points3D.values()) if (!finite(p.xyz) || !Number.isFinite(p.error)) return `point ${p.id} non-finite`;
  return null;
}

function splatProblems(p: GaussianParams): string | null {
  const n = p.count;
  if (!(Number.isSafeInteger(n) && n >= 0)) return `count ${n}`;
  if (p.means.length !== 3 * n || p.logScales.length !== 3 * n || p.quats.length !== 4 * n || p.opacityLogits.length !== n || p.sh.length !== 48 * n) return 'array lengths';
  for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) if (!finite(p[k])) return `non-finite ${k}`;
  return null;
}

interface Tally { accepted: number; refused: number; failures: string[] }

/** Run `n` mutations of `seedFiles` (one picked per case) through `read`. */
async function fuzz(name: string, seed: number, seedFiles: Buffer[], read: (b: Buffer, which: number) => Promise<string | null> | string | null): Promise<Tally> {
  const r = mulberry32(seed);
  const t: Tally = { accepted: 0, refused: 0, failures: [] };
  for (let i = 0; i < N; i++) {
    const which = Math.floor(r() * seedFiles.length);
    const input = mutate(seedFiles[which]!, r);
    try {
      const problem = await read(input, which);
      if (problem) t.failures.push(`${name} case ${i}: accepted a bad input: ${problem}`);
      else t.accepted++;
    } catch (e) {
      if (e instanceof UserError) {
        t.refused++;
        if (/\n/.test(e.oneLine())) t.failures.push(`${name} case ${i}: a UserError over several lines`);
      } else t.failures.push(`${name} case ${i}: ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
    }
  }
  return t;
}

/** Every input refused or cleanly accepted; the seed files themselves are read, and some mutations too. */
function expectClean(t: Tally): void {
  expect(t.failures.slice(0, 8), `${t.failures.length} failures`).toEqual([]);
  expect(t.accepted + t.refused).toBe(N);
}

// ---------------------------------------------------------------------------------------------

describe(`readers survive ${N} mutated inputs each`, () => {
  it('COLMAP text (cameras.txt, images.txt, points3D.txt of strecha fountain-P11)', async () => {
    const dir = path.join(datasets, 'strecha_fountain-P11/gt/colmap_text');
    const cams = readFileSync(path.join(dir, 'cameras.txt'));
    const ims = readFileSync(path.join(dir, 'images.txt'));
    // the ground truth has no points: a few, with tracks, in the format's own writer
    const m = emptyModel();
    const r = mulberry32(7);
    for (let id = 1; id <= 12; id++) m.points3D.set(id, { id, xyz: [r() * 4 - 2, r() * 4 - 2, r() * 9], rgb: [10 * id, 20, 30], error: r(), track: [{ imageId: 1 + (id % 11), point2DIdx: 0 }, { imageId: 1 + ((id + 3) % 11), point2DIdx: 1 }] });
    const pts = Buffer.from(formatPoints3DText(m));
    // a clean read of the real files first
    expect(parseImagesText(ims.toString('utf8')).size).toBe(11);
    const t = await fuzz('colmap-text', 1, [cams, ims, pts], (b, which) => {
      const text = b.toString('utf8');
      const out = emptyModel();
      if (which === 0) out.cameras = parseCamerasText(text);
      else if (which === 1) out.images = parseImagesText(text);
      else out.points3D = parsePoints3DText(text);
      return modelProblems(out);
    });
    expectClean(t);
  });

  it('COLMAP binary (the same model as COLMAP writes it)', async () => {
    const dir = path.join(datasets, 'strecha_fountain-P11/gt/colmap_text');
    const m = emptyModel();
    m.cameras = parseCamerasText(readFileSync(path.join(dir, 'cameras.txt'), 'utf8'));
    m.images = parseImagesText(readFileSync(path.join(dir, 'images.txt'), 'utf8'));
    // observations and points, so every record kind is there to damage
    const r = mulberry32(8);
    for (const im of m.images.values()) { im.xys = new Float64Array([r() * 100, r() * 100, r() * 100, r() * 100]); im.point3DIds = [1, -1]; }
    m.points3D.set(1, { id: 1, xyz: [1, 2, 3], rgb: [1, 2, 3], error: 0.5, track: [...m.images.keys()].map((imageId) => ({ imageId, point2DIdx: 0 })) });
    const files = [formatCamerasBin(m), formatImagesBin(m), formatPoints3DBin(m)];
    const t = await fuzz('colmap-binary', 2, files, (b, which) => {
      const bufs = { cameras: files[0]!, images: files[1]!, points3D: files[2]! };
      bufs[(['cameras', 'images', 'points3D'] as const)[which]!] = b;
      return modelProblems(parseModelBin(bufs));
    });
    expectClean(t);
  });

  it('transforms.json (instant-ngp fox, its first 6 frames)', async () => {
    const fox = JSON.parse(readFileSync(path.join(datasets, 'ingp_fox/gt/transforms.json'), 'utf8')) as { frames: unknown[] };
    fox.frames = fox.frames.slice(0, 6);
    const withMasks = { ...fox, ply_file_path: 'sparse_pc.ply', frames: fox.frames.map((f, i) => ({ ...(f as object), mask_path: `masks/${String(i).padStart(4, '0')}.png` })) };
    const seeds = [Buffer.from(JSON.stringify(fox, null, 2)), Buffer.from(JSON.stringify(withMasks, null, 2))];
    const jsonPath = path.join(tmp, 'fox', 'transforms.json');
    const t = await fuzz('transforms', 3, seeds, async (b) => {
      const text = b.toString('utf8');
      const res = await transformsToModel(parseTransformsText(text, jsonPath), jsonPath, { text, imageSize: async () => null });
      for (const fp of [...res.filePaths.values(), ...res.maskPaths.values()]) if (!inside(fp)) return `file name ${JSON.stringify(fp)}`;
      if (res.plyPath && path.relative(path.dirname(jsonPath), res.plyPath).startsWith('..')) return `ply ${res.plyPath}`;
      return modelProblems(res.model);
    });
    expectClean(t);
  });

  it('PLY (3DGS splats, binary and ascii; a point cloud)', async () => {
    const r = new Rng(4);
    const n = 12;
    const p: GaussianParams = { count: n, means: new Float32Array(3 * n), logScales: new Float32Array(3 * n), quats: new Float32Array(4 * n), opacityLogits: new Float32Array(n), sh: new Float32Array(48 * n) };
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) for (let i = 0; i < p[k].length; i++) p[k][i] = r.next() * 2 - 1;
    const binary = encodeGaussianPly(p, 1);
    const ascii = Buffer.from(['ply', 'format ascii 1.0', 'comment by hand', 'element vertex 3', ...['x', 'y', 'z', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'].map((k) => `property float ${k}`),
      'element face 1', 'property list uchar int vertex_indices', 'end_header',
      '1 2 3 0.1 0.2 0.3 0.5 -1 -2 -3 1 0 0 0', '4 5 6 0.4 0.5 0.6 -0.5 -4 -5 -6 0 1 0 0', '7 8 9 0.7 0.8 0.9 0 -1 -1 -1 0 0 1 0', '3 0 1 2', ''].join('\n'));
    const cloud = Buffer.from(['ply', 'format ascii 1.0', 'element vertex 3', 'property float x', 'property float y', 'property float z', 'property uchar red', 'property uchar green', 'property uchar blue', 'end_header', '1 2 3 255 0 0', '4 5 6 0 255 0', '7 8 9 0 0 255', ''].join('\n'));
    const t = await fuzz('ply', 4, [binary, ascii, cloud], (b, which) => {
      if (which < 2) return splatProblems(decodeGaussianPly(b, 'splats.ply').params);
      const c = decodePointCloudPly(b, 'cloud.ply');
      return c.positions.length === 3 * c.count && finite(c.positions) ? null : 'non-finite point';
    });
    expectClean(t);
  });

  it('SPZ (gzip and raw payloads, versions 2 and 3)', async () => {
    const r = new Rng(5);
    const n = 10;
    const p: GaussianParams = { count: n, means: new Float32Array(3 * n), logScales: new Float32Array(3 * n), quats: new Float32Array(4 * n), opacityLogits: new Float32Array(n), sh: new Float32Array(48 * n) };
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) for (let i = 0; i < p[k].length; i++) p[k][i] = r.next() * 2 - 1;
    const seeds = [encodeSpz(p, 1), encodeSpzRaw(p, 1), encodeSpzRaw(p, 2, { version: 2 })];
    const t = await fuzz('spz', 5, seeds, (b, which) => splatProblems((which === 0 ? decodeSpz(b) : decodeSpzRaw(b)).params));
    expectClean(t);
  });

  describe('files of other readers (YAML pipeline, catalog.json): called as they are', () => {
    let catalog: StageCatalog;
    beforeAll(async () => { catalog = await loadStageCatalog(); });

    it('YAML pipeline file (pipelines/drive-footage.yaml, object-capture.yaml)', async () => {
      const dir = path.join(tmp, 'yaml');
      mkdirSync(path.join(dir, 'caps', 'a'), { recursive: true });
      const seeds = ['drive-footage.yaml', 'object-capture.yaml'].map((f) => Buffer.from(readFileSync(path.resolve(__dirname, '../pipelines', f), 'utf8').replace(/^inputs:[\s\S]*?^output:/m, 'inputs:\n  - caps/*\noutput:')));
      const file = path.join(dir, 'p.yaml');
      const t = await fuzz('yaml', 6, seeds, (b) => {
        writeFileSync(file, b);
        const pl = loadPipeline(file, catalog);
        return Number.isSafeInteger(pl.concurrency) && pl.concurrency > 0 ? null : `concurrency ${pl.concurrency}`;
      });
      expectClean(t);
    });

    it('catalog.json', async () => {
      const lib = path.join(tmp, 'lib');
      mkdirSync(lib, { recursive: true });
      const entry = (id: string) => ({ id, name: `object ${id}`, path: id, splats: 'splats.spz', mesh: 'mesh.glb', collision: 'collision.glb', thumbnail: 'thumbnail.png', extentsM: [0.5, 1.25, 2], scale: 'metric', gaussians: 1200, triangles: 800, source: '/work/ws' });
      const seeds = [Buffer.from(JSON.stringify({ kind: 'r2s.catalog', version: 1, assets: [entry('chair-1'), entry('table-2')] }, null, 2))];
      const t = await fuzz('catalog', 7, seeds, async (b) => {
        writeFileSync(path.join(lib, 'catalog.json'), b);
        const c = await readCatalog(lib);
        for (const a of c.assets) {
          for (const f of [a.path, a.splats, a.mesh, a.collision, a.thumbnail]) if (f !== null && f !== undefined && !inside(f)) return `name ${JSON.stringify(f)}`;
          if (!finite(a.extentsM)) return `extents ${a.extentsM.join(' ')}`;
        }
        return null;
      });
      expectClean(t);
    });
  });

  it('checkpoint (a trainer state as serializeState writes it)', async () => {
    const n = 6;
    const views = ['a.jpg', 'b.jpg', 'c.jpg'];
    const make = (): CheckpointedState => ({
      params: { count: n, means: new Float32Array(3 * n).fill(0.5), logScales: new Float32Array(3 * n).fill(-2), quats: new Float32Array(4 * n).fill(0.5), opacityLogits: new Float32Array(n).fill(0.1), sh: new Float32Array(48 * n).fill(0.2) },
      adam: createAdamGroups(n, defaultTrainOptions.lrs, 1),
      stats: new GradStats(n),
      rng: new Rng(3),
      step: 40,
      order: [2, 0, 1],
      orderPos: 1,
      photometric: new PhotometricModel(views, [1], 0),
      poses: null,
      viewNames: views,
      options: { iterations: 100 },
      identity: { id: '0123456789ab', inputs: 'f'.repeat(32), options: { iterations: 100 }, seed: 0 },
    });
    const bytes = Buffer.from(serializeState(make()));
    const t = await fuzz('checkpoint', 8, [bytes], (b) => {
      const u = new Uint8Array(b);
      try {
        checkpointRun(u);
        const s = make();
        restoreState(s, u);
        return splatProblems(s.params) ?? (s.order.every((v) => v >= 0 && v < views.length) ? null : 'order');
      } catch (e) {
        // as the trainer reports it (src/scene/run-train.ts): a UserError naming the file
        if (e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof SyntaxError)) throw new UserError(`step.ckpt: cannot resume (${e.message})`, { file: 'step.ckpt' });
        throw e;
      }
    });
    expectClean(t);
  });
});
