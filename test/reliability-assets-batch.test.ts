/**
 * Issue 25, items 8, 9, 10, 13 and 14, through the real CLI: compose placements that would make
 * −∞ / NaN / overflowing scales, a damaged catalog.json (refused before extract's work, no orphan
 * asset folder), an arrangement with a wrong field type, two batches on one output root, `compose
 * -o DIR/` and a missing pipeline file. Each case asserts the exit code and the one line printed,
 * and that nothing was written where it should not be.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { writeSyntheticWorkspace } from '../src/synthetic/workspace.js';
import { readGaussianPly, writeGaussianPly } from '../src/io/ply.js';

const root = path.resolve(__dirname, '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'r2s-rel-assets-batch-'));
const env = { ...process.env, R2S_QUIET: '1' };
const CLI = [path.join(root, 'bin/r2s.mjs')];

function r2s(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: tmp, encoding: 'utf8', timeout: 120_000, env });
}

/** A failing command: its exit code and its one line (Dawn's adapter warnings are not ours). */
function fails(r: SpawnSyncReturns<string>): string {
  const lines = r.stderr.trim().split('\n').filter((l) => l && !l.startsWith('Warning:'));
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.status, r.stderr).not.toBeNull();
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^r2s( [a-z]+)?: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  return lines[0]!;
}

/** Every file and folder under `dir`, dot-files included. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

const WS = path.join(tmp, 'ws');
const LIB = path.join(tmp, 'lib');
let box: string;

beforeAll(async () => {
  // a synthetic workspace whose true Gaussians stand in for the trained scene
  const cap = renderSyntheticCapture({ views: 2, size: 32, seed: 3 });
  await writeSyntheticWorkspace(WS, cap);
  await writeGaussianPly(path.join(WS, 'scene', 'splats.ply'), cap.scene, 0);
  const m = cap.scene.means;
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < cap.scene.count; i++) for (let k = 0; k < 3; k++) { lo[k] = Math.min(lo[k]!, m[3 * i + k]!); hi[k] = Math.max(hi[k]!, m[3 * i + k]!); }
  box = [...[0, 1, 2].map((k) => (lo[k]! + hi[k]!) / 2), ...[0, 1, 2].map((k) => (hi[k]! - lo[k]!) * 1.1 + 1e-3)].map((v) => v.toFixed(4)).join(',');
  // a library with one asset, as extract writes it (asset.json + splats, no mesh)
  const a = path.join(LIB, 'chair');
  mkdirSync(a, { recursive: true });
  await writeGaussianPly(path.join(a, 'splats.ply'), cap.scene, 0);
  writeFileSync(path.join(a, 'asset.json'), JSON.stringify({ kind: 'r2s.asset', version: 1, id: 'chair', name: 'chair', files: { splats: 'splats.ply', splatsSpz: 'splats.spz', splatsGlb: null, mesh: null, lods: [], collision: null, thumbnail: null } }));
  writeFileSync(
    path.join(LIB, 'catalog.json'),
    JSON.stringify({ kind: 'r2s.catalog', version: 1, assets: [{ id: 'chair', name: 'chair', path: 'chair', splats: 'splats.ply', mesh: null, collision: null, thumbnail: null, extentsM: [1, 1, 1], scale: 'arbitrary', gaussians: cap.scene.count, triangles: 0, source: 'ws' }] }),
  );
}, 60_000);

afterAll(() => {
  if (!process.env.R2S_KEEP) rmSync(tmp, { recursive: true, force: true });
});

describe('reliability: compose placements (issue 25 item 8)', () => {
  it('item 8: scale 0, a negative scale and 1e30 are refused with one line naming the scale; nothing is written', async () => {
    const out = path.join(tmp, 'c8');
    for (const scale of ['0', '-1', '1e30']) {
      const line = fails(r2s('compose', '--library', LIB, '--place', `chair@0,0,0,0,${scale}`, '-o', path.join(out, 'scene')));
      expect(line).toMatch(/scale must be between 0\.001 and 1000/);
      expect(line).toContain(`chair@0,0,0,0,${scale}`);
    }
    expect(tree(out)).toEqual([]);
    // a scale in range composes, and every scale written is finite and scaled (log 0.5 added)
    const ok = r2s('compose', '--library', LIB, '--place', 'chair@0,0,0,0,0.5', '-o', path.join(out, 'scene'));
    expect(ok.status, ok.stderr).toBe(0);
    const src = await readGaussianPly(path.join(LIB, 'chair', 'splats.ply'));
    const got = await readGaussianPly(path.join(out, 'scene.ply'));
    expect(got.params.count).toBe(src.params.count);
    for (let i = 0; i < got.params.logScales.length; i++) {
      expect(Number.isFinite(got.params.logScales[i]!)).toBe(true);
      expect(got.params.logScales[i]!).toBeCloseTo(src.params.logScales[i]! + Math.log(0.5), 4);
    }
  }, 60_000);
});

describe('reliability: a damaged catalog.json (issue 25 item 9)', () => {
  it('item 9: a truncated catalog is one line naming the file, for assets list and for extract before its work; no orphan asset folder', () => {
    const lib = path.join(tmp, 'lib9');
    mkdirSync(lib);
    const text = readFileSync(path.join(LIB, 'catalog.json'), 'utf8');
    writeFileSync(path.join(lib, 'catalog.json'), text.slice(0, Math.floor(text.length / 2)));
    const before = tree(lib);
    const list = fails(r2s('assets', 'list', '--library', lib));
    expect(list).toContain(path.join(lib, 'catalog.json'));
    expect(list).toMatch(/not valid JSON/);
    const t0 = Date.now();
    const ex = fails(r2s('extract', '-w', WS, '--box', box, '--no-mesh', '--library', lib));
    expect(ex).toContain(path.join(lib, 'catalog.json'));
    expect(ex).toMatch(/not valid JSON/);
    expect(tree(lib)).toEqual(before); // no asset folder outside the catalog, no temporary left
    expect(existsSync(path.join(WS, 'stages', 'extract.json'))).toBe(false);
    console.log(`item 9: extract refused in ${Date.now() - t0} ms (process start included)`);
    // an entry whose folder leaves the library is refused too, naming the entry and the field
    writeFileSync(path.join(lib, 'catalog.json'), JSON.stringify({ kind: 'r2s.catalog', version: 1, assets: [{ ...JSON.parse(text).assets[0], path: '../../etc' }] }));
    expect(fails(r2s('assets', 'list', '--library', lib))).toMatch(/catalog\.json \(assets\[0\]\.path\): name "\.\.\/\.\.\/etc" leads out of its folder/);
  }, 120_000);
});

describe('reliability: arrangement files (issue 25 item 10)', () => {
  it('item 10: "position": "x" is one line naming the file, the entry and the field', () => {
    const out = path.join(tmp, 'c10');
    const file = path.join(tmp, 'arr.json');
    writeFileSync(file, JSON.stringify({ kind: 'r2s.arrangement', placements: [{ asset: 'chair', position: [0, 0, 0] }, { asset: 'chair', position: 'x' }] }));
    const line = fails(r2s('compose', '--library', LIB, '--arrangement', file, '-o', path.join(out, 'scene')));
    expect(line).toContain(file);
    expect(line).toMatch(/placements\[1\]\.position must be 3 finite numbers, got "x"/);
    // the viewer's format: a quaternion of strings
    writeFileSync(file, JSON.stringify({ version: 1, items: [{ assetId: 'chair', position: [0, 0, 0], quaternion: ['a', 0, 0, 1], scale: [1, 1, 1] }] }));
    expect(fails(r2s('compose', '--library', LIB, '--arrangement', file, '-o', path.join(out, 'scene')))).toMatch(/items\[0\]\.quaternion must be 4 finite numbers/);
    // a truncated asset.json: one line naming it, not "Unexpected end of JSON input"
    const lib = path.join(tmp, 'lib10');
    cpSync(LIB, lib, { recursive: true });
    const rec = path.join(lib, 'chair', 'asset.json');
    writeFileSync(rec, readFileSync(rec, 'utf8').slice(0, 40));
    expect(fails(r2s('compose', '--library', lib, '--place', 'chair@0,0,0', '-o', path.join(out, 'scene')))).toContain(`${rec} is not valid JSON`);
    expect(tree(out)).toEqual([]);
  }, 60_000);
});

describe('reliability: two batches on one output root (issue 25 item 13)', () => {
  it('item 13: the second is refused with one line naming the first; the first finishes untouched', async () => {
    // one capture: the synthetic workspace's images and COLMAP model, imported
    const yaml = path.join(tmp, 'p13.yaml');
    writeFileSync(yaml, 'inputs: [ws]\noutput: out13\nretries: { attempts: 1 }\nstages:\n  - stage: import\n');
    const out = path.join(tmp, 'out13');
    const first = spawn(process.execPath, [...CLI, 'batch', yaml], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstErr = '';
    first.stderr.on('data', (d) => (firstErr += String(d)));
    const firstDone = new Promise<number | null>((resolve) => first.on('close', (code) => resolve(code)));
    try {
      // once the first batch is under way, hold it still while the second one starts
      for (let t = 0; t < 600 && !existsSync(path.join(out, 'batch.json')); t++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(path.join(out, 'batch.json')), firstErr).toBe(true);
      first.kill('SIGSTOP');
      const second = r2s('batch', yaml);
      const line = fails(second);
      expect(line).toMatch(new RegExp(`batch output ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in use by pid ${first.pid} \\(r2s batch `));
      expect(existsSync(path.join(out, 'report.html'))).toBe(false); // the second wrote no report
    } finally {
      first.kill('SIGCONT');
    }
    expect(await firstDone, firstErr).toBe(0);
    expect(firstErr).toMatch(/batch: 1\/1 captures done, 0 failed/);
    expect(existsSync(path.join(out, '.r2s.lock'))).toBe(false); // the lock went with the first batch
  }, 180_000);
});

describe('reliability: output and pipeline arguments (issue 25 item 14)', () => {
  it('item 14: compose -o DIR/ writes DIR/composed.*, no hidden file; -o DIR/.ply is refused', () => {
    const out = path.join(tmp, 'c14');
    mkdirSync(out);
    const r = r2s('compose', '--library', LIB, '--place', 'chair@0,0,0', '-o', `${out}/`);
    expect(r.status, r.stderr).toBe(0);
    const files = tree(out);
    expect(files.filter((f) => path.basename(f).startsWith('.'))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['composed.glb', 'composed.ply', 'composed.spz']));
    const line = fails(r2s('compose', '--library', LIB, '--place', 'chair@0,0,0', '-o', path.join(out, 'sub', '.ply')));
    expect(line).toMatch(/names no output file/);
    expect(tree(out)).toEqual(files);
  }, 60_000);

  it('item 14: batch nope.yaml says its fix once', () => {
    const line = fails(r2s('batch', 'nope.yaml'));
    expect(line).toMatch(/nope\.yaml/);
    expect(line.match(/\(fix: /g)).toHaveLength(1);
  }, 30_000);
});
