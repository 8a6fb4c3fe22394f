/**
 * End-to-end: `r2s view` on a synthetic workspace, driven in headless Chromium (software WebGL).
 * Checks the scene is drawn, that the view from a capture camera matches that camera's photo
 * (rendered by the reference rasterizer from the same Gaussians), assets can be placed, and that
 * a bad file shows an error in the page.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { CHROMIUM, CHROMIUM_ARGS, makeViewerWorkspace, startView, tmpDir, type Served } from './viewer-fixture.js';
import { ensureViewerBuild } from '../src/viewer-server/build.js';
import { writeGaussianPly } from '../src/io/ply.js';
import { writeSpz } from '../src/io/spz.js';
import type { SynthCapture } from '../src/synthetic/generate.js';
import type { GaussianParams } from '../src/core/gaussians.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** measured 31–36 dB on this scene (Spark's 8-bit colours and sort vs the float reference) */
const PSNR_MIN = 27;
const haveChromium = existsSync(CHROMIUM);

/** Pixels of a PNG given as bytes, a data: URL, or a file path. */
async function rgbOf(png: Buffer | string): Promise<{ data: Buffer; width: number; height: number }> {
  const src = typeof png === 'string' && png.startsWith('data:') ? Buffer.from(png.slice(png.indexOf(',') + 1), 'base64') : png;
  const { data, info } = await sharp(src).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function psnr(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i]! - b[i]!) / 255;
    se += d * d;
  }
  return 10 * Math.log10(a.length / Math.max(se, 1e-12));
}

type Hooks = {
  loaded: boolean;
  errors: string[];
  splatCount: number;
  frameCount: number;
  cameraCount: number;
  jumpToCamera(i: number): Promise<void>;
  screenshot(): string;
  setToggle(name: string, on: boolean): void;
  placeAsset(id: string): Promise<boolean>;
  arrangement(): { items: { assetId: string; position: number[] }[] };
  openCompare(): Promise<void>;
  compareActive: boolean;
};

async function openViewer(browser: Browser, url: string, width: number, height: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __r2s?: Hooks }).__r2s?.loaded === true, null, { timeout: 45_000 });
  return page;
}

/** A few hundred Gaussians of the scene, as an "asset". */
function subset(p: GaussianParams, from: number, count: number): GaussianParams {
  return {
    count,
    means: p.means.slice(from * 3, (from + count) * 3),
    logScales: p.logScales.slice(from * 3, (from + count) * 3),
    quats: p.quats.slice(from * 4, (from + count) * 4),
    opacityLogits: p.opacityLogits.slice(from, from + count),
    sh: p.sh.slice(from * 48, (from + count) * 48),
  };
}

describe.skipIf(!haveChromium)('r2s view in Chromium', () => {
  let browser: Browser;
  let cap: SynthCapture;
  let ws: string;
  let served: Served;
  let badServed: Served;
  let spzServed: Served;

  beforeAll(async () => {
    const dir = tmpDir('r2s-viewer-e2e-');
    ws = path.join(dir, 'ws');
    // built here once, so the servers below start at once
    const [c] = await Promise.all([makeViewerWorkspace(ws, { views: 3, size: 96 }), ensureViewerBuild()]);
    cap = c;
    mkdirSync(path.join(ws, 'assets', 'ball'), { recursive: true });
    await writeGaussianPly(path.join(ws, 'assets', 'ball', 'splats.ply'), subset(cap.scene, cap.scene.count - 300, 300), 0);
    writeFileSync(path.join(ws, 'assets', 'catalog.json'), JSON.stringify({ assets: [{ id: 'ball', name: 'Ball' }] }));
    const bad = path.join(dir, 'broken.ply');
    writeFileSync(bad, 'ply\nformat binary_little_endian 1.0\nelement vertex 10\nproperty float x\nend_header\n');
    const spz = path.join(dir, 'scene.spz');
    await writeSpz(spz, cap.scene, 0);
    [served, badServed, spzServed, browser] = await Promise.all([
      startView(ws),
      startView(bad),
      startView(spz),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    served?.proc.kill('SIGTERM');
    badServed?.proc.kill('SIGTERM');
    spzServed?.proc.kill('SIGTERM');
  });

  it('draws the scene, matches the capture photos, places assets', async () => {
    const k = cap.intrinsics;
    const page = await openViewer(browser, served.url, k.width, k.height);
    const h = () => page.evaluate(() => {
      const r = (window as unknown as { __r2s: Hooks }).__r2s;
      return { errors: r.errors, splatCount: r.splatCount, frameCount: r.frameCount, cameraCount: r.cameraCount };
    });
    const s = await h();
    expect(s.errors).toEqual([]);
    expect(s.splatCount).toBe(cap.scene.count);
    expect(s.cameraCount).toBe(cap.images.length);
    expect(s.frameCount).toBeGreaterThan(0);
    expect(await page.locator('#error').isVisible()).toBe(false);

    // the page screenshot is a real PNG; the canvas shows more than background
    const pageShot = await rgbOf(await page.screenshot());
    expect(pageShot.width).toBe(k.width);
    const first = await rgbOf(await page.evaluate(() => (window as unknown as { __r2s: Hooks }).__r2s.screenshot()));
    let lit = 0;
    for (let i = 0; i < first.data.length; i += 3) if (first.data[i]! + first.data[i + 1]! + first.data[i + 2]! > 30) lit++;
    expect(lit / (first.width * first.height)).toBeGreaterThan(0.3);

    // capture cameras; the viewer hides the frustum of the camera it stands in (it would outline
    // the image): check that with frustums shown at camera 0, then hide them all
    const photos = await Promise.all(cap.images.map((im) => rgbOf(path.join(ws, 'images', im.name))));
    const renders: Buffer[] = [];
    for (let i = 0; i < cap.images.length; i++) {
      await page.evaluate((j) => (window as unknown as { __r2s: Hooks }).__r2s.jumpToCamera(j), i);
      const r = await rgbOf(await page.evaluate(() => (window as unknown as { __r2s: Hooks }).__r2s.screenshot()));
      expect([r.width, r.height]).toEqual([k.width, k.height]);
      renders.push(r.data);
      if (i === 0) await page.evaluate(() => (window as unknown as { __r2s: Hooks }).__r2s.setToggle('frustums', false));
      const p = psnr(r.data, photos[i]!.data);
      console.log(`camera ${i}: PSNR ${p.toFixed(2)} dB`);
      expect(p, `camera ${i}`).toBeGreaterThan(PSNR_MIN);
    }
    // and the comparison can tell cameras apart: a render against another camera's photo is far off
    expect(psnr(renders[0]!, photos[1]!.data)).toBeLessThan(PSNR_MIN - 6);

    await page.evaluate(() => (window as unknown as { __r2s: Hooks }).__r2s.openCompare());
    expect(await page.evaluate(() => (window as unknown as { __r2s: Hooks }).__r2s.compareActive)).toBe(true);
    expect(await page.locator('#compare-photo').evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(k.width);

    // asset panel: the catalog entry is listed and can be placed
    await expect.poll(() => page.locator('#asset-list li').allTextContents()).toEqual(['Ball']);
    expect(await page.evaluate(() => (window as unknown as { __r2s: Hooks }).__r2s.placeAsset('ball'))).toBe(true);
    const after = await page.evaluate(() => {
      const r = (window as unknown as { __r2s: Hooks }).__r2s;
      return { n: r.splatCount, arr: r.arrangement(), errors: r.errors };
    });
    expect(after.errors).toEqual([]);
    expect(after.n).toBe(cap.scene.count + 300);
    expect(after.arr.items.map((i) => i.assetId)).toEqual(['ball']);
    // drag and drop from the panel onto the canvas places another one
    await page.setViewportSize({ width: 800, height: 500 });
    await page.dragAndDrop('#asset-list li', '#stage canvas', { targetPosition: { x: 400, y: 300 } });
    await expect.poll(() => page.evaluate(() => (window as unknown as { __r2s: Hooks }).__r2s.arrangement().items.length)).toBe(2);

    // an arrangement saved and loaded again puts the asset back where it was
    const moved = { version: 1, items: [{ ...after.arr.items[0]!, position: [0.5, -0.25, 0.125] }] };
    const reloaded = await page.evaluate(async (a) => {
      const r = (window as unknown as { __r2s: Hooks & { loadArrangement(a: unknown): Promise<void> } }).__r2s;
      await r.loadArrangement(a);
      return { arr: r.arrangement(), n: r.splatCount };
    }, moved);
    expect(reloaded.arr.items.map((i) => i.position)).toEqual([[0.5, -0.25, 0.125]]);
    expect(reloaded.n).toBe(cap.scene.count + 300);

    // capture-path playback moves the camera away from camera 0 and ends at the last camera
    const play = await page.evaluate(async () => {
      const r = (window as unknown as { __r2s: Hooks & { togglePlay(): void; playing: boolean; atCapture: number | null; settle(n?: number, ms?: number): Promise<void> } }).__r2s;
      await r.jumpToCamera(0);
      r.togglePlay();
      const started = r.playing;
      const t0 = performance.now();
      while (r.playing && performance.now() - t0 < 15_000) await new Promise((res) => setTimeout(res, 100));
      return { started, playing: r.playing, at: r.atCapture };
    });
    expect(play).toEqual({ started: true, playing: false, at: cap.images.length - 1 });
    await page.close();
  });

  it('shows an error in the page for a bad file', async () => {
    const page = await openViewer(browser, badServed.url, 320, 240);
    const err = page.locator('#error');
    expect(await err.isVisible()).toBe(true);
    expect(await err.textContent()).toMatch(/broken\.ply.*(not a Gaussian splat file|could not be decoded)/);
    await page.close();
  });

  it('loads a .spz written by r2s (src/io/spz.ts)', async () => {
    const page = await openViewer(browser, spzServed.url, 160, 120);
    const r = await page.evaluate(() => {
      const h = (window as unknown as { __r2s: Hooks }).__r2s;
      return { errors: h.errors, n: h.splatCount, png: h.screenshot() };
    });
    expect(r.errors).toEqual([]);
    expect(r.n).toBe(cap.scene.count);
    const img = await rgbOf(r.png);
    let lit = 0;
    for (let i = 0; i < img.data.length; i += 3) if (img.data[i]! + img.data[i + 1]! + img.data[i + 2]! > 30) lit++;
    expect(lit / (img.width * img.height)).toBeGreaterThan(0.1);
    await page.close();
  });
});
