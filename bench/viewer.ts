/**
 * Viewer benchmark: load time and mean frame time of `r2s view` in headless Chromium (software
 * WebGL through SwiftShader on this machine: a report, no target) for 100k and 1M random splats.
 * Writes bench/viewer.json.
 */
import { chromium } from 'playwright-core';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS, tmpDir } from '../test/viewer-fixture.js';
import { randomScene } from '../src/scene/raster/random-scene.js';
import { writeGaussianPly } from '../src/io/ply.js';
import { ensureViewerBuild } from '../src/viewer-server/build.js';
import { writeJsonAtomic } from '../src/util/fsx.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const SIZES = (process.env.R2S_BENCH_VIEWER_SIZES ?? '100000,1000000').split(',').map(Number);
const VIEWPORT = { width: 640, height: 360 };
const FRAMES = Number(process.env.R2S_BENCH_VIEWER_FRAMES ?? 5);

function startView(target: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'view', target, '--port', '0', '--no-open', '--json'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ url: (JSON.parse(line) as { url: string }).url, proc });
    });
    proc.on('exit', (code) => reject(new Error(`r2s view exited ${code}`)));
  });
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set R2S_CHROMIUM)`);
  await ensureViewerBuild();
  const dir = tmpDir('r2s-bench-viewer-');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const results: Record<string, unknown>[] = [];
  try {
    for (const n of SIZES) {
      // denser scenes get smaller splats, so overdraw stays comparable
      const { params } = randomScene(n, 64, 64, { seed: 5, radius: 1, scale: 0.01 * Math.cbrt(1e5 / n) });
      const file = path.join(dir, `random-${n}.ply`);
      await writeGaussianPly(file, params, 0);
      const { url, proc } = await startView(file);
      const page = await browser.newPage({ viewport: VIEWPORT });
      try {
        const t0 = Date.now();
        await page.goto(url);
        await page.waitForFunction(() => (window as unknown as { __r2s?: { loaded: boolean } }).__r2s?.loaded === true, null, { timeout: 600_000, polling: 200 });
        const loadMs = Date.now() - t0;
        const r = await page.evaluate(async (frames) => {
          const h = (window as unknown as { __r2s: { errors: string[]; splatCount: number; measureFrames(n: number, deg?: number): Promise<number> } }).__r2s;
          const still = await h.measureFrames(frames, 0);
          const orbit = await h.measureFrames(frames, 2);
          const gl = document.createElement('canvas').getContext('webgl2');
          const dbg = gl?.getExtension('WEBGL_debug_renderer_info');
          return { still, orbit, errors: h.errors, splats: h.splatCount, gpu: dbg && gl ? String(gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL)) : 'unknown' };
        }, FRAMES);
        if (r.errors.length) throw new Error(r.errors.join('; '));
        const row = {
          splats: r.splats,
          fileMB: +((params.count * 17 * 4) / 1e6).toFixed(1),
          loadMs,
          meanFrameMsStill: +r.still.toFixed(1),
          meanFrameMsOrbit: +r.orbit.toFixed(1),
          renderer: r.gpu,
        };
        console.error(`viewer: ${JSON.stringify(row)}`);
        results.push(row);
      } finally {
        await page.close();
        proc.kill('SIGTERM');
        rmSync(file, { force: true });
      }
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await writeJsonAtomic(path.join(here, 'viewer.json'), {
    benchmark: 'viewer',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown' },
    browser: `${CHROMIUM} ${CHROMIUM_ARGS.join(' ')}`,
    viewport: VIEWPORT,
    framesPerMeasurement: FRAMES,
    note: 'software WebGL (SwiftShader) on a shared CPU: a report, no target. loadMs = navigation to first sorted frame; meanFrameMs = mean interval of back-to-back frames, still camera or orbiting 2°/frame',
    results,
  });
}

main().catch((e) => {
  console.error(`bench viewer: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
