import { describe, it, expect } from 'vitest';
import { getDevice } from '../src/gpu/device.js';
import { GpuPhotometric, type PhotometricView } from '../src/gpu/photometric/apply.js';
import { PHOTOMETRIC_KEYS } from '../src/core/photometric.js';
import { tf, initTf } from '../src/scene/tf.js';
import { PhotometricModel, applyPhotometric, radius2 } from '../src/scene/photometric.js';
import { RESPONSE_SEGMENTS } from '../src/core/photometric.js';
import { GpuRasterizer } from '../src/gpu/raster/rasterizer.js';
import { GpuResidentTrainState, PARAM_GROUPS, PARAM_ROW, type ParamGroup } from '../src/scene/train/gpu-resident.js';
import { Adam } from '../src/scene/train/adam.js';
import { GradStats } from '../src/scene/train/densify.js';
import { photoLossAndGrad } from '../src/scene/train/image-loss.js';
import { expLr } from '../src/scene/train/schedule.js';
import { cloneGaussians } from '../src/scene/gaussians.js';
import { defaultRasterOptions, type RasterCamera } from '../src/core/raster.js';
import { type GaussianParams } from '../src/core/gaussians.js';
import { randomScene, rng } from '../src/scene/raster/random-scene.js';

const ctx = await getDevice();
await initTf('cpu');
const K = RESPONSE_SEGMENTS;

/** max |a−b| / max |b|: error against the array's scale */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < b.length; i++) { m = Math.max(m, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return m / (s + 1e-30);
}

/** A model of 3 images on 2 cameras with non-identity parameters (reference image 0). */
function model(seed: number): PhotometricModel {
  const r = rng(seed);
  const m = new PhotometricModel(['a', 'b', 'c'], [10, 11], 0);
  m.ev.set([0, 0.3, -0.2]);
  m.wb.set(Array.from({ length: 9 }, (_, i) => (i < 3 ? 0 : 0.1 * (r() - 0.5))));
  m.vig.set([-0.15, 0.05, -0.02, 0.1, -0.04, 0.01]);
  m.resp.set(Array.from({ length: 2 * K }, () => 0.4 * (r() - 0.5)));
  return m;
}

/** The CPU reference of one view: out and tf.grads of Σ out·dy (trainStep's autodiff). */
function reference(m: PhotometricModel, rgb: Float32Array, dy: Float32Array, v: PhotometricView) {
  const t = m.tensors(v.image, v.camera);
  const r2 = radius2(v.width, v.height, v.cx, v.cy);
  const rgbT = tf.tensor3d(rgb, [v.height, v.width, 3]);
  const f = (...xs: tf.Tensor[]) => applyPhotometric(xs[0] as tf.Tensor3D, { ev: xs[1] as tf.Tensor1D, wb: xs[2] as tf.Tensor1D, vig: xs[3] as tf.Tensor1D, resp: xs[4] as tf.Tensor1D }, r2);
  const inputs = [rgbT, t.ev, t.wb, t.vig, t.resp];
  const out = tf.tidy(() => f(...inputs).dataSync() as Float32Array);
  const dyT = tf.tensor3d(dy, [v.height, v.width, 3]);
  const g = tf.grads(f)(inputs, dyT);
  const [dRgb, ev, wb, vig, resp] = g.map((x) => Float32Array.from(x.dataSync()));
  tf.dispose([...g, ...inputs, dyT]);
  return { out, dRgb: dRgb!, grads: { ev: ev!, wb: wb!, vig: vig!, resp: resp! } };
}

function image(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

describe.skipIf(!ctx)('GPU photometric model vs the tfjs reference', () => {
  const views: PhotometricView[] = [
    { image: 1, camera: 0, width: 37, height: 23, cx: 17.3, cy: 12.1 },
    { image: 2, camera: 1, width: 64, height: 48, cx: 30, cy: 25 },
    // > one backward workgroup row in both directions, odd sizes
    { image: 0, camera: 1, width: 131, height: 77, cx: 66, cy: 37.5 },
  ];

  for (const v of views) {
    it(`forward ≤1e-5 and all gradients ≤1e-4 (${v.width}×${v.height}, image ${v.image}, camera ${v.camera})`, async () => {
      const m = model(3);
      const gp = await GpuPhotometric.create(ctx!.device, m);
      const n = v.width * v.height * 3;
      // beyond [0, 1] on both sides: the clamped segments and the linear extension
      const rgb = image(n, 5, -0.1, 1.15), dy = image(n, 6, -1, 1);
      const ref = reference(m, rgb, dy, v);
      const out = await gp.forwardArrays(rgb, v);
      let maxDiff = 0;
      for (let i = 0; i < n; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i]! - ref.out[i]!));
      expect(maxDiff).toBeLessThan(1e-5);
      const got = await gp.backwardArrays(rgb, dy, v);
      expect(relErr(got.dRgb, ref.dRgb), 'dRgb').toBeLessThan(1e-4);
      for (const k of PHOTOMETRIC_KEYS) expect(relErr(got.grads[k], ref.grads[k]), k).toBeLessThan(1e-4);
      // deterministic: bit-identical again
      const again = await gp.backwardArrays(rgb, dy, v);
      for (const k of PHOTOMETRIC_KEYS) expect(Array.from(again.grads[k])).toEqual(Array.from(got.grads[k]));
      gp.destroy();
    });
  }

  it('gradients match central finite differences of the GPU forward', async () => {
    const v: PhotometricView = { image: 1, camera: 1, width: 24, height: 18, cx: 11, cy: 9.5 };
    const m = model(7);
    const gp = await GpuPhotometric.create(ctx!.device, m);
    const n = v.width * v.height * 3;
    const rgb = image(n, 8, -0.05, 1.1), dy = image(n, 9, 0.2, 1);
    const { dRgb, grads } = await gp.backwardArrays(rgb, dy, v);
    const L = async (mm: PhotometricModel, x: Float32Array) => {
      gp.load(mm);
      const o = await gp.forwardArrays(x, v);
      let s = 0;
      for (let i = 0; i < n; i++) s += o[i]! * dy[i]!;
      return s;
    };
    const h = 2e-3;
    const entries: [keyof typeof grads, number, number][] = [['ev', 1, 0], ['wb', 1 * 3 + 2, 2], ['vig', 1 * 3 + 0, 0], ['vig', 1 * 3 + 2, 2], ['resp', K + 3, 3], ['resp', K + 12, 12]];
    for (const [k, at, gi] of entries) {
      const up = model(7), dn = model(7);
      up[k][at]! += h;
      dn[k][at]! -= h;
      const fd = ((await L(up, rgb)) - (await L(dn, rgb))) / (2 * h);
      const g = grads[k][gi]!;
      expect(Math.abs(fd - g), `${k}[${gi}]: fd ${fd} vs ${g}`).toBeLessThan(2e-3 * Math.max(1, Math.abs(g)));
    }
    gp.load(m);
    const r = rng(4);
    for (let t = 0; t < 4; t++) {
      const i = Math.floor(r() * n);
      const up = rgb.slice(), dn = rgb.slice();
      up[i]! += 1e-3;
      dn[i]! -= 1e-3;
      const fd = ((await L(m, up)) - (await L(m, dn))) / 2e-3;
      expect(Math.abs(fd - dRgb[i]!), `dRgb[${i}]`).toBeLessThan(2e-2 * Math.max(1, Math.abs(dRgb[i]!)));
    }
    gp.destroy();
  });
});

function makeAdam(n: number): Record<ParamGroup, Adam> {
  const lr: Record<ParamGroup, number> = { means: 1.6e-4, logScales: 5e-3, quats: 1e-3, opacityLogits: 5e-2, sh: 2.5e-3 };
  const a = Object.fromEntries(PARAM_GROUPS.map((k) => [k, new Adam(n * PARAM_ROW[k], PARAM_ROW[k], lr[k])])) as Record<ParamGroup, Adam>;
  a.sh.colScale = new Float32Array(48).map((_, c) => (c < 3 ? 1 : 1 / 20));
  return a;
}

describe.skipIf(!ctx)('GPU-resident training with the photometric model vs the CPU path', () => {
  it('6 steps over 3 images / 2 cameras give the same Gaussians, photometric state and loss', async () => {
    const raster = await GpuRasterizer.create(ctx!);
    const W = 64, H = 48, N = 400, iterations = 20;
    const opts = { ...defaultRasterOptions, shDegree: 1, background: [0.1, 0.1, 0.1] as [number, number, number] };
    const { params: init, cam } = randomScene(N, W, H, { seed: 21, scale: 0.07 });
    const cams: RasterCamera[] = [cam, { ...cam, t: [cam.t[0]! + 0.1, cam.t[1]!, cam.t[2]!] }, { ...cam, cx: cam.cx + 3, t: [cam.t[0]!, cam.t[1]! - 0.08, cam.t[2]!] }];
    const camOf = [0, 1, 1];
    const truth = randomScene(N, W, H, { seed: 22, scale: 0.07 }).params;
    const targets = await Promise.all(cams.map(async (c) => (await raster.rasterize(truth, c, opts)).rgb.slice()));
    const order = [0, 1, 2, 1, 0, 2]; // the reference image (0) twice: its EV/WB stay

    // CPU path: Trainer.trainStep's photometric branch
    const p: GaussianParams = cloneGaussians(init);
    const adam = makeAdam(N);
    const ph = model(11);
    let lastLoss = 0, lastMse = 0;
    for (let step = 0; step < order.length; step++) {
      const vi = order[step]!, ci = camOf[vi]!, c = cams[vi]!;
      const out = await raster.rasterize(p, c, opts);
      const phT = ph.tensors(vi, ci);
      const rgbT = tf.tensor3d(out.rgb, [H, W, 3]);
      const r2 = radius2(W, H, c.cx, c.cy);
      const f = (...xs: tf.Tensor[]) => applyPhotometric(xs[0] as tf.Tensor3D, { ev: xs[1] as tf.Tensor1D, wb: xs[2] as tf.Tensor1D, vig: xs[3] as tf.Tensor1D, resp: xs[4] as tf.Tensor1D }, r2);
      const inputs = [rgbT, phT.ev, phT.wb, phT.vig, phT.resp];
      const pred = tf.tidy(() => f(...inputs).dataSync() as Float32Array);
      const lr = photoLossAndGrad(pred, targets[vi]!, W, H, 0.2);
      const dy = tf.tensor3d(lr.grad, [H, W, 3]);
      const grads = tf.grads(f)(inputs, dy);
      const dRgb = Float32Array.from(grads[0]!.dataSync());
      const w = 2 * ph.lrs.regularization;
      const reg = (t: tf.Tensor, own: Float32Array, anchored: boolean) => {
        const gr = Float32Array.from(t.dataSync());
        if (!anchored) for (let i = 0; i < gr.length; i++) gr[i]! += w * own[i]!;
        return gr;
      };
      const anchoredImage = vi === ph.referenceImage;
      const phGrads = {
        ev: reg(grads[1]!, ph.ev.subarray(vi, vi + 1), anchoredImage),
        wb: reg(grads[2]!, ph.wb.subarray(vi * 3, vi * 3 + 3), anchoredImage),
        vig: reg(grads[3]!, ph.vig.subarray(ci * 3, ci * 3 + 3), false),
        resp: reg(grads[4]!, ph.resp.subarray(ci * K, (ci + 1) * K), false),
      };
      tf.dispose([...grads, ...inputs, dy]);
      let se = 0;
      for (let i = 0; i < pred.length; i++) se += (pred[i]! - targets[vi]![i]!) ** 2;
      lastLoss = lr.loss; lastMse = se / pred.length;
      const g = await raster.backwardArrays(out.fwd, { rgb: dRgb });
      for (const k of PARAM_GROUPS) adam[k].step(p[k], g[k]);
      ph.setLrScale(expLr(step, 1, 0.01, iterations));
      ph.step(vi, ci, phGrads, { perImage: true, perCamera: true });
    }

    // resident path from the same start
    const adam0 = makeAdam(N);
    const ph0 = model(11);
    const res = await GpuResidentTrainState.create(raster, cloneGaussians(init), adam0, new GradStats(N), ph0);
    const lrs = Object.fromEntries(PARAM_GROUPS.map((k) => [k, adam0[k].lr])) as Record<ParamGroup, number>;
    for (let step = 0; step < order.length; step++) {
      const vi = order[step]!;
      await res.step(`view${vi}`, targets[vi]!, cams[vi]!, opts, lrs, 0.2, { photometric: { image: vi, camera: camOf[vi]!, lrScale: expLr(step, 1, 0.01, iterations) } });
    }
    const l = await res.loss();
    const snap = await res.download();

    expect(Math.abs(l.loss - lastLoss) / lastLoss).toBeLessThan(1e-4);
    expect(Math.abs(l.mse - lastMse) / lastMse).toBeLessThan(1e-4);
    for (const k of PARAM_GROUPS) {
      expect(relErr(snap.params[k], p[k]), `params.${k}`).toBeLessThan(1e-4);
      expect(relErr(snap.params[k].map((x, i) => x - init[k][i]!), p[k].map((x, i) => x - init[k][i]!)), `update.${k}`).toBeLessThan(1e-3);
      expect(relErr(snap.adam[k].m, adam[k].m), `m.${k}`).toBeLessThan(1e-4);
    }
    const sp = snap.photometric!;
    const start = model(11);
    for (const k of PHOTOMETRIC_KEYS) {
      expect(sp.adam[k].t, `t.${k}`).toBe(ph.adam[k].t);
      expect(relErr(sp[k], ph[k]), `ph.${k}`).toBeLessThan(1e-4);
      expect(relErr(sp[k].map((x, i) => x - start[k][i]!), ph[k].map((x, i) => x - start[k][i]!)), `ph update.${k}`).toBeLessThan(1e-4);
      expect(relErr(sp.adam[k].m, ph.adam[k].m), `ph m.${k}`).toBeLessThan(1e-4);
      expect(relErr(sp.adam[k].v, ph.adam[k].v), `ph v.${k}`).toBeLessThan(1e-4);
    }
    // the anchor: the reference image's EV/WB never moved
    expect(sp.ev[0]).toBe(start.ev[0]);
    expect(Array.from(sp.wb.subarray(0, 3))).toEqual(Array.from(start.wb.subarray(0, 3)));
    expect(sp.adam.ev.t).toBe(4);
    expect(sp.adam.vig.t).toBe(6);

    // downloadInto a fresh model + replace(…, model) keeps the state
    const p2 = cloneGaussians(init), a2 = makeAdam(N), s2 = new GradStats(N), ph2 = model(1);
    await res.downloadInto(p2, a2, s2, ph2);
    for (const k of PHOTOMETRIC_KEYS) {
      expect(Array.from(ph2[k])).toEqual(Array.from(sp[k]));
      expect(ph2.adam[k].t).toBe(sp.adam[k].t);
      expect(Array.from(ph2.adam[k].v)).toEqual(Array.from(sp.adam[k].v));
    }
    res.replace(p2, a2, s2, ph2);
    const snap2 = await res.download();
    for (const k of PHOTOMETRIC_KEYS) expect(Array.from(snap2.photometric![k])).toEqual(Array.from(sp[k]));
    res.destroy();
    raster.destroy();
  }, 120_000);
});
