import { describe, it, expect, beforeAll } from 'vitest';
import { initTf } from '../src/scene/tf.js';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { captureToModel, captureTrainData } from '../src/synthetic/workspace.js';
import { buildTrainData, type TrainData } from '../src/scene/dataset.js';
import { Trainer, defaultTrainOptions } from '../src/scene/trainer.js';
import { ReferenceBackend } from '../src/scene/backend-factory.js';
import { evaluateViews } from '../src/scene/eval/evaluate.js';
import { rasterizeReference } from '../src/scene/raster/reference.js';
import { defaultRasterOptions } from '../src/core/raster.js';
import type { Camera } from '../src/core/camera.js';
import { lensAt, pixelToNormalized, remapImage, undistortion } from '../src/geometry/undistort.js';
import { setQuiet } from '../src/util/log.js';

beforeAll(async () => {
  process.env.R2S_QUIET = '1';
  setQuiet(true);
  await initTf('cpu');
});

/**
 * A synthetic capture shot through a lens (OPENCV barrel + tangential) next to its pinhole twin
 * (same scene, same poses). The distorted photos are made from the scene itself: each photo pixel's
 * ray (inverse distortion) looked up in a 3× pinhole render that covers all of them.
 */
describe('training on a distorted capture', () => {
  it('undistorted at load, it trains to the PSNR of its pinhole twin; with the lens ignored it does not', async () => {
    const cpu0 = process.cpuUsage();
    const cap = renderSyntheticCapture({ views: 16, size: 48, detail: 0.15, seed: 4 });
    const k = cap.intrinsics, W = k.width, H = k.height;
    const f = k.fx;
    const lensCam: Camera = { id: 1, model: 'OPENCV', width: W, height: H, params: [f, f, W / 2 + 0.3, H / 2 - 0.2, -0.25, 0.05, 0.002, -0.001] };
    const lens = lensAt(lensCam);
    // rays of every photo pixel centre, and the pinhole source that covers them at 3× density
    const rays = new Float64Array(W * H * 2);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const r = pixelToNormalized(lens, u + 0.5, v + 0.5);
        if (!r) throw new Error('test lens: photo pixel without a ray');
        rays[(v * W + u) * 2] = r[0]; rays[(v * W + u) * 2 + 1] = r[1];
        x0 = Math.min(x0, r[0]); x1 = Math.max(x1, r[0]); y0 = Math.min(y0, r[1]); y1 = Math.max(y1, r[1]);
      }
    }
    const fs = 3 * f, pad = 3;
    const src = { width: Math.ceil(fs * (x1 - x0)) + 2 * pad, height: Math.ceil(fs * (y1 - y0)) + 2 * pad, fx: fs, fy: fs, cx: -fs * x0 + pad, cy: -fs * y0 + pad };
    const map = new Float32Array(W * H * 2);
    for (let p = 0; p < W * H; p++) { map[p * 2] = rays[p * 2]! * fs + src.cx; map[p * 2 + 1] = rays[p * 2 + 1]! * fs + src.cy; }
    const photos = new Map<string, Float32Array>();
    for (const im of cap.images) {
      const out = rasterizeReference(cap.scene, { ...src, R: im.truth.R, t: im.truth.t }, { ...defaultRasterOptions, shDegree: 0, background: [0, 0, 0] });
      photos.set(im.name, remapImage(out.rgb, src.width, src.height, 3, map, W, H));
    }
    const model = captureToModel(cap, 'given');
    model.cameras.set(1, lensCam);
    const load = async (name: string) => ({ width: W, height: H, data: photos.get(name)! });

    const twin = await captureTrainData(cap);
    const undistorted = await buildTrainData(model, load);
    const ignored = await buildTrainData(model, load, { undistort: false });
    const ph = undistortion(lens).pinhole;
    expect(undistorted.views[0]).toMatchObject({ width: ph.width, height: ph.height, fx: ph.fx });
    // the crop covers about the twin's frame at about its focal length
    expect(Math.abs(ph.fx / k.fx - 1)).toBeLessThan(0.1);

    const backend = new ReferenceBackend();
    const held = twin.views.filter((v) => v.holdout);
    // every run is scored on the twin's held-out pinhole renders (same scene, same poses)
    const train = async (data: TrainData) => {
      const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: 200, maxGaussians: 1200, seed: 1 });
      await tr.train(200);
      const r = await evaluateViews(tr.params, held, backend, { shDegree: 3, background: [0, 0, 0], photometric: null });
      tr.dispose();
      return r.psnr;
    };
    const pTwin = await train(twin), pUnd = await train(undistorted), pIgn = await train(ignored);
    console.log(`held-out PSNR: pinhole twin ${pTwin.toFixed(2)} dB, distorted + undistorted at load ${pUnd.toFixed(2)} dB, distortion ignored ${pIgn.toFixed(2)} dB (${((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(1)} s CPU)`);
    expect(pTwin).toBeGreaterThan(24);
    expect(Math.abs(pUnd - pTwin)).toBeLessThan(0.5);
    expect(pUnd).toBeGreaterThan(pIgn + 1.5);
  }, 400_000);
});
