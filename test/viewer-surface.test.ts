/**
 * Issue 26, in headless Chromium through the real mouse: picks land on the visible surface (a
 * road distance agrees with the sparse points under the same pixels), the measure markers and line
 * are drawn, a metric (GPS) frame is not overridden without asking and a ground fit reports its
 * angle to the ENU up, a dropped asset stands upright with its bottom on the surface under the
 * cursor (in a workspace and in an asset-library view), the orbit point lies in the scene's depth
 * range, and the page logs no warning the whole time.
 *
 * The scene: the synthetic workspace of the other viewer tests, made a GPS-metric (z-up ENU)
 * frame, with faint floaters in front of the cameras (the first splat a ray meets is one of them)
 * and a sparse haze layer above the ground, and an upright pole asset whose file origin is at its middle. `R2S_VIEWER_SAMPLE_WS=<workspace>`
 * runs the same checks on a reconstruction of the bundled sample (`r2s reconstruct samples/lund`).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CHROMIUM, CHROMIUM_ARGS, hooksOf, makeViewerWorkspace, openViewer, startView, tmpDir, type Served } from './viewer-fixture.js';
import { ensureViewerBuild } from '../src/viewer-server/build.js';
import { writeGaussianPly } from '../src/io/ply.js';
import type { GaussianParams } from '../src/core/gaussians.js';

const haveChromium = existsSync(CHROMIUM);
const SAMPLE = process.env.R2S_VIEWER_SAMPLE_WS;
type V3 = [number, number, number];

function empty(count: number): GaussianParams {
  return { count, means: new Float32Array(count * 3), logScales: new Float32Array(count * 3), quats: new Float32Array(count * 4), opacityLogits: new Float32Array(count), sh: new Float32Array(count * 48) };
}

function concat(a: GaussianParams, b: GaussianParams): GaussianParams {
  const cat = (x: Float32Array, y: Float32Array) => {
    const o = new Float32Array(x.length + y.length);
    o.set(x);
    o.set(y, x.length);
    return o;
  };
  return { count: a.count + b.count, means: cat(a.means, b.means), logScales: cat(a.logScales, b.logScales), quats: cat(a.quats, b.quats), opacityLogits: cat(a.opacityLogits, b.opacityLogits), sh: cat(a.sh, b.sh) };
}

/** An upright pole (asset frame: metres, +Y up) 0.1 × 1.0 × 0.1, its file origin at its middle. */
function pole(): GaussianParams {
  const n = 4 * 4 * 20;
  const p = empty(n);
  let k = 0;
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++)
      for (let h = 0; h < 20; h++, k++) {
        p.means.set([(i - 1.5) * 0.025, -0.5 + (h + 0.5) / 20, (j - 1.5) * 0.025], k * 3);
        p.logScales.set([Math.log(0.015), Math.log(0.03), Math.log(0.015)], k * 3);
        p.quats.set([1, 0, 0, 0], k * 4);
        p.opacityLogits[k] = 5;
        p.sh.set([1.5, -1, -1], k * 48);
      }
  return p;
}

/**
 * Faint splats (opacity 0.25: above Spark's 0.2 raycast floor, too faint to hide the scene)
 * scattered between each camera and the scene centre.
 */
function floaters(cams: V3[], centre: V3): GaussianParams {
  const per = 15;
  const p = empty(cams.length * per);
  let k = 0;
  for (const c of cams)
    for (let i = 0; i < per; i++, k++) {
      const t = 0.3 + (0.15 * ((i * 7) % per)) / per;
      const jitter = [((i * 37) % 11) / 11 - 0.5, ((i * 53) % 13) / 13 - 0.5, ((i * 71) % 7) / 7 - 0.5].map((v) => v * 1.6);
      p.means.set([0, 1, 2].map((a) => c[a]! + (centre[a]! - c[a]!) * t + jitter[a]!), k * 3);
      p.logScales.set([Math.log(0.12), Math.log(0.12), Math.log(0.12)], k * 3);
      p.quats.set([1, 0, 0, 0], k * 4);
      p.opacityLogits[k] = Math.log(0.25 / 0.75);
      p.sh.set([0.2, 0.2, 0.2], k * 48);
    }
  return p;
}

/** A sparse layer of faint splats 0.6 above the ground (haze): a ray down to the road meets one. */
function haze(): GaussianParams {
  const n = 9;
  const p = empty(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const k = i * n + j;
      p.means.set([-2 + (4 * (i + 0.5)) / n, -2 + (4 * (j + 0.5)) / n, 0.6 + 0.05 * ((i + j) % 3)], k * 3);
      p.logScales.set([Math.log(0.09), Math.log(0.09), Math.log(0.05)], k * 3);
      p.quats.set([1, 0, 0, 0], k * 4);
      p.opacityLogits[k] = Math.log(0.3 / 0.7);
      p.sh.set([0.3, 0.3, 0.3], k * 48);
    }
  return p;
}

/** Sky: large splats spread over a dome 30 units away (sparse at the scene's scale, dense at theirs). */
function sky(): GaussianParams {
  const n = 80;
  const p = empty(n);
  for (let k = 0; k < n; k++) {
    const az = (2 * Math.PI * k) / 16, el = 0.25 + 0.25 * Math.floor(k / 16);
    p.means.set([30 * Math.cos(el) * Math.cos(az), 30 * Math.cos(el) * Math.sin(az), 30 * Math.sin(el)], k * 3);
    p.logScales.set([Math.log(2.5), Math.log(2.5), Math.log(0.5)], k * 3);
    p.quats.set([1, 0, 0, 0], k * 4);
    p.opacityLogits[k] = 2;
    p.sh.set([-0.5, 0, 1.2], k * 48);
  }
  return p;
}

async function rgb(dataUrl: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const [W, H] = SAMPLE ? [1280, 800] : [960, 600];
/**
 * The two road clicks, as fractions of the view: the issue's (470,640)/(880,640) of 1280×800 at
 * camera 1; on the sample's 500-step reconstruction the road there has no sparse points to compare
 * with, so camera 13's street (500,500)/(780,500), where it has.
 */
const CLICKS: Array<[number, number]> = SAMPLE ? [[500 / 1280, 500 / 800], [780 / 1280, 500 / 800]] : [[470 / 1280, 0.8], [880 / 1280, 0.8]];
const CAMERA = SAMPLE ? 12 : 0;
/** the sample renders at about 0.1 frame/s here (1280×800, software WebGL) */
const TEST_MS = SAMPLE ? 900_000 : 180_000;

describe.skipIf(!haveChromium)('viewer: surface picks, measure, frame, assets, orbit (issue 26)', () => {
  let browser: Browser;
  let ws: string, lib: string;
  const servers: Served[] = [];
  let wsServed: Served, libServed: Served;
  const warnings: string[] = [];

  beforeAll(async () => {
    const dir = tmpDir('r2s-viewer-surface-');
    if (SAMPLE) {
      ws = path.join(dir, 'ws');
      // the sample workspace is read only: its scene and cameras are enough
      for (const d of ['scene', 'sparse', 'images']) cpSync(path.join(SAMPLE, d), path.join(ws, d), { recursive: true });
      await ensureViewerBuild();
    } else {
      ws = path.join(dir, 'ws');
      const [cap] = await Promise.all([makeViewerWorkspace(ws, { views: 4, size: 96 }), ensureViewerBuild()]);
      // a GPS-metric frame: ENU, z up
      writeFileSync(path.join(ws, 'sparse', 'frame.json'), JSON.stringify({ scale: 'metric', method: 'gps', up: [0, 0, 1] }));
      const cams = cap.images.map((im) => {
        const R = im.given.R, t = im.given.t;
        // centre = −Rᵀ t
        return [0, 1, 2].map((c) => -(R[c]! * t[0]! + R[3 + c]! * t[1]! + R[6 + c]! * t[2]!)) as V3;
      });
      await writeGaussianPly(path.join(ws, 'scene', 'splats.ply'), concat(concat(concat(cap.scene, floaters(cams, [0, 0, 0.2])), haze()), sky()), 0);
    }
    lib = path.join(ws, 'assets');
    mkdirSync(path.join(lib, 'pole'), { recursive: true });
    await writeGaussianPly(path.join(lib, 'pole', 'splats.ply'), pole(), 0);
    writeFileSync(path.join(lib, 'catalog.json'), JSON.stringify({ kind: 'r2s.catalog', version: 1, assets: [{ id: 'pole', name: 'Pole', path: 'pole', splats: 'splats.ply', extentsM: [0.1, 1, 0.1], scale: 'metric', gaussians: 320 }] }));
    [wsServed, libServed, browser] = await Promise.all([startView(ws), startView(lib), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })]);
    servers.push(wsServed, libServed);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.proc.kill('SIGTERM');
    if (warnings.length) console.log(warnings.join('\n'));
  });

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: W, height: H } });
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') warnings.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => warnings.push(`pageerror: ${e.message}`));
    await page.goto(url, { timeout: SAMPLE ? 300_000 : 30_000 });
    await page.waitForFunction(() => (window as unknown as { __r2s?: { loaded: boolean } }).__r2s?.loaded === true, null, { timeout: SAMPLE ? 300_000 : 90_000 });
    return page;
  }

  /** Sparse points projected into the view: client pixel, depth along the view, scene position. */
  async function sparseInView(page: Page): Promise<Array<{ x: number; y: number; d: number; p: V3 }>> {
    return await page.evaluate(async () => {
      const h = (window as unknown as { __r2s: Record<string, any> }).__r2s; // eslint-disable-line @typescript-eslint/no-explicit-any
      const pts = (await (await fetch('/api/points.json')).json()) as { count: number; xyz: number[] };
      const s = h.cameraState() as { world: number[]; view: number[] };
      const out: Array<{ x: number; y: number; d: number; p: [number, number, number] }> = [];
      const mul = (m: number[], v: number[]) => [0, 1, 2].map((r) => m[r]! * v[0]! + m[4 + r]! * v[1]! + m[8 + r]! * v[2]! + m[12 + r]!);
      for (let i = 0; i < pts.count; i++) {
        const p = [pts.xyz[i * 3]!, pts.xyz[i * 3 + 1]!, pts.xyz[i * 3 + 2]!] as [number, number, number];
        const c = mul(s.view, mul(s.world, p));
        if (c[2]! >= 0) continue;
        const q = h.screenOf(p) as { x: number; y: number };
        if (q.x < 0 || q.y < 0 || q.x > innerWidth || q.y > innerHeight) continue;
        out.push({ x: q.x, y: q.y, d: -c[2]!, p });
      }
      return out;
    });
  }

  /** The sparse point a pixel sees: the median-depth one of those projecting within r pixels. */
  function sparseAt(pts: Array<{ x: number; y: number; d: number; p: V3 }>, x: number, y: number, r = 20): V3 | null {
    const near = pts.filter((q) => Math.hypot(q.x - x, q.y - y) <= r).sort((a, b) => a.d - b.d);
    return near.length >= 3 ? near[near.length >> 1]!.p : null;
  }

  it('measures on the visible surface, draws it, asks before overriding the GPS frame; orbit point in the scene', async () => {
    const page = await open(wsServed.url);
    const h = hooksOf(page);
    const clicks = CLICKS.map(([fx, fy]) => [Math.round(fx * W), Math.round(fy * H)] as [number, number]);
    await h((x, i) => x.jumpToCamera(i), CAMERA);
    const pts = await sparseInView(page);
    // orbit point: at the depth of what is in view, not half the capture path ahead
    expect(pts.length).toBeGreaterThan(20);
    const depths = pts.map((q) => q.d).sort((a, b) => a - b);
    const orbit = await h((x) => x.orbit()).catch(() => null);
    const od = orbit ? Math.hypot(...[0, 1, 2].map((k) => orbit.target[k] - orbit.camera[k])) : NaN;
    const lo = depths[Math.floor(0.05 * (depths.length - 1))]!, hi = depths[Math.floor(0.95 * (depths.length - 1))]!;
    console.log(`orbit distance ${od.toFixed(3)}; sparse depths in view 5–95 %: ${lo.toFixed(3)}–${hi.toFixed(3)}`);
    expect.soft(od).toBeGreaterThanOrEqual(lo);
    expect.soft(od).toBeLessThanOrEqual(hi);

    // M, two clicks on the road
    await page.keyboard.press('m');
    const before = await rgb(await h((x) => x.screenshot()));
    for (const [x, y] of clicks) await page.mouse.click(x, y);
    const picked = (await h((x) => x.measurePoints)) as V3[];
    expect(picked.length).toBe(2);
    const d = (await h((x) => x.measuredDistance)) as number;
    const ref = clicks.map(([x, y]) => sparseAt(pts, x, y));
    expect(ref.every((p) => p !== null)).toBe(true);
    const refD = Math.hypot(...[0, 1, 2].map((k) => ref[0]![k]! - ref[1]![k]!));
    console.log(`measured ${d.toFixed(3)}, sparse points under the same pixels ${refD.toFixed(3)} (${((100 * (d - refD)) / refD).toFixed(1)} %)`);
    expect.soft(Math.abs(d - refD) / refD).toBeLessThan(0.1);
    expect(await page.locator('#measure-result').textContent()).toMatch(/\d+\.\d+ m/);

    // markers and line: yellow pixels appear at the two points and between them
    const after = await rgb(await h((x) => x.screenshot()));
    const yellow = (im: { data: Buffer; width: number }, x: number, y: number, r: number) => {
      let n = 0;
      for (let j = Math.max(0, y - r); j <= y + r; j++)
        for (let i = Math.max(0, x - r); i <= x + r; i++) {
          const o = (j * im.width + i) * 3;
          if (im.data[o]! > 200 && im.data[o + 1]! > 200 && im.data[o + 2]! < 90) n++;
        }
      return n;
    };
    const sx = after.width / W;
    for (const [x, y] of [...clicks, [(clicks[0]![0] + clicks[1]![0]) >> 1, clicks[0]![1]] as [number, number]]) {
      const a = yellow(after, Math.round(x * sx), Math.round(y * sx), 6), b = yellow(before, Math.round(x * sx), Math.round(y * sx), 6);
      expect.soft(a - b, `yellow pixels near (${x}, ${y})`).toBeGreaterThan(3);
    }
    const shotDir = path.resolve(import.meta.dirname, '..', 'viewer', 'docs');
    if (process.env.R2S_VIEWER_SHOTS) {
      await h((x) => x.settle());
      writeFileSync(path.join(shotDir, 'measure.png'), await page.screenshot());
    }

    // Set scale on the GPS frame asks first and changes nothing until answered
    const label = await h((x) => x.frameLabel);
    expect(label).toMatch(/GPS/);
    await page.fill('#true-length', String(Number((d * 0.5).toFixed(3))));
    await page.click('#btn-set-scale');
    expect(await page.locator('#measure-confirm').isVisible().catch(() => false)).toBe(true);
    expect(await page.locator('#measure-confirm-text').textContent()).toMatch(/already metric from GPS.*×0\.(49|50)/);
    expect(await h((x) => x.userFrame().scale ?? null)).toBeNull();
    expect(await h((x) => x.frameLabel)).toBe(label);
    await page.click('#btn-confirm-no');
    expect(await h((x) => x.userFrame().scale ?? null)).toBeNull();

    // Fit ground: within 5° of the ENU up, or it says they disagree; nothing changes unasked
    await page.click('#btn-fit-ground');
    const ang = (await h((x) => x.lastFitAngle)) as number;
    const q = (await page.locator('#measure-confirm-text').textContent())!;
    console.log(`ground fit ${ang.toFixed(2)}° from the ENU up: "${q}"`);
    expect(typeof ang).toBe('number');
    if (ang > 5) expect(q).toMatch(/disagree/);
    else expect(q).toMatch(/agree/);
    expect(await h((x) => x.userFrame().up ?? null)).toBeNull();
    await page.click('#btn-confirm-yes');
    expect(await h((x) => x.frameLabel)).toMatch(/up from the ground, \d+\.\d° from GPS/);
    await page.close();
  }, TEST_MS);

  it('a dropped asset stands upright on the surface under the cursor, pivot at its bottom (workspace, library)', async () => {
    for (const [url, where] of [[wsServed.url, 'workspace'], [libServed.url, 'library']] as const) {
      const page = await open(url);
      const h = hooksOf(page);
      if (where === 'workspace') await h((x) => x.jumpToCamera(Math.min(3, x.cameraCount - 1)));
      const at = { x: Math.round(W * 0.5), y: Math.round(H * 0.72) };
      // the ground under the cursor: the rendered surface there (workspace) or the ground plane (library)
      const surf = where === 'workspace' ? ((await h((x, a) => x.surfaceAt(a.x, a.y), at).catch(() => null)) as V3 | null) : null;
      if (where === 'workspace') expect(surf).not.toBeNull();
      const groundY = surf ? ((await h((x, p) => x.toView(p), surf)) as V3)[1] : 0;
      await page.dragAndDrop('#asset-list li', '#stage canvas', { targetPosition: at });
      await expect.poll(() => h((x) => x.arrangement().items.length), { timeout: SAMPLE ? 120_000 : 20_000 }).toBe(1);
      const pose = (await h((x) => x.assetPose(0))) as { pivot: V3; bottomY: number; up: V3 };
      const tilt = (Math.acos(Math.min(1, pose.up[1] / Math.hypot(...pose.up))) * 180) / Math.PI;
      console.log(`${where}: bottom ${(pose.bottomY - groundY).toFixed(4)} from the ground under the cursor, pivot ${(pose.pivot[1] - pose.bottomY).toFixed(4)} above the bottom, up ${tilt.toFixed(2)}° off`);
      expect(Math.abs(pose.bottomY - groundY)).toBeLessThan(0.05);
      expect(Math.abs(pose.pivot[1] - pose.bottomY)).toBeLessThan(0.05);
      expect(tilt).toBeLessThan(2);
      if (where === 'workspace' && surf) {
        const v = (await h((x, p) => x.toView(p), surf)) as V3;
        expect(Math.hypot(pose.pivot[0] - v[0], pose.pivot[2] - v[2])).toBeLessThan(0.05);
        if (process.env.R2S_VIEWER_SHOTS) {
          await h((x, ms) => x.settle(3, ms), SAMPLE ? 120_000 : 5000);
          writeFileSync(path.resolve(import.meta.dirname, '..', 'viewer', 'docs', 'placed-asset.png'), await page.screenshot());
        }
      }
      await page.close();
    }
  }, TEST_MS);

  it('crop: one outline, invert, undo / redo; the floater filter keeps the sky', async () => {
    if (SAMPLE) return;
    const page = await open(wsServed.url);
    const h = hooksOf(page);
    await page.keyboard.press('b');
    expect(await h((x) => x.cropOutlines)).toEqual({ box: true, sphere: false });
    const total = (await h((x) => x.splatCount)) as number;
    const inside = (await h((x) => x.setBox([0, 0, 0.3], [0.8, 0.8, 0.8]))) as number;
    expect(inside).toBeGreaterThan(20);
    await page.click('#btn-sel-invert');
    expect(await h((x) => x.selectedCount)).toBe(total - inside);
    await page.click('#btn-sel-delete');
    expect(await h((x) => x.splatCount)).toBe(inside);
    await page.click('#btn-undo');
    expect(await h((x) => x.splatCount)).toBe(total);
    await page.click('#btn-redo');
    expect(await h((x) => x.splatCount)).toBe(inside);
    await page.click('#btn-undo');
    // floaters: the faint isolated ones, not the sky (the last 80 splats of the file)
    await page.click('#btn-floater-preview');
    const marked = (await h((x) => x.floaterPreview)) as number[];
    const skyFrom = total - 80;
    expect(marked.filter((i) => i >= skyFrom)).toEqual([]);
    expect(marked.length).toBeGreaterThan(0);
    await page.close();
  }, TEST_MS);

  it('logged no console warning or error in any session', () => {
    expect(warnings).toEqual([]);
  });
});
