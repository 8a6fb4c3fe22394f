/**
 * The GPU-resident training step checks its first steps' loss against the same loss recomputed on
 * the CPU from its own prediction; on a mismatch (seen on an NVIDIA H200: the resident loss stayed
 * at its first value) training goes on along the CPU-array path, from the untouched CPU arrays.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getDevice } from '../src/gpu/device.js';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { captureTrainData } from '../src/synthetic/workspace.js';
import { Trainer, defaultTrainOptions } from '../src/scene/trainer.js';
import { createBackend } from '../src/scene/backend-factory.js';
import { GpuResidentTrainState } from '../src/scene/train/gpu-resident.js';
import { initTf } from '../src/scene/tf.js';

const ctx = await getDevice();

async function run(staleLoss: boolean): Promise<{ warnings: string[]; first: number; last: number; residentSteps: number }> {
  await initTf('cpu');
  const cap = renderSyntheticCapture({ views: 6, size: 32, detail: 0.15, seed: 5 });
  const data = await captureTrainData(cap);
  const backend = await createBackend('gpu');
  const warnings: string[] = [];
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { warnings.push(String(s)); return true; });
  const realLoss = GpuResidentTrainState.prototype.loss;
  let first: Awaited<ReturnType<typeof realLoss>> | null = null;
  let residentSteps = 0;
  const realStep = GpuResidentTrainState.prototype.step;
  vi.spyOn(GpuResidentTrainState.prototype, 'step').mockImplementation(function (this: GpuResidentTrainState, ...a) { residentSteps++; return realStep.apply(this, a); });
  if (staleLoss) {
    // the NVIDIA symptom: every later read gives the first step's loss
    vi.spyOn(GpuResidentTrainState.prototype, 'loss').mockImplementation(async function (this: GpuResidentTrainState) { first ??= await realLoss.call(this); return first; });
  }
  const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: 60, densify: false, seed: 1, lossEvery: 1 });
  const losses: number[] = [];
  try {
    await tr.train(60, (s) => { losses.push(s.loss); });
  } finally {
    tr.dispose();
    write.mockRestore();
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  return { warnings: warnings.filter((w) => w.includes('self-check')), first: mean(losses.slice(3, 13)), last: mean(losses.slice(-10)), residentSteps };
}

describe.skipIf(!ctx)('GPU-resident step self-check', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('passes on a working adapter: the resident path trains every step', async () => {
    const r = await run(false);
    expect(r.warnings).toEqual([]);
    expect(r.residentSteps).toBe(60);
    expect(r.last).toBeLessThan(r.first);
  }, 120_000);

  it('a stale resident loss sends training to the CPU-array path, which learns', async () => {
    const r = await run(true);
    expect(r.warnings.length).toBe(1);
    expect(r.warnings[0]).toMatch(/CPU-array path/);
    expect(r.residentSteps).toBe(2); // step 1 agrees (its loss is the first), step 2 does not
    expect(r.last).toBeLessThan(r.first * 0.9);
  }, 120_000);
});
