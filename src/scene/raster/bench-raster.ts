/**
 * Raster benchmark: a seeded random scene of N Gaussians in front of a camera, timed forward and
 * backward passes on whatever adapter getDevice() finds. Used by `r2s bench raster` and
 * bench/raster.ts.
 */
import { requireDevice } from '../../gpu/device.js';
import { defaultRasterOptions } from '../../core/raster.js';
import { randomScene, rng } from '../../scene/raster/random-scene.js';
import { upload } from '../../gpu/buffers.js';
import { GpuRasterizer } from '../../gpu/raster/rasterizer.js';

export interface RasterBenchOptions {
  splats: number;
  width: number;
  height: number;
  /** timed repetitions (median reported) */
  iterations?: number;
  seed?: number;
  shDegree?: number;
  onProgress?: (msg: string) => void;
}

export interface RasterBenchResult {
  adapter: string;
  software: boolean;
  splats: number;
  width: number;
  height: number;
  shDegree: number;
  visible: number;
  instances: number;
  iterations: number;
  /** medians over the timed iterations */
  forwardMs: number;
  backwardMs: number;
  /** fastest iteration (on a shared machine the least disturbed one) */
  forwardMinMs: number;
  backwardMinMs: number;
  sortMs: number;
  stages: Record<string, number>;
  gpuMemoryBytes: number;
  /** backward reduces with subgroup operations */
  subgroups: boolean;
  /** forward stages tile lists through workgroup memory */
  batchedForward: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function benchRaster(o: RasterBenchOptions): Promise<RasterBenchResult> {
  const ctx = await requireDevice();
  const { device } = ctx;
  const say = o.onProgress ?? (() => {});
  const iterations = Math.max(1, o.iterations ?? 3);
  // Gaussian size scales with the image so the per-pixel load resembles a trained scene.
  const { params, cam } = randomScene(o.splats, o.width, o.height, { seed: o.seed ?? 1, scale: 0.02 });
  const opts = { ...defaultRasterOptions, shDegree: o.shDegree ?? 3 };
  const rast = await GpuRasterizer.create(ctx);
  const scene = rast.uploadScene(params);
  const P = o.width * o.height;
  const dRgb = device.createBuffer({ size: P * 12, usage: 0x80 | 0x08 });
  const r = rng(2);
  upload(device, dRgb, Float32Array.from({ length: P * 3 }, () => (r() - 0.5) * 1e-3));
  const done = () => device.queue.onSubmittedWorkDone();
  say('warm-up');
  let fwd = await rast.forward(scene, cam, opts);
  await done();
  rast.backward(fwd, dRgb);
  await done();
  const fw: number[] = [], bw: number[] = [];
  for (let i = 0; i < iterations; i++) {
    say(`iteration ${i + 1}/${iterations}`);
    let t0 = performance.now();
    fwd = await rast.forward(scene, cam, opts);
    await done();
    fw.push(performance.now() - t0);
    t0 = performance.now();
    rast.backward(fwd, dRgb);
    await done();
    bw.push(performance.now() - t0);
  }
  say('profiled run');
  rast.profile = true;
  fwd = await rast.forward(scene, cam, opts);
  await rast.backwardProfiled(fwd, dRgb);
  const stages = { ...rast.timings };
  const result: RasterBenchResult = {
    adapter: ctx.adapterName,
    software: ctx.isSoftware,
    splats: o.splats,
    width: o.width,
    height: o.height,
    shDegree: opts.shDegree,
    visible: fwd.visible,
    instances: fwd.state.instances,
    iterations,
    forwardMs: median(fw),
    backwardMs: median(bw),
    forwardMinMs: Math.min(...fw),
    backwardMinMs: Math.min(...bw),
    sortMs: stages.sortMs,
    stages,
    gpuMemoryBytes: rast.memoryBytes() + dRgb.size,
    subgroups: rast.usesSubgroups,
    batchedForward: rast.batchedForward,
  };
  dRgb.destroy();
  rast.destroy();
  return result;
}
