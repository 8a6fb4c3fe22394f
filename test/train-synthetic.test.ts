import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initTf } from '../src/scene/tf.js';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { captureTrainData, writeSyntheticWorkspace } from '../src/synthetic/workspace.js';
import { Trainer, defaultTrainOptions } from '../src/scene/trainer.js';
import { ReferenceBackend, createBackend, type RasterBackend } from '../src/scene/backend-factory.js';
import { evaluateViews } from '../src/scene/eval/evaluate.js';
import { run as trainCmd } from '../src/cli/commands/train.js';
import { run as evalCmd } from '../src/cli/commands/eval.js';
import { readGaussianPly } from '../src/io/ply.js';
import { setQuiet } from '../src/util/log.js';

beforeAll(async () => {
  process.env.R2S_QUIET = '1';
  setQuiet(true);
  await initTf('cpu');
});

describe('training a tiny synthetic scene', () => {
  it('raises held-out PSNR well above what the untrained scene reaches', async () => {
    const cap = renderSyntheticCapture({ views: 16, size: 48, detail: 0.15, seed: 4 });
    const data = await captureTrainData(cap);
    const backend = new ReferenceBackend();
    const held = data.views.filter((v) => v.holdout);
    expect(held.map((v) => v.name)).toEqual(['view_000.png', 'view_008.png']);
    const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: 300, maxGaussians: 1500, seed: 1 });
    const score = async () => (await evaluateViews(tr.params, held, backend, { shDegree: 3, background: [0, 0, 0], photometric: null })).psnr;
    const before = await score();
    const steps: number[] = [];
    await tr.train(300, (s) => { if (s.densified) steps.push(s.step); });
    const after = await score();
    console.log(`held-out PSNR untrained ${before.toFixed(2)} dB → trained ${after.toFixed(2)} dB, ${tr.params.count} Gaussians`);
    expect(steps.length).toBeGreaterThan(0); // densification ran
    expect(tr.params.count).toBeGreaterThan(cap.scene.count);
    expect(tr.params.count).toBeLessThanOrEqual(1500);
    expect(after).toBeGreaterThan(before + 6);
    expect(after).toBeGreaterThan(28);
  });

  it('r2s train → r2s eval on a synthetic workspace writes the scene, metrics and renders; resume continues exactly', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'r2s-train-'));
    const cap = renderSyntheticCapture({ views: 10, size: 40, detail: 0.08, seed: 2 });
    await writeSyntheticWorkspace(root, cap);
    const common = ['-w', root, '--iterations', '60', '--backend', 'reference', '--tf-backend', 'cpu', '--max-gaussians', '800'];
    expect(await trainCmd([...common, '--checkpoint-every', '30'])).toBe(0);
    const ply = await readGaussianPly(path.join(root, 'scene', 'splats.ply'));
    expect(ply.params.count).toBeGreaterThan(0);
    expect(existsSync(path.join(root, 'scene', 'splats.spz'))).toBe(true);
    expect(await evalCmd(['-w', root])).toBe(0);
    const m = JSON.parse(readFileSync(path.join(root, 'eval', 'metrics.json'), 'utf8'));
    expect(m.views.length).toBe(2);
    expect(m.psnr).toBeGreaterThan(10);
    expect(existsSync(path.join(root, 'eval', 'view_000.png'))).toBe(true);

    // Resume exactness: 55 steps + checkpoint + 55 resumed steps == 110 steps straight, on the CPU
    // path (reference rasterizer, photometric model) and, where an adapter exists, the GPU-resident path.
    const data = await captureTrainData(cap);
    // iterations 120: densification at step 100 with statistics straddling the checkpoint, camera
    // passes at 50, 75, 100
    const base = { ...defaultTrainOptions, iterations: 120, maxGaussians: 800, seed: 5, refineCameras: true };
    const gpu = await createBackend('auto');
    const variants: [string, RasterBackend, typeof base][] = [['cpu', new ReferenceBackend(), { ...base, photometric: true }]];
    if (gpu.name !== 'reference') variants.push(['resident', gpu, { ...base, photometric: true }]);
    for (const [label, backend, opts] of variants) {
      const straight = new Trainer(data, backend, opts);
      await straight.train(110);
      const first = new Trainer(data, backend, opts);
      await first.train(55);
      const bytes = first.serialize();
      const resumed = new Trainer(data, backend, opts);
      resumed.restore(bytes);
      await resumed.train(110);
      expect(resumed.params.count, label).toBe(straight.params.count);
      expect(straight.params.count, label).not.toBe(data.points!.xyz.length / 3); // densification happened
      expect(Buffer.from(resumed.params.means.buffer).equals(Buffer.from(straight.params.means.buffer)), label).toBe(true);
      expect(Buffer.from(resumed.params.sh.buffer).equals(Buffer.from(straight.params.sh.buffer)), label).toBe(true);
      if (opts.photometric) expect(Buffer.from(resumed.photometric!.ev.buffer).equals(Buffer.from(straight.photometric!.ev.buffer))).toBe(true);
      expect(Buffer.from(resumed.poses!.R.buffer).equals(Buffer.from(straight.poses!.R.buffer)), label).toBe(true);
      [straight, first, resumed].forEach((t) => t.dispose());
    }
  });

  it('MCMC keeps the Gaussian count within its budget while growing and relocating', async () => {
    const cap = renderSyntheticCapture({ views: 10, size: 40, detail: 0.08, seed: 6 });
    const data = await captureTrainData(cap);
    const backend = new ReferenceBackend();
    const start = data.points!.xyz.length / 3;
    const cap2 = Math.round(start * 1.3);
    const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: 100, strategy: 'mcmc', maxGaussians: cap2, seed: 2 });
    let relocated = 0;
    const psnrs: number[] = [];
    await tr.train(100, (s) => { psnrs.push(s.psnr); relocated += s.densified?.relocated ?? 0; });
    expect(tr.params.count).toBeGreaterThan(start);
    expect(tr.params.count).toBeLessThanOrEqual(cap2);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(psnrs.slice(-10))).toBeGreaterThan(mean(psnrs.slice(0, 10)) + 2);
    expect(relocated).toBeGreaterThanOrEqual(0);
  });
});
