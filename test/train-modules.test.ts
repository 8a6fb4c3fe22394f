import { describe, it, expect } from 'vitest';
import { PARAM_GROUP_TABLE, PARAM_GROUPS, PARAM_ROW, createAdamGroups } from '../src/scene/train/param-groups.js';
import { allocGaussians } from '../src/scene/gaussians.js';
import { defaultLearningRates, scaledSchedule } from '../src/scene/train/schedule.js';
import { DefaultStrategy, defaultStrategyOptions } from '../src/scene/train/strategy-default.js';
import { McmcStrategy, mcmcStrategyOptions } from '../src/scene/train/strategy-mcmc.js';
import { cameraSchedule, cameraPassDue } from '../src/scene/train/camera-passes.js';
import { runIdentity, identityDifference } from '../src/scene/train/run-identity.js';
import { defaultTrainOptions } from '../src/scene/train/options.js';
import { ReferenceBackend } from '../src/scene/backend-reference.js';
import { createBackend } from '../src/scene/backend-factory.js';
import type { TrainData } from '../src/scene/dataset.js';

describe('trainer building blocks', () => {
  it('the parameter-group table matches the GaussianParams layout and the 3DGS learning rates', () => {
    const g = allocGaussians(7);
    for (const k of PARAM_GROUPS) expect(g[k].length, k).toBe(7 * PARAM_ROW[k]);
    const adam = createAdamGroups(7, defaultLearningRates, 2);
    expect(adam.means.lr).toBe(defaultLearningRates.positionInit * 2);
    expect(adam.sh.colScale![0]).toBe(1);
    expect(adam.sh.colScale![3]).toBe(Math.fround(1 / defaultLearningRates.shRestDivisor));
    expect(PARAM_GROUP_TABLE.filter((t) => t.positional).map((t) => t.name)).toEqual(['means']);
  });

  it('the default strategy follows the scaled 3DGS schedule; MCMC needs the CPU arrays', () => {
    const s = scaledSchedule(30_000);
    const d = new DefaultStrategy(defaultStrategyOptions(s, 1, 0));
    expect([d.o.refineStart, d.o.refineStop, d.o.refineEvery, d.o.resetEvery]).toEqual([500, 15_000, 100, 3000]);
    expect(d.hostWorkDue(500)).toBe(true);
    expect(d.hostWorkDue(550)).toBe(false);
    expect(d.hostWorkDue(3000)).toBe(true);
    expect(d.accumulatesStats(14_999)).toBe(true);
    expect(d.accumulatesStats(15_000)).toBe(false);
    const m = new McmcStrategy(mcmcStrategyOptions(s, 0));
    expect(m.residentCapable).toBe(false);
    expect(m.o.capMax).toBe(1_000_000);
  });

  it('camera passes: every max(100, N/60) steps from twice that, none in the last tenth', () => {
    const c = cameraSchedule({ ...defaultTrainOptions, iterations: 12_000, refineCameras: true });
    expect([c.every, c.start, c.until]).toEqual([200, 400, 10_800]);
    expect(cameraPassDue(400, c) && cameraPassDue(600, c) && !cameraPassDue(500, c) && !cameraPassDue(11_000, c)).toBe(true);
  });

  it('a run identity changes with the inputs and the shaping options, not with how the step is computed', () => {
    const data = { views: [{ name: 'a.png', target: new Float32Array([0.5]) }], cameraIds: [1], points: null, extent: 1, center: [0, 0, 0] } as unknown as TrainData;
    const a = runIdentity(data, defaultTrainOptions);
    expect(runIdentity(data, { ...defaultTrainOptions, resident: false, lossEvery: 3 }).id).toBe(a.id);
    expect(runIdentity(data, { ...defaultTrainOptions, maxSize: 10 } as typeof defaultTrainOptions).id).toBe(a.id);
    const b = runIdentity(data, { ...defaultTrainOptions, iterations: 30, seed: 2 });
    expect(identityDifference(a, b)).toBe('iterations 30 → 30000, seed 2 → 0');
    const other = { ...data, views: [{ name: 'a.png', target: new Float32Array([0.25]) }] } as unknown as TrainData;
    expect(identityDifference(a, runIdentity(other, defaultTrainOptions))).toBe('other images or sparse model');
    expect(identityDifference(a, null)).toMatch(/before checkpoints carried their run/);
  });

  it('backends say whether they offer a GPU-resident rasterizer', async () => {
    expect(new ReferenceBackend().resident).toBeNull();
    const b = await createBackend('auto');
    if (b.name === 'reference') expect(b.resident).toBeNull();
    else expect(typeof b.resident?.forward).toBe('function');
  });
});
