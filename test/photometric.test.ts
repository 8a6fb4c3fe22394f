import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initTf } from '../src/scene/tf.js';
import { responseCurve, applyPhotometric, radius2 } from '../src/scene/photometric.js';
import { photoLoss } from '../src/scene/train/losses.js';
import { photoLossAndGrad } from '../src/scene/train/image-loss.js';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { captureTrainData } from '../src/synthetic/workspace.js';
import { Trainer, defaultTrainOptions } from '../src/scene/trainer.js';
import { ReferenceBackend, rasterOp } from '../src/scene/backend-reference.js';
import { defaultRasterOptions } from '../src/core/raster.js';
import { evaluateViews } from '../src/scene/eval/evaluate.js';
import { Rng } from '../src/util/rng.js';

beforeAll(async () => {
  await initTf('cpu');
});

describe('photometric model', () => {
  it('is the identity at zero parameters and the response stays monotone for any parameters', () => {
    const x = tf.linspace(-0.2, 1.3, 301);
    const id = responseCurve(x, tf.zeros([16]) as tf.Tensor1D);
    const d = Array.from(id.dataSync()), xs = Array.from(x.dataSync());
    d.forEach((v, i) => expect(v).toBeCloseTo(xs[i]!, 5));
    const rng = new Rng(5);
    const p = tf.tensor1d(Array.from({ length: 16 }, () => rng.normal()));
    const y = Array.from(responseCurve(x, p).dataSync());
    for (let i = 1; i < y.length; i++) expect(y[i]!).toBeGreaterThan(y[i - 1]!);
    const rgb = tf.randomUniform([6, 8, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
    const out = applyPhotometric(rgb, { ev: tf.zeros([1]) as tf.Tensor1D, wb: tf.zeros([3]) as tf.Tensor1D, vig: tf.zeros([3]) as tf.Tensor1D, resp: tf.zeros([16]) as tf.Tensor1D }, radius2(8, 6, 4, 3));
    expect(tf.max(tf.abs(out.sub(rgb))).dataSync()[0]).toBeLessThan(1e-5);
    // +1 EV doubles linear values (inside [0, 1])
    const half = rgb.mul(0.5) as tf.Tensor3D;
    const up = applyPhotometric(half, { ev: tf.ones([1]) as tf.Tensor1D, wb: tf.zeros([3]) as tf.Tensor1D, vig: tf.zeros([3]) as tf.Tensor1D, resp: tf.zeros([16]) as tf.Tensor1D }, radius2(8, 6, 4, 3));
    expect(tf.max(tf.abs(up.sub(rgb))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('response curve gradient matches finite differences', () => {
    const rng = new Rng(9);
    const p = Array.from({ length: 16 }, () => 0.3 * rng.normal());
    const xs = Array.from({ length: 40 }, () => rng.uniform(-0.1, 1.1));
    const w = xs.map(() => rng.normal());
    const f = (pp: number[]) => tf.tidy(() => responseCurve(tf.tensor1d(xs), tf.tensor1d(pp)).mul(tf.tensor1d(w)).sum().dataSync()[0]!);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => responseCurve(a, b as tf.Tensor1D).mul(tf.tensor1d(w)).sum())([tf.tensor1d(xs), tf.tensor1d(p)]);
    const gp = g[1]!.dataSync();
    for (const k of [0, 5, 15]) {
      const h = 1e-2;
      const up = p.slice(); up[k]! += h;
      const dn = p.slice(); dn[k]! -= h;
      expect(gp[k]!).toBeCloseTo((f(up) - f(dn)) / (2 * h), 2);
    }
    const gx = g[0]!.dataSync();
    const slopes = p.map(Math.exp);
    xs.forEach((x, i) => expect(gx[i]!).toBeCloseTo(w[i]! * slopes[Math.min(15, Math.max(0, Math.floor(x * 16)))]!, 4));
  });

  it('the TypeScript loss gradient equals the tfjs autodiff gradient', () => {
    const rng = new Rng(2);
    const W = 20, H = 16;
    const a = Float32Array.from({ length: W * H * 3 }, () => rng.next());
    const b = Float32Array.from({ length: W * H * 3 }, () => rng.next());
    const ts = photoLossAndGrad(a, b, W, H, 0.2);
    const target = tf.tensor3d(b, [H, W, 3]);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => photoLoss(x as tf.Tensor3D, target))(tf.tensor3d(a, [H, W, 3]));
    expect(value.dataSync()[0]!).toBeCloseTo(ts.loss, 5);
    const gt = grad.dataSync();
    let maxDiff = 0, maxAbs = 0;
    for (let i = 0; i < gt.length; i++) { maxDiff = Math.max(maxDiff, Math.abs(gt[i]! - ts.grad[i]!)); maxAbs = Math.max(maxAbs, Math.abs(gt[i]!)); }
    expect(maxDiff).toBeLessThan(1e-3 * maxAbs);
  });

  it('with ±1 EV exposure jitter, training with the model beats training without it on held-out views', async () => {
    const cap = renderSyntheticCapture({ views: 16, size: 48, detail: 0.15, exposureJitter: 1, seed: 1 });
    const data = await captureTrainData(cap);
    const backend = new ReferenceBackend();
    const held = data.views.filter((v) => v.holdout);
    const scores: number[] = [];
    for (const photometric of [false, true]) {
      const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: 150, photometric, maxGaussians: 1500, seed: 3 });
      await tr.train(150);
      // both scored on the right half; with the model, exposure/WB are fitted on the left half
      const r = await evaluateViews(tr.params, held, backend, { shDegree: 3, background: [0, 0, 0], photometric: tr.photometric, rightHalf: true });
      scores.push(r.psnr);
    }
    console.log(`held-out PSNR without / with photometric model: ${scores[0]!.toFixed(2)} / ${scores[1]!.toFixed(2)} dB`);
    expect(scores[1]!).toBeGreaterThan(scores[0]! + 3);
  });

  it('the rasterizer as a tf.customGrad op gives the same gradients as render → TS loss → backward', async () => {
    const cap = renderSyntheticCapture({ views: 3, size: 32, detail: 0.05, seed: 8 });
    const data = await captureTrainData(cap);
    const tr = new Trainer(data, new ReferenceBackend(), { ...defaultTrainOptions, iterations: 10 });
    const v = data.views[1]!;
    const cam = tr.camera(1);
    const opts = { ...defaultRasterOptions, shDegree: 0 };
    const backend = new ReferenceBackend();
    const p = tr.params;
    const op = rasterOp(backend, p.count, cam, opts);
    const target = tf.tensor3d(v.target, [v.height, v.width, 3]);
    const ins = [tf.tensor(p.means, [p.count, 3]), tf.tensor(p.logScales, [p.count, 3]), tf.tensor(p.quats, [p.count, 4]), tf.tensor(p.opacityLogits, [p.count]), tf.tensor(p.sh, [p.count, 48])];
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => photoLoss(op(a, b, c, d, e), target))(ins);
    const pass = await backend.render(p, cam, opts);
    const ref = await pass.backward({ rgb: photoLossAndGrad(pass.out.rgb, v.target, v.width, v.height).grad });
    const a = g[0]!.dataSync(), b = ref.means;
    let maxDiff = 0, maxAbs = 0;
    for (let i = 0; i < b.length; i++) { maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!)); maxAbs = Math.max(maxAbs, Math.abs(b[i]!)); }
    expect(maxAbs).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(1e-3 * maxAbs);
  });
});
