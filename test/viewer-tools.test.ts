/**
 * Viewer defects of issue 12 and the editing / measuring tools, in headless Chromium:
 * compare follows the camera, placed assets land in view on the local ground, ◀/▶ from free view,
 * a readable first view (no frustum tunnel, a hint, help on ?/h), C and Esc close Compare after
 * the slider, no camera controls without cameras, an empty catalog, fly speed at low frame rates,
 * non-finite splats; box crop (count), export .spz and load it again, a two-point measurement on a
 * scene of known size (1 %), and a rescale that `readUserFrame` (the next stage's reader) reads.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as THREE from 'three';
import { CHROMIUM, CHROMIUM_ARGS, hooksOf, makeViewerWorkspace, openViewer, startView, tmpDir, type HookObject, type Served } from './viewer-fixture.js';
import { ensureViewerBuild } from '../src/viewer-server/build.js';
import { writeGaussianPly } from '../src/io/ply.js';
import { readColmapModel, writeColmapModel } from '../src/io/colmap.js';
import { readUserFrame } from '../src/io/user-frame.js';
import type { SynthCapture } from '../src/synthetic/generate.js';
import type { GaussianParams } from '../src/core/gaussians.js';

const haveChromium = existsSync(CHROMIUM);
type R = HookObject;
const r2s = hooksOf;

/** Flat opaque patches (n×n splats, side `side`) centred at the given points, facing +z. */
function patches(centres: Array<[number, number, number]>, n = 12, side = 0.4): GaussianParams {
  const count = centres.length * n * n;
  const p: GaussianParams = { count, means: new Float32Array(count * 3), logScales: new Float32Array(count * 3), quats: new Float32Array(count * 4), opacityLogits: new Float32Array(count), sh: new Float32Array(count * 48) };
  let k = 0;
  for (const c of centres)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++, k++) {
        p.means.set([c[0] + ((i + 0.5) / n - 0.5) * side, c[1] + ((j + 0.5) / n - 0.5) * side, c[2]], k * 3);
        p.logScales.set([Math.log(side / n), Math.log(side / n), Math.log(1e-3)], k * 3);
        p.quats.set([1, 0, 0, 0], k * 4);
        p.opacityLogits[k] = 6;
        p.sh.set([1, 1, 1], k * 48);
      }
  return p;
}

describe.skipIf(!haveChromium)('viewer tools and issue-12 defects', () => {
  let browser: Browser;
  let cap: SynthCapture;
  let dir: string, ws: string, measureWs: string;
  const servers: Served[] = [];
  let main: Served, empty: Served, measured: Served, nan: Served, allNan: Served;

  beforeAll(async () => {
    dir = tmpDir('r2s-viewer-tools-');
    ws = path.join(dir, 'ws');
    const [c] = await Promise.all([makeViewerWorkspace(ws, { views: 4, size: 96 }), ensureViewerBuild()]);
    cap = c;
    // a far, deep patch of sparse points: one global "ground" percentile lands there; the local
    // ground under the view must not
    const model = await readColmapModel(path.join(ws, 'sparse'));
    let id = Math.max(...model.points3D.keys()) + 1;
    const extra = Math.ceil(model.points3D.size * 0.3);
    for (let i = 0; i < extra; i++, id++) model.points3D.set(id, { id, xyz: [60 + (i % 10), (i % 7) - 3, -100], rgb: [90, 90, 90], error: 0.5, track: [] });
    await writeColmapModel(path.join(ws, 'sparse'), model);
    mkdirSync(path.join(ws, 'assets', 'ball'), { recursive: true });
    await writeGaussianPly(path.join(ws, 'assets', 'ball', 'splats.ply'), patches([[0, 0, 0]], 6, 0.3), 0);
    writeFileSync(path.join(ws, 'assets', 'catalog.json'), JSON.stringify({ kind: 'r2s.catalog', version: 1, assets: [{ id: 'ball', name: 'Ball', path: 'ball', splats: 'splats.ply', extentsM: [0.3, 0.3, 0.01], scale: 'metric', gaussians: 36 }] }));
    // an empty catalog
    const ws2 = path.join(dir, 'ws-empty');
    await makeViewerWorkspace(ws2, { views: 2, size: 48 });
    mkdirSync(path.join(ws2, 'assets'), { recursive: true });
    writeFileSync(path.join(ws2, 'assets', 'catalog.json'), JSON.stringify({ kind: 'r2s.catalog', version: 1, assets: [] }));
    // two patches 2.000 scene units apart (centre to centre), in a workspace with no cameras
    measureWs = path.join(dir, 'ws-measure');
    mkdirSync(path.join(measureWs, 'scene'), { recursive: true });
    await writeGaussianPly(path.join(measureWs, 'scene', 'splats.ply'), patches([[-1, 0, 0], [1, 0, 0]]), 0);
    // non-finite splats
    const bad = patches([[0, 0, 0]], 10);
    bad.means[3 * 7] = NaN;
    bad.logScales[3 * 20 + 1] = Infinity;
    await writeGaussianPly(path.join(dir, 'nan.ply'), bad, 0);
    const worse = patches([[0, 0, 0]], 3);
    worse.means.fill(NaN);
    await writeGaussianPly(path.join(dir, 'all-nan.ply'), worse, 0);
    [main, empty, measured, nan, allNan, browser] = await Promise.all([
      startView(ws),
      startView(ws2),
      startView(measureWs),
      startView(path.join(dir, 'nan.ply')),
      startView(path.join(dir, 'all-nan.ply')),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
    servers.push(main, empty, measured, nan, allNan);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.proc.kill('SIGTERM');
  });

  it('defects 1, 3, 4, 5, 8: compare follows the camera, ◀/▶ from free view, first view, keys, fly speed', async () => {
    const page = await openViewer(browser, main.url, 800, 600);
    const h = r2s(page);
    // 4: first view at camera 1 without the frustum tunnel; a hint; ? and h open help
    expect(await h((x) => ({ at: x.atCapture, frus: x.frustumsVisible, errors: x.errors }))).toEqual({ at: 0, frus: false, errors: [] });
    expect(await page.locator('#hint').isVisible()).toBe(true);
    await page.keyboard.press('?');
    expect(await h((x) => x.helpOpen)).toBe(true);
    await page.keyboard.press('Escape');
    await page.keyboard.press('h');
    expect(await h((x) => x.helpOpen)).toBe(true);
    await page.keyboard.press('h');
    // frustums on: shown in free view, hidden at a camera, in Compare and while playing
    await h((x) => x.setToggle('frustums', true));
    expect(await h((x) => x.frustumsVisible)).toBe(false);

    // 1: compare → ▶ shows the next camera's photo; so does the dropdown
    const photos = await page.evaluate(() => fetch('/api/cameras.json').then((r) => r.json()).then((j) => j.cameras.map((c: { photo: string }) => c.photo)));
    await h((x) => x.openCompare());
    expect(await h((x) => x.comparePhoto)).toBe(photos[0]);
    expect(await h((x) => x.frustumsVisible)).toBe(false);
    await page.click('#btn-next');
    await expect.poll(() => h((x) => x.comparePhoto)).toBe(photos[1]);
    expect(await h((x) => x.atCapture)).toBe(1);
    await page.selectOption('#sel-camera', '3');
    await expect.poll(() => h((x) => x.comparePhoto)).toBe(photos[3]);

    // 5: after using the slider, C closes Compare; Escape closes it too
    await page.locator('#compare-slider').click();
    await page.keyboard.press('c');
    expect(await h((x) => x.compareActive)).toBe(false);
    await h((x) => x.openCompare());
    await page.locator('#compare-slider').click();
    await page.keyboard.press('Escape');
    expect(await h((x) => x.compareActive)).toBe(false);

    // 3: leave camera 2 (index 1) by a small fly step; ▶ goes to 3, ◀ to 1, not to camera 1
    await h((x) => x.jumpToCamera(1));
    await h((x) => x.flyStep('KeyW', 0.01));
    await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
    expect(await h((x) => x.atCapture)).toBe(null);
    expect(await page.locator('#sel-camera').inputValue()).toBe('');
    expect(await h((x) => x.frustumsVisible)).toBe(true);
    await page.click('#btn-next');
    expect(await h((x) => x.atCapture)).toBe(2);
    await h((x) => x.flyStep('KeyW', 0.01));
    await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
    await page.click('#btn-prev');
    expect(await h((x) => x.atCapture)).toBe(1);
    // the dropdown leaves the old camera while playing
    await h((x) => x.togglePlay());
    expect(await page.locator('#sel-camera').inputValue()).toBe('');
    expect(await h((x) => x.frustumsVisible)).toBe(false);
    await h((x) => x.togglePlay());

    // 8: a 0.5 s frame moves 0.5 s worth (not capped at 0.1 s)
    expect(await h((x) => x.flyStep('KeyW', 0.5))).toBeCloseTo(0.5, 5);
    await page.close();
  });

  it('defect 2: a double-clicked asset lands inside the image, on the ground under the view', async () => {
    const page = await openViewer(browser, main.url, 400, 300);
    const h = r2s(page);
    await h((x) => x.jumpToCamera(0));
    await page.locator('#asset-list li').dblclick();
    await expect.poll(() => h((x) => x.arrangement().items.length)).toBe(1);
    const s = await h((x) => x.assetOnScreen(0));
    expect(s.inFront).toBe(true);
    expect(s.x).toBeGreaterThan(0);
    expect(s.x).toBeLessThan(s.w);
    expect(s.y).toBeGreaterThan(0);
    expect(s.y).toBeLessThan(s.h);
    // the ground under the scene is near the synthetic ground (z ≈ 0 → viewer y ≈ 0), not at −100
    expect(Math.abs(s.bottomY)).toBeLessThan(1);
    await page.close();
  });

  it('defects 6, 7: no camera controls without cameras; an empty catalog is a note with tools disabled', async () => {
    const page = await openViewer(browser, measured.url);
    expect(await page.locator('#btn-play').isVisible()).toBe(false);
    expect(await page.locator('#btn-compare').isVisible()).toBe(false);
    expect(await page.locator('#sel-camera').isVisible()).toBe(false);
    await page.close();
    const p2 = await openViewer(browser, empty.url);
    expect(await p2.locator('#asset-list li').count()).toBe(0);
    expect(await p2.locator('#assets-empty').isVisible()).toBe(true);
    for (const b of await p2.locator('#asset-tools button').all()) expect(await b.isDisabled()).toBe(true);
    await p2.close();
  });

  it('reports and drops non-finite splats; all non-finite is an error in the page', async () => {
    const page = await openViewer(browser, nan.url);
    const r = await r2s(page)((x) => ({ n: x.splatCount, w: x.warnings, e: x.errors }));
    expect(r.e).toEqual([]);
    expect(r.n).toBe(98);
    expect(r.w.join(' ')).toMatch(/2 of 100 splats have non-finite values .*first at index 7/);
    expect(await page.locator('#warning').isVisible()).toBe(true);
    await page.close();
    const p2 = await openViewer(browser, allNan.url);
    expect(await p2.locator('#error').textContent()).toMatch(/all 9 splats have non-finite values/);
    await p2.close();
  });

  it('box crop removes the splats inside (count), undo, box selection file, export .spz that loads again', async () => {
    const page = await openViewer(browser, main.url);
    const h = r2s(page);
    const total = cap.scene.count;
    const centre: [number, number, number] = [0, 0, 0.3], size: [number, number, number] = [0.8, 0.8, 0.8];
    const inside = await h((x, a) => x.setBox(a[0], a[1]), [centre, size]);
    const sel = await h((x) => x.boxSelection());
    expect(sel).toMatchObject({ kind: 'r2s.box-selection', version: 1, size, splats: inside });
    sel.center.forEach((v: number, k: number) => expect(v).toBeCloseTo(centre[k]!, 4));
    // the known set: true centres inside the saved box (rotation maps box axes to scene axes)
    const [w, qx, qy, qz] = sel.rotation as [number, number, number, number];
    const toBox = new THREE.Quaternion(qx, qy, qz, w).invert();
    let expected = 0, ambiguous = 0;
    for (let i = 0; i < total; i++) {
      const d = [0, 1, 2].map((k) => cap.scene.means[i * 3 + k]! - sel.center[k]);
      const l = new THREE.Vector3(d[0], d[1], d[2]).applyQuaternion(toBox).toArray();
      const margin = Math.min(...l.map((v, k) => sel.size[k] / 2 - Math.abs(v)));
      if (margin >= 0) expected++;
      if (Math.abs(margin) < 3e-3) ambiguous++;
    }
    expect(expected).toBeGreaterThan(20);
    expect(Math.abs(inside - expected)).toBeLessThanOrEqual(ambiguous);
    expect(sel.up[2]).toBeGreaterThan(0.9); // synthetic world is z-up
    expect(await h((x) => x.deleteSelection())).toBe(inside);
    expect(await h((x) => x.splatCount)).toBe(total - inside);
    await h((x) => x.undo());
    expect(await h((x) => x.splatCount)).toBe(total);
    expect(await h((x) => x.keepSelection())).toBe(total - inside);
    expect(await h((x) => x.splatCount)).toBe(inside);
    // the saved box file is what r2s extract --box reads; the page shows the command
    const dl = page.waitForEvent('download');
    await h(() => document.getElementById('btn-box-save')!.click());
    const boxFile = path.join(dir, 'box.json');
    await (await dl).saveAs(boxFile);
    expect(JSON.parse(readFileSync(boxFile, 'utf8'))).toMatchObject({ kind: 'r2s.box-selection', splats: inside, source: ws });
    expect(await page.locator('#note').textContent()).toContain(`r2s extract -w ${ws} --box`);
    // export .spz and view it again
    const b64 = await h((x) => x.exportScene('spz'));
    const spz = path.join(dir, 'cropped.spz');
    writeFileSync(spz, Buffer.from(b64, 'base64'));
    await page.close();
    const again = await startView(spz);
    servers.push(again);
    const p2 = await openViewer(browser, again.url);
    expect(await r2s(p2)((x) => ({ n: x.splatCount, e: x.errors }))).toEqual({ n: inside, e: [] });
    await p2.close();
  });

  it('measures a known distance within 1 %, and a rescale reaches readUserFrame', async () => {
    const page = await openViewer(browser, measured.url, 480, 360);
    const h = r2s(page);
    expect(await h((x) => x.frameLabel)).toMatch(/arbitrary/);
    await h((x) => x.openPanel('measure'));
    await h((x) => x.lookAt([0, -0.5, 3], [0, 0, 0]));
    await h((x) => x.settle());
    for (const c of [[-1, 0, 0], [1, 0, 0]]) {
      const s = await h((x, a) => x.screenOf(a), c);
      expect(await h((x, a) => x.pick(a.x, a.y), s)).not.toBeNull();
    }
    const d = await h((x) => x.measuredDistance);
    expect(Math.abs(d - 2) / 2).toBeLessThan(0.01);
    // the two points are 5 m apart in truth
    const factor = await h((x) => x.setScale(5));
    expect(factor).toBeCloseTo(5 / d, 9);
    const dl = page.waitForEvent('download');
    await page.click('#btn-save-frame');
    await (await dl).saveAs(path.join(measureWs, 'user-frame.json'));
    expect(await page.locator('#note').textContent()).toContain(`${measureWs}/user-frame.json`);
    await page.close();
    // the next stage's reader
    const f = readUserFrame(measureWs);
    expect(Math.abs(f!.scale!.factor - 2.5) / 2.5).toBeLessThan(0.01);
    // and the viewer shows it once it is in place
    const p2 = await openViewer(browser, measured.url);
    expect(await r2s(p2)((x) => x.frameLabel)).toMatch(/metric \(from measurement/);
    await p2.close();
  });
});
