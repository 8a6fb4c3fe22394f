/**
 * Which path training will take on this machine, and why (`r2s doctor`): the CPU reference
 * rasterizer when there is no WebGPU adapter or the WGSL rasterizer fails to start; else the
 * GPU-resident step when a short run on the caller's small scene passes its lockstep checks
 * against the CPU-array path (train/lockstep.ts) at a third, two thirds and the end of the run; else the GPU
 * rasterizer with CPU arrays, naming the stage that disagreed.
 */
import type { RasterBackend } from './backend.js';
import type { TrainData } from './dataset.js';
import { Trainer } from './trainer.js';
import { defaultTrainOptions } from './train/options.js';

export interface TrainingPath {
  path: 'gpu-resident' | 'gpu-cpu-arrays' | 'cpu-reference';
  /** one line: why this path */
  why: string;
  /** the largest loss and parameter errors the lockstep checks measured (resident runs) */
  worst?: { loss: number; params: number };
}

/** `steps` training steps on `data` with densification and the photometric model on. */
export async function checkTrainingPath(data: TrainData, backend: RasterBackend, steps = 30): Promise<TrainingPath> {
  if (!backend.resident) {
    return { path: 'cpu-reference', why: `no GPU rasterizer (${backend.name}): training runs the TypeScript reference rasterizer on the CPU` };
  }
  const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: steps, densify: true, photometric: true, seed: 1, residentCheckEvery: 0 });
  // not step 1: from the isotropic initialisation every rotation gradient is rounding noise, and
  // the two paths' noise differs (lockstep.ts); after a few steps the scales are anisotropic
  const checkAt = new Set([Math.ceil(steps / 3), Math.ceil((2 * steps) / 3), steps]);
  let worstLoss = 0, worstParams = 0;
  try {
    while (tr.step < steps) {
      if (!checkAt.has(tr.step + 1)) {
        await tr.trainStep();
        continue;
      }
      const { report } = await tr.lockstepStep();
      for (const s of report.stages) {
        if (s.stage === 'loss') worstLoss = Math.max(worstLoss, s.error);
        if (s.stage.startsWith('parameters')) worstParams = Math.max(worstParams, s.error);
      }
      if (report.disagree) {
        return { path: 'gpu-cpu-arrays', why: `the GPU-resident step disagreed with the CPU-array path at step ${report.step} in ${report.disagree}: training keeps its arrays on the CPU (correct, slower)` };
      }
    }
  } catch (e) {
    return { path: 'gpu-cpu-arrays', why: `the GPU-resident step failed (${(e as Error).message.split('\n')[0]}): training keeps its arrays on the CPU (correct, slower)` };
  } finally {
    tr.dispose();
  }
  return {
    path: 'gpu-resident',
    why: `the GPU-resident step agreed with the CPU-array path at steps ${[...checkAt].join(', ')} of ${steps} (loss within ${worstLoss.toExponential(1)}, parameters within ${worstParams.toExponential(1)})`,
    worst: { loss: worstLoss, params: worstParams },
  };
}
