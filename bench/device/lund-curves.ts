/**
 * The Lund sample trained on both paths — GPU-resident and CPU arrays (`--no-resident`) — with
 * their learning curves: mean training PSNR per 100 steps and the held-out PSNR (the eval
 * stage's protocol) every `--eval-every` steps and at the end. For the lent NVIDIA machine
 * (bench/device/kit.sh), where the resident step once did not learn; each path stops at its
 * wall-clock budget, so a slow CPU-array path still leaves a partial curve to compare.
 *   npx tsx bench/device/lund-curves.ts --out FILE [--steps 2000] [--max-size 480] [--paths resident,cpu]
 *     [--budget-s 240] [--eval-every 500]
 * Cameras: test/fixtures/lund-sparse (r2s sfm on samples/lund); photos: samples/lund.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readColmapModel } from '../../src/io/colmap.js';
import { loadTrainData } from '../../src/scene/run-train.js';
import { Trainer, defaultTrainOptions } from '../../src/scene/trainer.js';
import { createBackend } from '../../src/scene/backend-factory.js';
import { initTf } from '../../src/scene/tf.js';
import { evaluateViews } from '../../src/scene/eval/evaluate.js';
import { shDegreeAt } from '../../src/scene/train/schedule.js';
import { getDevice } from '../../src/gpu/device.js';

const { values: a } = parseArgs({
  options: {
    out: { type: 'string' }, steps: { type: 'string', default: '2000' }, 'max-size': { type: 'string', default: '480' },
    paths: { type: 'string', default: 'resident,cpu' }, 'budget-s': { type: 'string', default: '240' }, 'eval-every': { type: 'string', default: '500' },
  },
});
// the repository root: two levels up from bench/device/, one from the packed devrun/
const here = path.dirname(fileURLToPath(import.meta.url));
const root = [path.resolve(here, '..', '..'), path.resolve(here, '..')].find((r) => existsSync(path.join(r, 'samples', 'lund'))) ?? process.cwd();
const steps = Number(a.steps), maxSize = Number(a['max-size']), budget = Number(a['budget-s']) * 1000, evalEvery = Number(a['eval-every']);
await initTf('cpu');
const ctx = await getDevice();
const model = await readColmapModel(path.join(root, 'test', 'fixtures', 'lund-sparse'));
const data = await loadTrainData(model, path.join(root, 'samples', 'lund'), maxSize);
const backend = await createBackend('gpu');
const v0 = data.views[0]!;
const result: Record<string, unknown> = {
  adapter: ctx?.adapterName ?? 'none', date: new Date().toISOString(), image: `${v0.width}×${v0.height}`, steps, budgetSeconds: budget / 1000,
  views: data.views.length, heldOut: data.views.filter((v) => v.holdout).length,
};
for (const p of a.paths!.split(',')) {
  const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: steps, resident: p === 'resident', seed: 1 });
  const curve: { step: number; trainPsnr: number; seconds: number; count: number }[] = [];
  const heldOut: { step: number; psnr: number; ssim: number }[] = [];
  const evalNow = async () => {
    await tr.sync();
    const r = await evaluateViews(tr.params, data.views.filter((v) => v.holdout), backend, {
      shDegree: shDegreeAt(tr.step, tr.schedule, tr.opts.maxShDegree), background: tr.opts.background, photometric: tr.photometric,
    });
    heldOut.push({ step: tr.step, psnr: r.psnr, ssim: r.ssim });
    console.log(`${p} step ${tr.step}: held-out ${r.psnr.toFixed(2)} dB`);
  };
  const t0 = performance.now();
  let acc = 0, k = 0, evalMs = 0;
  while (tr.step < steps && performance.now() - t0 - evalMs < budget) {
    const info = await tr.trainStep();
    if (Number.isFinite(info.psnr)) { acc += info.psnr; k++; }
    if (tr.step % 100 === 0) {
      curve.push({ step: tr.step, trainPsnr: k ? acc / k : NaN, seconds: (performance.now() - t0 - evalMs) / 1000, count: tr.params.count });
      console.log(`${p} step ${tr.step}: train PSNR ${(acc / k).toFixed(2)} dB, ${tr.params.count} Gaussians, ${((performance.now() - t0 - evalMs) / 1000).toFixed(1)} s`);
      acc = 0; k = 0;
    }
    if (tr.step % evalEvery === 0) { const e0 = performance.now(); await evalNow(); evalMs += performance.now() - e0; }
  }
  const seconds = (performance.now() - t0 - evalMs) / 1000;
  if (tr.step % evalEvery !== 0) await evalNow();
  result[p] = { stepsDone: tr.step, seconds, stepsPerSecond: tr.step / seconds, curve, heldOut };
  tr.dispose();
}
if (a.out) writeFileSync(a.out, JSON.stringify(result, null, 1));
console.log(JSON.stringify(result).slice(0, 400));
process.exit(0);
