import { describe, it, expect } from 'vitest';
import { getDevice } from '../src/gpu/device.js';
import { GpuRasterizer } from '../src/gpu/raster/rasterizer.js';
import { GpuResidentTrainState, PARAM_GROUPS, PARAM_ROW, type ParamGroup } from '../src/scene/train/gpu-resident.js';
import { Adam } from '../src/scene/train/adam.js';
import { GradStats } from '../src/scene/train/densify.js';
import { photoLossAndGrad } from '../src/scene/train/image-loss.js';
import { cloneGaussians } from '../src/scene/gaussians.js';
import { defaultRasterOptions, type RasterCamera } from '../src/core/raster.js';
import { type GaussianParams } from '../src/core/gaussians.js';
import { randomScene } from '../src/scene/raster/random-scene.js';

const ctx = await getDevice();

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < b.length; i++) { m = Math.max(m, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return m / (s + 1e-30);
}

function makeAdam(n: number): Record<ParamGroup, Adam> {
  const lr: Record<ParamGroup, number> = { means: 1.6e-4, logScales: 5e-3, quats: 1e-3, opacityLogits: 5e-2, sh: 2.5e-3 };
  const a = Object.fromEntries(PARAM_GROUPS.map((k) => [k, new Adam(n * PARAM_ROW[k], PARAM_ROW[k], lr[k])])) as Record<ParamGroup, Adam>;
  a.sh.colScale = new Float32Array(48).map((_, c) => (c < 3 ? 1 : 1 / 20));
  return a;
}

describe.skipIf(!ctx)('GPU-resident training step vs the CPU-array path', () => {
  it('5 steps over 2 views give the same parameters, moments, statistics and loss', async () => {
    const raster = await GpuRasterizer.create(ctx!);
    const W = 64, H = 48, N = 400;
    const opts = { ...defaultRasterOptions, shDegree: 1, background: [0.1, 0.1, 0.1] as [number, number, number] };
    const { params: init, cam } = randomScene(N, W, H, { seed: 21, scale: 0.07 });
    // targets: a different random scene seen from two cameras
    const cams: RasterCamera[] = [cam, { ...cam, t: [cam.t[0]! + 0.1, cam.t[1]!, cam.t[2]!] }];
    const truth = randomScene(N, W, H, { seed: 22, scale: 0.07 }).params;
    const targets = await Promise.all(cams.map(async (c) => (await raster.rasterize(truth, c, opts)).rgb.slice()));
    const views = [0, 1, 0, 1, 1];

    // CPU-array path (what the trainer does today)
    const p: GaussianParams = cloneGaussians(init);
    const adam = makeAdam(N);
    const stats = new GradStats(N);
    let lastLoss = 0, lastMse = 0;
    for (const vi of views) {
      const out = await raster.rasterize(p, cams[vi]!, opts);
      const l = photoLossAndGrad(out.rgb, targets[vi]!, W, H, 0.2);
      let se = 0;
      for (let i = 0; i < out.rgb.length; i++) se += (out.rgb[i]! - targets[vi]![i]!) ** 2;
      lastLoss = l.loss; lastMse = se / out.rgb.length;
      const g = await raster.backwardArrays(out.fwd, { rgb: l.grad });
      for (const k of PARAM_GROUPS) adam[k].step(p[k], g[k]);
      stats.add(g.means2dGradNorm, W, H);
    }

    // resident path from the same start
    const adam0 = makeAdam(N);
    const res = await GpuResidentTrainState.create(raster, cloneGaussians(init), adam0, new GradStats(N));
    const lrs = Object.fromEntries(PARAM_GROUPS.map((k) => [k, adam0[k].lr])) as Record<ParamGroup, number>;
    for (const vi of views) await res.step(`view${vi}`, targets[vi]!, cams[vi]!, opts, lrs, 0.2);
    const l = await res.loss();
    const snap = await res.download();

    expect(Math.abs(l.loss - lastLoss) / lastLoss).toBeLessThan(1e-4);
    expect(Math.abs(l.mse - lastMse) / lastMse).toBeLessThan(1e-4);
    for (const k of PARAM_GROUPS) {
      expect(snap.adam[k].t, k).toBe(adam[k].t);
      expect(relErr(snap.params[k], p[k]), `params.${k}`).toBeLessThan(1e-4);
      // the update (param − initial) too, which is far smaller than the parameters
      expect(relErr(snap.params[k].map((x, i) => x - init[k][i]!), p[k].map((x, i) => x - init[k][i]!)), `update.${k}`).toBeLessThan(1e-3);
      expect(relErr(snap.adam[k].m, adam[k].m), `m.${k}`).toBeLessThan(1e-4);
      expect(relErr(snap.adam[k].v, adam[k].v), `v.${k}`).toBeLessThan(1e-4);
    }
    expect(Array.from(snap.stats.count)).toEqual(Array.from(stats.count));
    expect(relErr(snap.stats.sum, stats.sum)).toBeLessThan(1e-4);

    // downloadInto + replace round trip keeps the state
    const p2 = cloneGaussians(init), a2 = makeAdam(N), s2 = new GradStats(N);
    await res.downloadInto(p2, a2, s2);
    res.replace(p2, a2, s2);
    const snap2 = await res.download();
    for (const k of PARAM_GROUPS) expect(Array.from(snap2.params[k])).toEqual(Array.from(snap.params[k]));
    res.destroy();
    raster.destroy();
  });
});
