/**
 * Issue 25, data-loss, path-confinement and reader items, through the real CLI: each case names
 * the item it guards and failed on the code before its fix (checked by running this file on the
 * commit before, 2544bcb). Nothing of the user's is overwritten, no name read from a file leads
 * outside its folder, and a bad file is one line naming the file (and line) — never a raw
 * JavaScript message.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, readFileSync, readdirSync, existsSync, rmSync, cpSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import { readColmapModel, writeColmapModel } from '../src/io/colmap.js';
import { formatImagesText } from '../src/io/colmap-text.js';
import { formatImagesBin, parseImagesBin } from '../src/io/colmap-binary.js';
import type { SparseModel } from '../src/core/sparse-model.js';

const root = path.resolve(__dirname, '..');
const lund = path.resolve(root, '../shared/datasets/opensfm_lund/images');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'r2s-reldata-'));
const env = { ...process.env, R2S_QUIET: '1' };

function r2s(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 240_000, env });
}

/** A failing command: non-zero exit, exactly one line on stderr, no stack trace; returns the line. */
function fails(r: SpawnSyncReturns<string>): string {
  expect(r.status, r.stderr).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^r2s( [a-z]+)?: /);
  expect(lines[0]).not.toMatch(/DataView|typed array|undefined|is not iterable|Unexpected token|\bat \S+:\d+/);
  return lines[0]!;
}

/** Each file of `dir` (names read as bytes: some are not UTF-8) → the hash of its content. */
async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { encoding: 'buffer' })) {
    out[f.toString('utf8')] = createHash('sha256').update(readFileSync(Buffer.concat([Buffer.from(dir + '/'), f]))).digest('hex');
  }
  return out;
}

let synth: string;
let model: SparseModel;

beforeAll(async () => {
  synth = path.join(tmp, 'synth');
  const r = r2s('synth', synth, '--views', '6', '--size', '40', '--detail', '0.1');
  expect(r.status, r.stderr).toBe(0);
  model = await readColmapModel(path.join(synth, 'sparse'));
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A capture folder: images/ (the synth photos) and the path of its model folder sparse/0. */
function colmapCapture(name: string): { dir: string; modelDir: string } {
  const dir = path.join(tmp, name);
  cpSync(path.join(synth, 'images'), path.join(dir, 'images'), { recursive: true });
  const modelDir = path.join(dir, 'sparse', '0');
  return { dir, modelDir };
}

async function writeModel(modelDir: string, m: SparseModel, format: 'txt' | 'bin'): Promise<void> {
  await writeColmapModel(modelDir, m, { text: format === 'txt', binary: format === 'bin' });
}

const cloneModel = (m: SparseModel): SparseModel => ({
  ...m,
  cameras: new Map([...m.cameras].map(([k, c]) => [k, { ...c, params: c.params.slice() }])),
  images: new Map([...m.images].map(([k, im]) => [k, { ...im, qvec: [...im.qvec] as typeof im.qvec, tvec: [...im.tvec] as typeof im.tvec }])),
});

describe('issue 25: nothing of the user\'s is overwritten', () => {
  it('item 1: ingest from the workspace\'s own images/ is refused and the originals stay byte-identical', async () => {
    const cap = path.join(tmp, 'cap');
    mkdirSync(path.join(cap, 'images'), { recursive: true });
    for (const f of ['01.jpg', '02.jpg', '03.jpg', '04.jpg', '05.jpg', '06.jpg']) copyFileSync(path.join(lund, f), path.join(cap, 'images', f));
    const before = await hashes(path.join(cap, 'images'));
    const line = fails(r2s('ingest', path.join(cap, 'images'), '-w', cap, '--max-size', '400'));
    expect(line).toMatch(/cap\/images: the input is inside .*cap\/images, the folder ingest replaces .*fix: move them out first/);
    expect(await hashes(path.join(cap, 'images'))).toEqual(before);
    expect(existsSync(path.join(cap, 'priors.json'))).toBe(false);
  }, 60_000);

  const train = { ws: '', ck: '', first: {} as Record<string, string> };
  const quick = ['--backend', 'reference', '--tf-backend', 'cpu', '--max-size', '40', '--sh-degree', '0'];

  it('item 2: --resume with other options starts afresh and keeps the other run\'s checkpoints, byte-identical', async () => {
    train.ws = path.join(tmp, 'train');
    cpSync(synth, train.ws, { recursive: true });
    train.ck = path.join(train.ws, 'scene', 'checkpoints');
    let r = r2s('train', '-w', train.ws, '--iterations', '6', '--checkpoint-every', '2', ...quick);
    expect(r.status, r.stderr).toBe(0);
    train.first = await hashes(train.ck);
    expect(Object.keys(train.first)).toHaveLength(2);
    r = r2s('train', '-w', train.ws, '--iterations', '4', '--checkpoint-every', '2', '--resume', ...quick);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/belongs to another run \(iterations 6 → 4\); starting from scratch/);
    const after = await hashes(train.ck);
    for (const [f, h] of Object.entries(train.first)) expect(after[f], `${f} of the first run`).toBe(h);
  }, 240_000);

  it('item 10: an empty checkpoint of this run is skipped with one warning (not "Offset is outside the bounds of the DataView") and the run resumes from the one before', async () => {
    const own = Object.keys(await hashes(train.ck)).filter((f) => !(f in train.first)).sort();
    expect(own.map((f) => f.slice(0, 12))).toEqual(['step-0000002', 'step-0000004']);
    truncateSync(path.join(train.ck, own[1]!), 0);
    const r = r2s('train', '-w', train.ws, '--iterations', '4', '--checkpoint-every', '2', '--resume', '--force', ...quick);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/step-0000004\.[0-9a-f]+\.ckpt is unreadable \(not a readable checkpoint: 0 bytes, shorter than its header\); skipped/);
    expect(r.stderr).not.toMatch(/DataView/);
    const last = await hashes(train.ck);
    for (const [f, h] of Object.entries(train.first)) expect(last[f], `${f} of the first run`).toBe(h);
  }, 240_000);
});

describe('issue 25: names read from a file stay inside their folder', () => {
  it('item 3: a COLMAP image NAME "../../escape-01.jpg" is refused at its images.txt line and nothing is written outside the workspace', async () => {
    const m = cloneModel(model);
    const im = [...m.images.values()][0]!;
    const { dir, modelDir } = colmapCapture('trav');
    // the name resolves to a real photo of the right size, so only the confinement stops it
    copyFileSync(path.join(dir, 'images', im.name), path.join(tmp, 'escape-01.jpg'));
    im.name = '../../escape-01.jpg';
    await writeModel(modelDir, m, 'txt');
    const wsParent = path.join(tmp, 'trav-ws');
    const line = fails(r2s('import', modelDir, '-w', path.join(wsParent, 'ws'), '--no-triangulate'));
    expect(line).toMatch(/images\.txt:5: name "\.\.\/\.\.\/escape-01\.jpg" leads out of its folder/);
    expect(existsSync(path.join(wsParent, 'escape-01.jpg'))).toBe(false);
    expect(existsSync(path.join(wsParent, 'ws', 'images'))).toBe(false);
  }, 60_000);
});

describe('issue 25: wrong values are refused, not imported', () => {
  it('item 5: NaN focal length in a binary COLMAP model is refused, naming cameras.bin', async () => {
    const m = cloneModel(model);
    m.cameras.values().next().value!.params[0] = NaN;
    const { modelDir } = colmapCapture('nanbin');
    await writeModel(modelDir, m, 'bin');
    const line = fails(r2s('import', modelDir, '-w', path.join(tmp, 'nanbin-ws'), '--no-triangulate'));
    expect(line).toMatch(/cameras\.bin: camera 1: f[x]? is NaN at byte \d+/);
    // a NaN quaternion: refused at its record, not trained into "training diverged … lower the learning rates"
    const q = cloneModel(model);
    [...q.images.values()][1]!.qvec[0] = NaN;
    expect(() => parseImagesBin(formatImagesBin(q), 'images.bin')).toThrow(/^images\.bin: image 2: pose holds a non-finite number \(NaN .*\) at byte \d+ \(image 2 of 6\)$/);
  }, 60_000);

  it('item 12: an images.txt cut after its first image (the header says 6) is refused at the header line', async () => {
    const { modelDir } = colmapCapture('cut');
    await writeModel(modelDir, model, 'txt');
    const lines = formatImagesText(model).split('\n');
    writeFileSync(path.join(modelDir, 'images.txt'), lines.slice(0, 6).join('\n') + '\n');
    const line = fails(r2s('import', modelDir, '-w', path.join(tmp, 'cut-ws'), '--no-triangulate'));
    expect(line).toMatch(/images\.txt:4: the header says 6 images, the file holds 1/);
  }, 60_000);

  /** A transforms.json over the synth photos with `edit` applied to its object. */
  function transformsCapture(name: string, edit: (j: Record<string, unknown>) => void, text?: (s: string) => string): string {
    const dir = path.join(tmp, name);
    cpSync(path.join(synth, 'images'), path.join(dir, 'images'), { recursive: true });
    const cam = model.cameras.values().next().value!;
    const frames = [...model.images.values()].map((im) => ({
      file_path: `images/${im.name}`,
      transform_matrix: [[1, 0, 0, im.id], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    }));
    const j: Record<string, unknown> = { w: cam.width, h: cam.height, fl_x: cam.params[0], fl_y: cam.params[0], cx: cam.width / 2, cy: cam.height / 2, frames };
    edit(j);
    let s = JSON.stringify(j, null, 2);
    if (text) s = text(s);
    writeFileSync(path.join(dir, 'transforms.json'), s);
    return path.join(dir, 'transforms.json');
  }

  it('item 7: transforms.json with fl_x −700 is refused', () => {
    const json = transformsCapture('negfocal', (j) => { j.fl_x = -700; });
    const line = fails(r2s('import', json, '-w', path.join(tmp, 'negfocal-ws'), '--no-triangulate'));
    expect(line).toMatch(/transforms\.json: .*focal length "fl_x" = -700 is not positive/);
  }, 60_000);

  it('item 14: a JSON syntax error in transforms.json is reported at its line:col', () => {
    const json = transformsCapture('syntax', () => {}, (s) => s.replace('"fl_y"', '"fl_y" 12,'));
    const line = fails(r2s('import', json, '-w', path.join(tmp, 'syntax-ws'), '--no-triangulate'));
    expect(line).toMatch(/transforms\.json:5:10: not valid JSON/);
  }, 60_000);

  it('item 10: a PLY header claiming 4e9 vertices is one line, not "Invalid typed array length"', () => {
    const json = transformsCapture('bigply', (j) => { j.ply_file_path = 'sparse_pc.ply'; });
    writeFileSync(path.join(path.dirname(json), 'sparse_pc.ply'), 'ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\nproperty float y\nproperty float z\nend_header\n' + 'x'.repeat(1000));
    const line = fails(r2s('import', json, '-w', path.join(tmp, 'bigply-ws'), '--no-triangulate'));
    expect(line).toMatch(/sparse_pc\.ply: truncated or corrupt: the header claims 4000000000 vertex, which need at least 48000000000 bytes, but only 1000 follow/);
  }, 60_000);
});

describe('issue 25: awkward photo folders at ingest', () => {
  it('items 11 and 12: a non-UTF-8 name and a name with a newline are renamed with one warning; a .gif is listed as dropped; the input is not modified', async () => {
    const photos = path.join(tmp, 'odd-names');
    mkdirSync(photos);
    // 'caf\xe9.jpg' in Latin-1: not valid UTF-8
    const latin1 = Buffer.concat([Buffer.from(photos + '/'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('.jpg')]);
    copyFileSync(path.join(lund, '01.jpg'), latin1);
    copyFileSync(path.join(lund, '02.jpg'), path.join(photos, 'new\nline.jpg'));
    copyFileSync(path.join(lund, '03.jpg'), path.join(photos, '03.jpg'));
    writeFileSync(path.join(photos, 'anim.gif'), Buffer.from('GIF89a'));
    const before = await hashes(photos);
    const ws = path.join(tmp, 'odd-ws');
    const r = r2s('ingest', photos, '-w', ws, '--max-size', '200');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/renamed 2 photo\(s\) whose file names are not valid UTF-8 or hold control characters/);
    expect(readdirSync(path.join(ws, 'images')).sort()).toEqual(['03.jpg', 'caf_.jpg', 'new_line.jpg']);
    const priors = JSON.parse(readFileSync(path.join(ws, 'priors.json'), 'utf8')) as { dropped: Array<{ source: string; reason: string }> };
    expect(priors.dropped).toEqual([{ source: path.join(photos, 'anim.gif'), reason: expect.stringMatching(/^unsupported: \.gif/) }]);
    expect(await hashes(photos)).toEqual(before);
  }, 120_000);

  it('item 6: a degenerate --intrinsics K (zero third row) is refused before sfm runs', () => {
    const k = path.join(tmp, 'K.txt');
    writeFileSync(k, '1 0 0\n0 1 0\n0 0 0\n');
    const ws = path.join(tmp, 'sfm-k');
    cpSync(synth, ws, { recursive: true });
    const line = fails(r2s('sfm', '-w', ws, '--intrinsics', k));
    expect(line).toMatch(/K\.txt: not a camera matrix K/);
  }, 120_000);

  it('item 12: a mask of another aspect ratio is refused at ingest, not stretched', async () => {
    const photos = path.join(tmp, 'masked');
    const masks = path.join(tmp, 'masked-masks');
    mkdirSync(photos);
    mkdirSync(masks);
    for (const f of ['01.jpg', '02.jpg']) copyFileSync(path.join(lund, f), path.join(photos, f));
    await sharp({ create: { width: 100, height: 100, channels: 3, background: '#fff' } }).png().toFile(path.join(masks, '01.png'));
    await sharp({ create: { width: 1024, height: 768, channels: 3, background: '#fff' } }).png().toFile(path.join(masks, '02.png'));
    const line = fails(r2s('ingest', photos, '-w', path.join(tmp, 'masked-ws'), '--max-size', '200', '--masks', masks));
    expect(line).toMatch(/01\.png: mask is 100×100, another aspect ratio than its image 01\.jpg \(200×150\)/);
  }, 60_000);
});
