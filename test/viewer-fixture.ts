/**
 * Shared by the viewer tests and bench/viewer.ts: a synthetic workspace (known Gaussians as
 * scene/splats.ply, the exact cameras as a COLMAP model, and "photos" rendered by the reference
 * rasterizer), and a headless Chromium driven by playwright-core.
 */
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { writeSyntheticWorkspace } from '../src/synthetic/workspace.js';
import { writeGaussianPly } from '../src/io/ply.js';
import type { SynthCapture } from '../src/synthetic/generate.js';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.R2S_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function makeViewerWorkspace(root: string, opts: { views?: number; size?: number } = {}): Promise<SynthCapture> {
  const cap = renderSyntheticCapture({ views: opts.views ?? 3, size: opts.size ?? 96, seed: 3 });
  await writeSyntheticWorkspace(root, cap);
  await writeGaussianPly(path.join(root, 'scene', 'splats.ply'), cap.scene, 0);
  return cap;
}

export function tmpDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Served {
  url: string;
  proc: import('node:child_process').ChildProcess;
}

/** Start `r2s view <target> --port 0 --no-open --json` and read its URL. */
export async function startView(target: string): Promise<Served> {
  const { spawn } = await import('node:child_process');
  const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'view', target, '--port', '0', '--no-open', '--json'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '', err = '';
  return await new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ url: (JSON.parse(line) as { url: string }).url, proc });
    });
    proc.stderr!.on('data', (d) => (err += String(d)));
    proc.on('exit', (code) => reject(new Error(`r2s view exited ${code}: ${err}`)));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HookObject = Record<string, any>;

/** Call `fn(window.__r2s, arg)` in the page (the viewer's test hooks). */
export const hooksOf = (page: Page) => <T>(fn: (h: HookObject, arg: any) => T | Promise<T>, arg?: unknown) => page.evaluate(([f, a]) => new Function('h', 'a', `return (${f})(h, a)`)((window as unknown as { __r2s: HookObject }).__r2s, a), [fn.toString(), arg] as const) as Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A new page on `url`, once the viewer says it has loaded. */
export async function openViewer(browser: Browser, url: string, w = 320, h = 240): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: w, height: h }, acceptDownloads: true });
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __r2s?: HookObject }).__r2s?.loaded === true, null, { timeout: 60_000 });
  return page;
}
