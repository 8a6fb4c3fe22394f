/**
 * The viewer's editor tools in headless Chromium, on synthetic scenes whose splats are known:
 * lasso (a real mouse drag) and sphere selection against the projected / true centres, the
 * floater filter (preview, remove, undo), .ply export after a crop (SH kept, agreeing with .spz)
 * that loads again by `?file=`, the three-point ground pick and "Fit ground under view" against the
 * synthetic z = 0 ground, the quality settings (SH degree, render scale, budget), opening by
 * drag-and-drop and `?file=` (and their errors), and an asset folder's Mesh / Collider toggles.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as THREE from 'three';
import { Document, NodeIO } from '@gltf-transform/core';
import { CHROMIUM, CHROMIUM_ARGS, hooksOf, makeViewerWorkspace, openViewer, startView, tmpDir, type HookObject, type Served } from './viewer-fixture.js';
import { ensureViewerBuild } from '../src/viewer-server/build.js';
import { writeGaussianPly, decodeGaussianPly } from '../src/io/ply.js';
import { encodeSpz, decodeSpz } from '../src/io/spz.js';
import { readUserFrame } from '../src/io/user-frame.js';
import type { SynthCapture } from '../src/synthetic/generate.js';
import type { GaussianParams } from '../src/core/gaussians.js';

const haveChromium = existsSync(CHROMIUM);
type R = HookObject;
type V3 = [number, number, number];
const r2s = hooksOf;

function alloc(count: number): GaussianParams {
  return { count, means: new Float32Array(count * 3), logScales: new Float32Array(count * 3), quats: new Float32Array(count * 4), opacityLogits: new Float32Array(count), sh: new Float32Array(count * 48) };
}

function concat(a: GaussianParams, b: GaussianParams): GaussianParams {
  const out = alloc(a.count + b.count);
  for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) {
    out[k].set(a[k], 0);
    out[k].set(b[k], a[k].length);
  }
  return out;
}

/** A deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Two flat opaque patches (n×n each) facing +z, with strong random degree-3 SH. */
function shScene(n = 10): GaussianParams {
  const rand = rng(7);
  const p = alloc(2 * n * n);
  let k = 0;
  for (const cx of [-0.6, 0.6])
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++, k++) {
        p.means.set([cx + ((i + 0.5) / n - 0.5), (j + 0.5) / n - 0.5, 0], k * 3);
        p.logScales.set([Math.log(1 / n), Math.log(1 / n), Math.log(1e-3)], k * 3);
        p.quats.set([1, 0, 0, 0], k * 4);
        p.opacityLogits[k] = 5;
        p.sh.set([0.2 * rand() - 0.1, 0.2 * rand() - 0.1, 0.2 * rand() - 0.1], k * 48);
        for (let c = 3; c < 48; c++) p.sh[k * 48 + c] = 0.8 * rand() - 0.4;
      }
  return p;
}

/** float16 spacing at x (Spark stores splat centres as float16) */
function ulp16(x: number): number {
  const a = Math.abs(x);
  return a < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(a)) - 10);
}

function pointInPolygon(x: number, y: number, poly: Array<[number, number]>): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!, [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The page's projection (scene frame → client pixels, null behind the camera), from cameraState(). */
function projector(st: { world: number[]; view: number[]; proj: number[]; rect: { left: number; top: number; width: number; height: number } }) {
  const toCam = new THREE.Matrix4().fromArray(st.view).multiply(new THREE.Matrix4().fromArray(st.world));
  const proj = new THREE.Matrix4().fromArray(st.proj);
  const v = new THREE.Vector3();
  return (x: number, y: number, z: number): [number, number] | null => {
    v.set(x, y, z).applyMatrix4(toCam);
    if (v.z >= 0) return null;
    v.applyMatrix4(proj);
    return [st.rect.left + ((v.x + 1) / 2) * st.rect.width, st.rect.top + ((1 - v.y) / 2) * st.rect.height];
  };
}

/**
 * How many of `means` `inside` accepts, and how many are ambiguous: their verdict changes somewhere
 * in the box of float16 rounding around them (Spark stores centres as float16).
 */
function knownCount(means: Float32Array, inside: (x: number, y: number, z: number) => boolean): { n: number; ambiguous: number } {
  let n = 0, ambiguous = 0;
  for (let i = 0; i < means.length / 3; i++) {
    const [x, y, z] = [means[i * 3]!, means[i * 3 + 1]!, means[i * 3 + 2]!];
    const v = inside(x, y, z);
    if (v) n++;
    const [ex, ey, ez] = [x, y, z].map((c) => 1.01 * ulp16(c));
    let differs = false;
    for (let c = 0; c < 8 && !differs; c++) differs = inside(x + (c & 1 ? ex : -ex)!, y + (c & 2 ? ey : -ey)!, z + (c & 4 ? ez : -ez)!) !== v;
    if (differs) ambiguous++;
  }
  return { n, ambiguous };
}

/** Mean absolute RGB difference (0..255) of two PNG data URLs, decoded in the page. */
function imageDiff(page: Page, a: string, b: string): Promise<number> {
  return page.evaluate(async ([a, b]) => {
    const px = async (src: string) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext('2d')!;
      g.drawImage(img, 0, 0);
      return g.getImageData(0, 0, c.width, c.height).data;
    };
    const [p, q] = [await px(a), await px(b)];
    let s = 0;
    for (let i = 0; i < p.length; i += 4) s += Math.abs(p[i]! - q[i]!) + Math.abs(p[i + 1]! - q[i + 1]!) + Math.abs(p[i + 2]! - q[i + 2]!);
    return s / ((p.length / 4) * 3);
  }, [a, b] as const);
}

/** A one-mesh GLB (positions + indices). */
async function glb(positions: number[], indices: number[]): Promise<Uint8Array> {
  const doc = new Document();
  const buf = doc.createBuffer();
  const pos = doc.createAccessor().setType('VEC3').setArray(new Float32Array(positions)).setBuffer(buf);
  const idx = doc.createAccessor().setType('SCALAR').setArray(new Uint16Array(indices)).setBuffer(buf);
  const prim = doc.createPrimitive().setAttribute('POSITION', pos).setIndices(idx).setMaterial(doc.createMaterial('m').setBaseColorFactor([0.8, 0.5, 0.2, 1]));
  doc.createScene('s').addChild(doc.createNode('n').setMesh(doc.createMesh('mesh').addPrimitive(prim)));
  return await new NodeIO().writeBinary(doc);
}

/** up within 1° of +z and origin on z = 0 within 1 % of the 4-unit synthetic scene */
function expectGroundFrame(f: { up?: number[]; origin?: number[] } | null): void {
  const up = new THREE.Vector3(...(f!.up as V3)).normalize();
  const deg = (Math.acos(Math.min(1, up.z)) * 180) / Math.PI;
  expect(deg).toBeLessThan(1);
  expect(Math.abs(f!.origin![2]!)).toBeLessThan(0.01 * 4);
}

describe.skipIf(!haveChromium)('viewer editor tools', () => {
  let browser: Browser;
  let cap: SynthCapture;
  let dir: string, ws: string, shWs: string, assetDir: string;
  let sh: GaussianParams, floaterScene: GaussianParams;
  const floaterPos: V3[] = [[9, 4, 3], [-8, 6, 5], [7, -9, 2], [-6, -7, 8], [3, 10, -4]];
  const servers: Served[] = [];
  let main: Served, shServed: Served, asset: Served;

  beforeAll(async () => {
    dir = tmpDir('r2s-viewer-editor-');
    ws = path.join(dir, 'ws');
    shWs = path.join(dir, 'ws-sh');
    const [c] = await Promise.all([makeViewerWorkspace(ws, { views: 3, size: 64 }), ensureViewerBuild()]);
    cap = c;
    // a workspace without cameras: an SH scene, and other files opened with ?file=
    sh = shScene();
    mkdirSync(path.join(shWs, 'scene'), { recursive: true });
    await writeGaussianPly(path.join(shWs, 'scene', 'splats.ply'), sh, 3);
    await writeGaussianPly(path.join(shWs, 'ground.ply'), cap.scene, 0);
    const faint = alloc(floaterPos.length);
    floaterPos.forEach((p, i) => {
      faint.means.set(p, i * 3);
      faint.logScales.set([-3, -3, -3], i * 3);
      faint.quats.set([1, 0, 0, 0], i * 4);
      faint.opacityLogits[i] = Math.log(0.02 / 0.98);
      faint.sh.set([0.5, 0.5, 0.5], i * 48);
    });
    floaterScene = concat(cap.scene, faint);
    await writeGaussianPly(path.join(shWs, 'floaters.ply'), floaterScene, 0);
    writeFileSync(path.join(shWs, 'broken.spz'), Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 37) & 255)));
    // an asset folder: splats.spz, a box mesh (12 triangles), a tetrahedron collider (4)
    assetDir = path.join(dir, 'assets', 'crate');
    mkdirSync(assetDir, { recursive: true });
    writeFileSync(path.join(assetDir, 'splats.spz'), encodeSpz(shScene(6), 0));
    const boxP = [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1].map((v) => v * 0.5);
    const boxI = [0, 2, 1, 0, 3, 2, 4, 5, 6, 4, 6, 7, 0, 1, 5, 0, 5, 4, 1, 2, 6, 1, 6, 5, 2, 3, 7, 2, 7, 6, 3, 0, 4, 3, 4, 7];
    writeFileSync(path.join(assetDir, 'mesh.glb'), await glb(boxP, boxI));
    writeFileSync(path.join(assetDir, 'collision.glb'), await glb([0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5], [0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3]));
    writeFileSync(path.join(assetDir, 'asset.json'), JSON.stringify({ extentsM: [0.5, 0.5, 0.5], scale: 'metric' }));
    [main, shServed, asset, browser] = await Promise.all([startView(ws), startView(shWs), startView(assetDir), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })]);
    servers.push(main, shServed, asset);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.proc.kill('SIGTERM');
  });

  it('lasso drawn with the mouse selects the splats whose projected centres fall inside; sphere selects those inside it', async () => {
    const page = await openViewer(browser, main.url, 400, 300);
    const h = r2s(page);
    await h((x) => x.jumpToCamera(0));
    await h((x) => x.openPanel('edit'));
    await page.click('#tool-lasso');
    const before = await h((x) => x.cameraState());
    // a concave outline (a notched quadrilateral) around the middle of the view, drawn by mouse
    const drawn: Array<[number, number]> = [[90, 70], [310, 60], [330, 240], [200, 150], [80, 230]];
    await page.mouse.move(...drawn[0]!);
    await page.mouse.down();
    for (const p of drawn.slice(1)) await page.mouse.move(...p);
    await page.mouse.up();
    const got = await h((x) => x.selectedCount);
    const st = await h((x) => x.cameraState());
    // the drag drew an outline: the view did not orbit meanwhile
    expect(st.view).toEqual(before.view);
    const toScreen = projector(st);
    const exp = knownCount(cap.scene.means, (x, y, z) => {
      const s = toScreen(x, y, z);
      return !!s && pointInPolygon(s[0], s[1], drawn);
    });
    expect(exp.n).toBeGreaterThan(100);
    expect(exp.n).toBeLessThan(cap.scene.count - 100);
    expect(exp.ambiguous).toBeLessThan(exp.n * 0.02);
    expect(Math.abs(got - exp.n)).toBeLessThanOrEqual(exp.ambiguous);
    expect(await page.locator('#sel-count').textContent()).toBe(got.toLocaleString('en-US'));
    // and it deletes what it selected
    await page.click('#btn-sel-delete');
    expect(await h((x) => x.splatCount)).toBe(cap.scene.count - got);
    await page.click('#btn-undo');
    expect(await h((x) => x.splatCount)).toBe(cap.scene.count);

    // sphere: centre and radius in the scene frame; the known centres within the radius
    const centre: V3 = [-0.8, -0.8, 0.45], radius = 0.7;
    const inSphere = await h((x, a) => x.setSphere(a[0], a[1]), [centre, radius]);
    const expS = knownCount(cap.scene.means, (x, y, z) => Math.hypot(x - centre[0], y - centre[1], z - centre[2]) <= radius);
    expect(expS.n).toBeGreaterThan(200);
    expect(Math.abs(inSphere - expS.n)).toBeLessThanOrEqual(expS.ambiguous);
    await page.close();
  });

  it('floater filter previews exactly the faint isolated splats far away, removes them, undo restores them', async () => {
    const page = await openViewer(browser, `${shServed.url}?file=/files/ws/floaters.ply`, 400, 300);
    const h = r2s(page);
    const total = floaterScene.count;
    expect(await h((x) => ({ n: x.splatCount, e: x.errors }))).toEqual({ n: total, e: [] });
    await h((x) => x.openPanel('edit'));
    await page.click('#btn-floater-preview');
    const marked: number[] = await h((x) => x.floaterPreview);
    expect(marked).toEqual(floaterPos.map((_, i) => cap.scene.count + i));
    expect(await page.locator('#floater-count').textContent()).toBe(`${floaterPos.length} floaters`);
    // the preview tints them without removing anything
    expect(await h((x) => x.splatCount)).toBe(total);
    await page.click('#btn-floater-remove');
    expect(await h((x) => ({ n: x.splatCount, p: x.floaterPreview }))).toEqual({ n: cap.scene.count, p: null });
    await page.keyboard.press('z');
    expect(await h((x) => x.splatCount)).toBe(total);
    // after undo the preview is off; Preview shows it again (not toggled off by a stale state)
    await page.click('#btn-floater-preview');
    expect((await h((x) => x.floaterPreview))?.length).toBe(floaterPos.length);
    await page.close();
  });

  it('.ply export after a crop keeps SH (agrees with .spz) and loads again by ?file=; drag-and-drop opens .spz; bad files are errors', async () => {
    const page = await openViewer(browser, shServed.url, 400, 300);
    const h = r2s(page);
    expect(await h((x) => x.splatCount)).toBe(sh.count);
    await h((x) => x.openPanel('edit'));
    // crop: delete the left patch's middle (a box around x = −0.6)
    const inside = await h((x) => x.setBox([-0.6, 0, 0], [0.5, 0.5, 0.2]));
    expect(inside).toBeGreaterThan(10);
    await h((x) => x.deleteSelection());
    const kept = sh.count - inside;
    expect(await h((x) => x.splatCount)).toBe(kept);
    const dl = page.waitForEvent('download');
    await page.click('#btn-export-ply');
    const plyFile = path.join(shWs, 'cropped.ply');
    await (await dl).saveAs(plyFile);
    const spz = Buffer.from(await h((x) => x.exportScene('spz')), 'base64');
    const fromPly = decodeGaussianPly(readFileSync(plyFile), plyFile);
    const fromSpz = decodeSpz(spz);
    expect(fromPly.params.count).toBe(kept);
    expect(fromSpz.params.count).toBe(kept);
    expect(fromPly.shDegree).toBe(3);
    expect(fromSpz.shDegree).toBe(3);
    // each exported splat against its source (matched by position) and the two exports against
    // each other: packed SH steps are 1/63, 1/127, 1/31 (sh1, sh2, sh3); .spz's are coarser
    const source = (x: number, y: number) => {
      let best = -1, bd = Infinity;
      for (let i = 0; i < sh.count; i++) {
        const d = (sh.means[i * 3]! - x) ** 2 + (sh.means[i * 3 + 1]! - y) ** 2;
        if (d < bd) (bd = d), (best = i);
      }
      return best;
    };
    let maxPly = 0, maxSpz = 0;
    for (let k = 0; k < kept; k++) {
      const i = source(fromPly.params.means[k * 3]!, fromPly.params.means[k * 3 + 1]!);
      for (let c = 3; c < 48; c++) {
        const truth = sh.sh[i * 48 + c]!;
        maxPly = Math.max(maxPly, Math.abs(fromPly.params.sh[k * 48 + c]! - truth));
        maxSpz = Math.max(maxSpz, Math.abs(fromSpz.params.sh[k * 48 + c]! - fromPly.params.sh[k * 48 + c]!));
      }
    }
    expect(maxPly).toBeLessThan(0.02);
    expect(maxSpz).toBeLessThan(0.1);
    await page.close();

    // the exported .ply opened by ?file= (served from the workspace)
    const p2 = await openViewer(browser, `${shServed.url}?file=/files/ws/cropped.ply`, 400, 300);
    expect(await r2s(p2)((x) => ({ n: x.splatCount, e: x.errors }))).toEqual({ n: kept, e: [] });
    // the .spz dropped on the page replaces the scene
    const dt = await p2.evaluateHandle((b64: string) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'dropped.spz'));
      return dt;
    }, spz.toString('base64'));
    await p2.dispatchEvent('body', 'drop', { dataTransfer: dt });
    await expect.poll(() => p2.locator('#title').textContent()).toBe('dropped.spz');
    expect(await r2s(p2)((x) => ({ n: x.splatCount, e: x.errors }))).toEqual({ n: kept, e: [] });
    // a bad drop: not a splat file; a .ply that is not one
    for (const [name, text] of [['notes.txt', 'hello'], ['fake.ply', 'hello world']] as const) {
      const bad = await p2.evaluateHandle(([n, t]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([t], n));
        return dt;
      }, [name, text] as const);
      await p2.dispatchEvent('body', 'drop', { dataTransfer: bad });
    }
    await expect.poll(() => r2s(p2)((x) => x.errors.length)).toBe(2);
    const errs: string[] = await r2s(p2)((x) => x.errors);
    expect(errs[0]).toMatch(/notes\.txt is not a splat file/);
    expect(errs[1]).toMatch(/fake\.ply.*not a PLY file/);
    expect(await p2.locator('#error').isVisible()).toBe(true);
    // the scene shown before the bad drops stays
    expect(await r2s(p2)((x) => x.splatCount)).toBe(kept);
    await p2.close();

    // ?file= with a broken file and a missing one: an error in the page
    for (const [f, msg] of [['broken.spz', /Could not load broken\.spz/], ['missing.ply', /Could not load missing\.ply: .*HTTP 404/]] as const) {
      const p3 = await openViewer(browser, `${shServed.url}?file=/files/ws/${f}`, 400, 300);
      expect(await p3.locator('#error').textContent()).toMatch(msg);
      await p3.close();
    }
  });

  it('three ground points and "Fit ground under view" give up within 1° of the true ground normal and an origin on it', async () => {
    // a lone file: its starting up is COLMAP's −y, perpendicular to the truth
    const page = await openViewer(browser, `${shServed.url}?file=/files/ws/ground.ply`, 800, 600);
    const h = r2s(page);
    await h((x) => x.openPanel('measure'));
    await page.click('#measure-mode-ground');
    // above the bare ground corner (objects are elsewhere: sphere x,y < 0, box y > −0.65); this
    // frame's view up is the scene's −y, so scene +x is to the left: the points land right of the panel
    await h((x) => x.lookAt([1.7, -2.6, 1.8], [1.7, -1.3, 0]));
    await h((x) => x.settle());
    // ground splat centres (a 0.1 grid from −1.95): Spark's raycast has pinholes at the grid's corners
    const pts: V3[] = [[1.65, -1.65, 0], [0.55, -1.55, 0], [1.45, -0.95, 0]];
    for (const p of pts) {
      const s = await h((x, a) => x.screenOf(a), p);
      expect(s.inFront).toBe(true);
      // on the canvas, clear of the panel (left 320 px) and the toolbar
      expect(await page.evaluate(([x, y]) => document.elementFromPoint(x, y)?.tagName, [s.x, s.y]), JSON.stringify(s)).toBe('CANVAS');
      await page.mouse.click(s.x, s.y);
    }
    expect((await h((x) => x.measurePoints)).length).toBe(3);
    expect(await h((x) => x.up[2])).toBeGreaterThan(0.999);
    let dl = page.waitForEvent('download');
    await page.click('#btn-save-frame');
    const out1 = path.join(dir, 'frame-3pt');
    mkdirSync(out1);
    await (await dl).saveAs(path.join(out1, 'user-frame.json'));
    expectGroundFrame(readUserFrame(out1));
    await page.close();

    // Fit ground under view, from a capture camera of the workspace (objects in view)
    const p2 = await openViewer(browser, main.url, 480, 360);
    const h2 = r2s(p2);
    await h2((x) => x.openPanel('measure'));
    for (const cam of [0, 1, 2]) {
      await h2((x, a) => x.jumpToCamera(a), cam);
      await p2.click('#btn-fit-ground');
      expect(await p2.locator('#measure-result').textContent()).toMatch(/ground fitted to \d+ of \d+ points/);
      dl = p2.waitForEvent('download');
      await p2.click('#btn-save-frame');
      const out = path.join(dir, `frame-fit-${cam}`);
      mkdirSync(out);
      await (await dl).saveAs(path.join(out, 'user-frame.json'));
      expectGroundFrame(readUserFrame(out));
      // the note with the cp command stays until closed (it covered the panel's buttons here)
      expect(await p2.locator('#note').textContent()).toContain('user-frame.json');
      await p2.click('#note .note-close');
      expect(await p2.locator('#note').isVisible()).toBe(false);
    }
    await p2.close();
  });

  it('quality: the budget caps the drawn splats, render scale sizes the drawing buffer, SH degree changes a view-dependent render', async () => {
    const page = await openViewer(browser, shServed.url, 320, 240);
    const h = r2s(page);
    await h((x) => x.lookAt([0.3, -1.2, 1.6], [0, 0, 0]));
    await h((x) => x.openPanel('settings'));
    // budget
    await page.fill('#q-budget', '50');
    await page.dispatchEvent('#q-budget', 'change');
    expect(await h((x) => ({ drawn: x.splatCount, kept: x.keptSplats }))).toEqual({ drawn: 50, kept: sh.count });
    await page.fill('#q-budget', '');
    await page.dispatchEvent('#q-budget', 'change');
    expect(await h((x) => x.splatCount)).toBe(sh.count);
    // render scale
    expect((await h((x) => x.cameraState())).buffer).toEqual({ width: 320, height: 240 });
    await page.selectOption('#q-scale', '0.5');
    expect((await h((x) => x.cameraState())).buffer).toEqual({ width: 160, height: 120 });
    await page.selectOption('#q-scale', '1');
    // SH degree: 3 → 0 changes the image of view-dependent splats; back to 3 gives it again
    await h((x) => x.settle());
    const shot3 = await h((x) => x.screenshot());
    await page.selectOption('#q-sh', '0');
    await h((x) => x.settle());
    const shot0 = await h((x) => x.screenshot());
    await page.selectOption('#q-sh', '3');
    await h((x) => x.settle());
    const again = await h((x) => x.screenshot());
    const changed = await imageDiff(page, shot3, shot0), same = await imageDiff(page, shot3, again);
    expect(changed).toBeGreaterThan(5);
    expect(same).toBeLessThan(0.5);
    await page.close();
  });

  it('asset folder: Mesh and Collider toggles load the GLBs with GLTFLoader and show / hide them', async () => {
    const page = await openViewer(browser, asset.url, 400, 300);
    const h = r2s(page);
    expect(await page.locator('#asset-toggles').isVisible()).toBe(true);
    expect(await page.locator('#asset-info').textContent()).toBe('0.50 × 0.50 × 0.50 m');
    expect(await h((x) => x.assetObjects())).toEqual({ mesh: null, collider: null });
    await page.check('#tgl-mesh');
    await expect.poll(() => h((x) => x.assetObjects().mesh)).toEqual({ visible: true, meshes: 1, triangles: 12 });
    await page.check('#tgl-collider');
    await expect.poll(() => h((x) => x.assetObjects().collider)).toEqual({ visible: true, meshes: 1, triangles: 4 });
    await page.uncheck('#tgl-mesh');
    await expect.poll(() => h((x) => x.assetObjects().mesh?.visible)).toBe(false);
    await page.uncheck('#tgl-collider');
    await expect.poll(() => h((x) => x.assetObjects().collider?.visible)).toBe(false);
    await page.check('#tgl-mesh');
    await expect.poll(() => h((x) => x.assetObjects().mesh?.visible)).toBe(true);
    expect(await h((x) => ({ e: x.errors, n: x.splatCount }))).toEqual({ e: [], n: 72 });
    await page.close();
  });
});
