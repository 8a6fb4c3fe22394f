/**
 * ms per training step: the GPU-resident path (src/scene/train/gpu-resident.ts) vs the CPU-array path
 * the trainer uses today (rasterize → photoLossAndGrad → backwardArrays → TS Adam → GradStats),
 * at 100k random Gaussians (as bench/train.ts speed()) on 256×192 views. Not part of
 * `npm run bench` (underscore prefix). Env: R2S_BENCH_N, R2S_BENCH_SIZE, R2S_BENCH_STEPS,
 * R2S_BENCH_SH (SH degree, default 0 as in the first 1000 training steps).
 *   npx tsx bench/_resident.ts
 */
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { captureTrainData } from '../src/synthetic/workspace.js';
import { initFromPoints, randomPoints, cloneGaussians } from '../src/scene/gaussians.js';
import { requireDevice } from '../src/gpu/device.js';
import { GpuRasterizer } from '../src/gpu/raster/rasterizer.js';
import { GpuResidentTrainState, PARAM_GROUPS, PARAM_ROW, type ParamGroup } from '../src/scene/train/gpu-resident.js';
import { Adam } from '../src/scene/train/adam.js';
import { GradStats } from '../src/scene/train/densify.js';
import { photoLossAndGrad } from '../src/scene/train/image-loss.js';
import { defaultRasterOptions, type RasterCamera } from '../src/core/raster.js';

const env = (k: string, d: number) => Number(process.env[`R2S_BENCH_${k}`] ?? d);
const N = env('N', 100_000), size = env('SIZE', 256), steps = env('STEPS', 3), shDegree = env('SH', 0);

const ctx = await requireDevice();
const cap = renderSyntheticCapture({ views: 16, size, seed: 4, detail: 0.05 });
const data = await captureTrainData(cap);
const views = data.views.filter((v) => !v.holdout);
const init = initFromPoints(randomPoints(N, [-2, -2, 0], [2, 2, 1], 7));
const opts = { ...defaultRasterOptions, shDegree };
const cam = (i: number): RasterCamera => { const v = views[i % views.length]!; return { width: v.width, height: v.height, fx: v.fx, fy: v.fy, cx: v.cx, cy: v.cy, R: v.R, t: v.t }; };
const lrs: Record<ParamGroup, number> = { means: 1.6e-4 * data.extent, logScales: 5e-3, quats: 1e-3, opacityLogits: 2.5e-2, sh: 2.5e-3 };
const makeAdam = () => {
  const a = Object.fromEntries(PARAM_GROUPS.map((k) => [k, new Adam(N * PARAM_ROW[k], PARAM_ROW[k], lrs[k])])) as Record<ParamGroup, Adam>;
  a.sh.colScale = new Float32Array(48).map((_, c) => (c < 3 ? 1 : 1 / 20));
  return a;
};
const raster = await GpuRasterizer.create(ctx);
const { width: W, height: H } = cam(0);
console.error(`${ctx.adapterName}: ${N} Gaussians, ${W}×${H}, SH degree ${shDegree}, ${steps} timed steps each (after 1 warm-up)`);

// Both paths from the same start, interleaved step by step so both see the same machine load
// (this 2-core box is shared); medians and minima over the timed steps.
const p = cloneGaussians(init), adam = makeAdam(), stats = new GradStats(N);
const ph = { rasterize: [] as number[], loss: [] as number[], backward: [] as number[], adam: [] as number[] };
const cpuStep = async (i: number) => {
  const v = views[i % views.length]!;
  let t = performance.now();
  const out = await raster.rasterize(p, cam(i), opts);
  ph.rasterize.push(performance.now() - t); t = performance.now();
  const l = photoLossAndGrad(out.rgb, v.target, W, H, 0.2);
  let se = 0;
  for (let j = 0; j < out.rgb.length; j++) se += (out.rgb[j]! - v.target[j]!) ** 2;
  ph.loss.push(performance.now() - t); t = performance.now();
  const g = await raster.backwardArrays(out.fwd, { rgb: l.grad });
  ph.backward.push(performance.now() - t); t = performance.now();
  for (const k of PARAM_GROUPS) adam[k].step(p[k], g[k]);
  stats.add(g.means2dGradNorm, W, H);
  ph.adam.push(performance.now() - t);
  return se;
};
const res = await GpuResidentTrainState.create(raster, cloneGaussians(init), makeAdam(), new GradStats(N));
const resStep = (i: number) => res.step(i % views.length, views[i % views.length]!.target, cam(i), opts, lrs, 0.2);
const time = async (f: () => Promise<unknown>) => { const t = performance.now(); await f(); return performance.now() - t; };
await cpuStep(0);
await resStep(0);
await ctx.device.queue.onSubmittedWorkDone();
for (const k of Object.keys(ph) as (keyof typeof ph)[]) ph[k] = [];
const cpu: number[] = [], resident: number[] = [], residentLog: number[] = [];
for (let i = 1; i <= steps; i++) {
  cpu.push(await time(() => cpuStep(i)));
  // until the GPU is done, so the figure is the step's full cost
  resident.push(await time(async () => { await resStep(i); await ctx.device.queue.onSubmittedWorkDone(); }));
  residentLog.push(await time(async () => { await resStep(i); await res.loss(); }));
}
const med = (a: number[]) => { const b = [...a].sort((x, y) => x - y); return b[Math.floor(b.length / 2)]!.toFixed(0); };
const min = (a: number[]) => Math.min(...a).toFixed(0);
console.log(`cpu-array path: median ${med(cpu)} ms/step, min ${min(cpu)} (medians: rasterize+upload+readback ${med(ph.rasterize)}, TS loss ${med(ph.loss)}, backward+readback ${med(ph.backward)}, TS Adam+stats ${med(ph.adam)})`);
console.log(`resident path: median ${med(resident)} ms/step, min ${min(resident)}; with loss() read back each step: median ${med(residentLog)}, min ${min(residentLog)}`);
const dl = await time(() => res.download());
console.log(`resident download() of params + Adam m/v + stats: ${dl.toFixed(0)} ms`);
res.destroy();
raster.destroy();
process.exit(0);
