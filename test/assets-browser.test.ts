/**
 * An EXTRACTED asset in the browser: the smallest synthetic three-object workspace (`r2s synth
 * --scene objects`, the true Gaussians standing in for the trained scene), `r2s extract --auto
 * --pick 1` into a temp library, then `r2s view <library>/<id>` in headless Chromium. The Mesh and
 * Collider toggles load mesh.glb and collision.glb with three's GLTFLoader without page errors; the
 * triangle counts are asset.json's (the mesh) and the glb's (the collider); the mesh as the page
 * holds it spans asset.json's extents (2 %) with its bottom on y = 0 (± 1 mm): metres, +Y up, pivot
 * on the ground.
 *
 * The page's hooks give the objects' triangle counts but not their geometry, so the bounding box is
 * read from the page's three.js scene, caught through three's `__THREE_DEVTOOLS__` 'observe' event
 * (each Scene announces itself there when that global exists), by the names the viewer gives the
 * loaded glTF roots ('asset-mesh', 'asset-collider').
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildObjectsScene } from '../src/synthetic/objects.js';
import { writeGaussianPly } from '../src/io/ply.js';
import { ensureViewerBuild } from '../src/viewer-server/build.js';
import type { AssetRecord } from '../src/assets/library/record.js';
import { readGlbMeshes } from './assets-fixtures.js';
import { CHROMIUM, CHROMIUM_ARGS, startView, tmpDir, type Served } from './viewer-fixture.js';

const haveChromium = existsSync(CHROMIUM);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// the smallest capture --auto still finds the objects in (the extents come from the Gaussians)
const VIEWS = 6, SIZE = 64;

type R = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Box { min: number[]; max: number[]; meshes: number; triangles: number }

/** `r2s ...` as a child process; its last JSON line. */
function r2s(cwd: string, ...args: string[]): Promise<{ code: number; stderr: string; json: R | null }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(root, 'bin/r2s.mjs'), ...args], { cwd, env: { ...process.env, R2S_QUIET: '1' } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += String(d)));
    p.stderr.on('data', (d) => (stderr += String(d)));
    p.on('close', (code) => {
      const last = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      resolve({ code: code ?? -1, stderr, json: last ? (JSON.parse(last) as R) : null });
    });
  });
}

/**
 * In the page: the world-space bounding box, Mesh count and triangle count of the object named
 * `name` in the scenes three announced to __THREE_DEVTOOLS__ (null when none is there yet).
 */
function pageBox(page: Page, name: string): Promise<Box | null> {
  return page.evaluate((n) => {
    const scenes = (window as unknown as { __testScenes: R[] }).__testScenes;
    let obj: R | null = null;
    for (const s of scenes) obj ??= s.getObjectByName(n) ?? null;
    if (!obj) return null;
    obj.updateWorldMatrix(true, true);
    const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
    let meshes = 0, triangles = 0;
    obj.traverse((m: R) => {
      if (!m.isMesh) return;
      meshes++;
      const g = m.geometry, pos = g.attributes.position, e = m.matrixWorld.elements as number[];
      triangles += (g.index ? g.index.count : pos.count) / 3;
      for (let i = 0; i < pos.count; i++) {
        const x = pos.getX(i), y = pos.getY(i), z = pos.getZ(i);
        const w = e[3]! * x + e[7]! * y + e[11]! * z + e[15]!;
        for (let k = 0; k < 3; k++) {
          const v = (e[k]! * x + e[4 + k]! * y + e[8 + k]! * z + e[12 + k]!) / w;
          if (v < min[k]!) min[k] = v;
          if (v > max[k]!) max[k] = v;
        }
      }
    });
    return { min, max, meshes, triangles };
  }, name);
}

describe('an extracted asset in the browser', () => {
  let dir: string, lib: string, id: string, rec: AssetRecord;
  let served: Served | undefined, browser: Browser | undefined;

  beforeAll(async () => {
    if (!haveChromium) return;
    dir = tmpDir('r2s-assets-browser-');
    const ws = path.join(dir, 'objects');
    lib = path.join(dir, 'lib');
    const [s] = await Promise.all([r2s(dir, 'synth', ws, '--scene', 'objects', '--views', String(VIEWS), '--size', String(SIZE)), ensureViewerBuild()]);
    expect(s.code, s.stderr).toBe(0);
    await writeGaussianPly(path.join(ws, 'scene', 'splats.ply'), buildObjectsScene({ views: VIEWS, size: SIZE }).params, 0);
    const [x, b] = await Promise.all([
      r2s(dir, 'extract', '-w', ws, '--auto', '--pick', '1', '--no-splats-glb', '--library', lib, '--json'),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
    browser = b;
    expect(x.code, x.stderr).toBe(0);
    expect(x.json!.assets).toHaveLength(1);
    id = (x.json!.assets as { id: string }[])[0]!.id;
    rec = JSON.parse(readFileSync(path.join(lib, id, 'asset.json'), 'utf8')) as AssetRecord;
    served = await startView(path.join(lib, id));
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    served?.proc.kill('SIGTERM');
    if (dir && !process.env.R2S_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  it('Mesh and Collider load mesh.glb and collision.glb with GLTFLoader: asset.json\'s triangles, its extents within 2 %, bottom on y = 0 ± 1 mm, no page errors', async (ctx) => {
    ctx.skip(!haveChromium, `Chromium not found at ${CHROMIUM} (set R2S_CHROMIUM)`);
    expect(rec.files.mesh).toBe('mesh.glb');
    expect(rec.files.collision).toBe('collision.glb');
    expect(rec.upAxis).toBe('+Y');
    const colliderTriangles = (await readGlbMeshes(readFileSync(path.join(lib, id, 'collision.glb')))).reduce((n, m) => n + m.mesh.indices.length / 3, 0);
    expect(colliderTriangles).toBeGreaterThan(0);

    const page = await browser!.newPage({ viewport: { width: 400, height: 300 } });
    const pageErrors: string[] = [];
    const failed: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('requestfailed', (r) => failed.push(r.url()));
    page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
    // catch the page's three.js scenes (three announces each one to __THREE_DEVTOOLS__)
    await page.addInitScript(() => {
      const w = window as unknown as { __testScenes: unknown[]; __THREE_DEVTOOLS__: EventTarget };
      w.__testScenes = [];
      w.__THREE_DEVTOOLS__ = new EventTarget();
      w.__THREE_DEVTOOLS__.addEventListener('observe', (e) => {
        const o = (e as CustomEvent).detail as { isScene?: boolean };
        if (o?.isScene) w.__testScenes.push(o);
      });
    });
    const glbRequests: string[] = [];
    page.on('requestfinished', (r) => /\.glb(\?|$)/.test(r.url()) && glbRequests.push(decodeURIComponent(new URL(r.url()).pathname)));
    await page.goto(served!.url);
    await page.waitForFunction(() => (window as unknown as { __r2s?: R }).__r2s?.loaded === true, null, { timeout: 60_000 });
    const h = <T>(fn: string) => page.evaluate(`(${fn})(window.__r2s)`) as Promise<T>;

    expect(await page.locator('#asset-toggles').isVisible()).toBe(true);
    expect(await page.locator('#asset-info').textContent()).toBe(`${rec.extentsM.map((v) => v.toFixed(2)).join(' × ')} m`);
    expect(await h('(x) => x.assetObjects()')).toEqual({ mesh: null, collider: null });
    expect(await page.evaluate(() => (window as unknown as { __testScenes: unknown[] }).__testScenes.length)).toBeGreaterThan(0);

    await page.check('#tgl-mesh');
    await page.check('#tgl-collider');
    await expect.poll(() => h('(x) => x.assetObjects()'), { timeout: 60_000 }).toMatchObject({
      mesh: { visible: true, meshes: 1, triangles: rec.counts.triangles },
      // collision.glb: the hull and the convex parts
      collider: { visible: true, meshes: rec.counts.collisionParts + 1, triangles: colliderTriangles },
    });
    // the two glb files of THIS asset folder were fetched (and nothing failed)
    expect(glbRequests.some((u) => u.endsWith('/mesh.glb'))).toBe(true);
    expect(glbRequests.some((u) => u.endsWith('/collision.glb'))).toBe(true);
    expect(glbRequests.some((u) => /_lod\d\.glb$/.test(u))).toBe(false);

    // the asset frame is the page's world frame: +Y up, no rotation or offset
    expect((await h<number[]>('(x) => x.up')).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 1, 0]);
    const world = (await h<{ world: number[] }>('(x) => x.cameraState()')).world;
    world.forEach((v, i) => expect(Math.abs(v - [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1][i]!)).toBeLessThan(1e-9));

    const mesh = (await pageBox(page, 'asset-mesh'))!;
    const collider = (await pageBox(page, 'asset-collider'))!;
    expect(mesh.triangles).toBe(rec.counts.triangles);
    expect(collider.triangles).toBe(colliderTriangles);
    expect([mesh.meshes, collider.meshes]).toEqual([1, rec.counts.collisionParts + 1]);
    const size = [0, 1, 2].map((k) => mesh.max[k]! - mesh.min[k]!);
    const err = size.map((v, k) => Math.abs(v / rec.extentsM[k]! - 1));
    console.log(
      `${id}: mesh ${mesh.triangles} triangles in ${mesh.meshes} mesh(es), collider ${collider.triangles} in ${collider.meshes}; ` +
        `page box ${size.map((v) => v.toFixed(4)).join(' × ')} m vs asset.json extents ${rec.extentsM.map((v) => v.toFixed(4)).join(' × ')} ` +
        `(max error ${(100 * Math.max(...err)).toFixed(2)} %), bottom y ${(1000 * mesh.min[1]!).toFixed(3)} mm, ` +
        `centre x ${(1000 * (mesh.min[0]! + mesh.max[0]!) / 2).toFixed(2)} mm, z ${(1000 * (mesh.min[2]! + mesh.max[2]!) / 2).toFixed(2)} mm`,
    );
    expect(Math.max(...err)).toBeLessThanOrEqual(0.02);
    // the page holds the very mesh asset.json describes
    if (rec.meshExtents) size.forEach((v, k) => expect(Math.abs(v - rec.meshExtents![k]!)).toBeLessThan(1e-5));
    // pivot on the ground, +Y up: the bottom at y = 0 and the box above it
    expect(Math.abs(mesh.min[1]!)).toBeLessThanOrEqual(0.001);
    expect(mesh.max[1]!).toBeGreaterThan(0.9 * rec.extentsM[1]);
    // the collider wraps the same object
    expect(Math.abs(collider.min[1]!)).toBeLessThanOrEqual(0.01 * rec.extentsM[1]);
    for (let k = 0; k < 3; k++) expect(Math.abs(collider.max[k]! - collider.min[k]! - size[k]!)).toBeLessThanOrEqual(0.05 * size[k]!);

    await page.waitForTimeout(200); // let a late error surface
    expect(await h('(x) => x.errors')).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(failed).toEqual([]);
    await page.close();
  });
});
