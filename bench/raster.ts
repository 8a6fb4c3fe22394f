/**
 * Raster benchmark → bench/raster.json: 100k Gaussians at 1280×720 (forward, backward, sort ms)
 * on whatever adapter getDevice() finds; on a real GPU also 1M Gaussians at 1920×1080 (the
 * gsplat-class goal: forward + backward ≤ 20 ms).
 *   npx tsx bench/raster.ts [--quick]
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getDevice } from '../src/gpu/device.js';
import { benchRaster, type RasterBenchResult } from '../src/scene/raster/bench-raster.js';
import { writeJsonAtomic } from '../src/util/fsx.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');

const ctx = await getDevice();
if (!ctx) {
  console.error('bench raster: no WebGPU adapter (run `r2s doctor`)');
  process.exit(1);
}
const sizes: [number, number, number][] = quick ? [[10_000, 320, 240]] : [[100_000, 1280, 720]];
if (!quick && !ctx.isSoftware) sizes.push([1_000_000, 1920, 1080]);
const runs: RasterBenchResult[] = [];
for (const [splats, width, height] of sizes) {
  console.error(`bench raster: ${splats} Gaussians at ${width}×${height} on ${ctx.adapterName}`);
  const r = await benchRaster({ splats, width, height, iterations: ctx.isSoftware ? 4 : 20, onProgress: (m) => console.error(`  ${m}`) });
  console.error(`  forward ${r.forwardMs.toFixed(1)} ms, backward ${r.backwardMs.toFixed(1)} ms, sort ${r.sortMs.toFixed(1)} ms, ${r.instances} instances, ${(r.gpuMemoryBytes / 2 ** 20).toFixed(0)} MiB`);
  runs.push(r);
}
const file = path.join(here, 'raster.json');
const measured = { date: new Date().toISOString(), node: process.version, adapter: ctx.adapterName, software: ctx.isSoftware, runs };
// software (lavapipe) figures sit at the top level, a hardware adapter's under `hardware`: a run on
// one kind of adapter keeps the other's earlier figures
const earlier = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
const out = ctx.isSoftware ? { ...measured, hardware: earlier.hardware } : { ...earlier, hardware: measured };
if (!quick) await writeJsonAtomic(file, out);
console.log(JSON.stringify(out, null, 2));
process.exit(0);
