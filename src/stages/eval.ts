/**
 * The `eval` stage: the trained scene scored on the held-out views (every 8th image) →
 * eval/metrics.json and side-by-side PNGs.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { bool, defineStage, int } from '../pipeline/stage.js';
import type { Workspace } from '../pipeline/workspace.js';
import { evaluateScene } from '../scene/run-eval.js';
import { DEFAULT_TRAIN_MAX_SIZE } from './train.js';

const options = z.object({
  maxSize: int('image size', { min: 16, max: 65536, defaultText: 'the size training used' }),
  fitSteps: int('test-time photometric fit steps', { min: 0, max: 1_000_000, default: 150 }),
  rightHalf: bool('score the right half even without a photometric model', { default: false }),
});

type Options = z.infer<typeof options>;

export interface EvalSummary {
  psnr: number;
  ssim: number;
  views: number;
  protocol: unknown;
}

function resolve(ws: Workspace, o: Options) {
  return { maxSize: o.maxSize ?? ws.readTrainRecord()?.maxSize ?? DEFAULT_TRAIN_MAX_SIZE, fitSteps: o.fitSteps, rightHalf: o.rightHalf };
}

export const evalStage = defineStage({
  name: 'eval',
  summary: 'score the trained scene on held-out views → eval/metrics.json and side-by-side PNGs',
  reads: ['scene/', 'sparse/', 'images/'],
  writes: ['eval/'],
  after: ['train'],
  options,
  plan(ws, o) {
    const ply = ws.splatsPlyPath;
    if (!ws.hasTrainedScene()) throw new UserError(`${ply}: no trained scene`, { file: ply, fix: 'run `r2s train -w <ws>` first' });
    const inputs = ['scene/splats.ply', 'scene/photometric.json', 'scene/sparse-refined', 'scene/train.json', 'sparse', 'images'];
    return { inputs: inputs.filter((p) => existsSync(ws.resolve(p))), options: resolve(ws, o), outputs: ['eval/metrics.json'] };
  },
  async run(ws, o): Promise<EvalSummary> {
    // The seam to the evaluator: plain inputs from the workspace's layout (the input sparse
    // model is read only when training wrote no refined cameras).
    const refined = ws.resolve('scene/sparse-refined');
    const m = await evaluateScene({ sceneDir: ws.sceneDir, model: existsSync(refined) ? refined : ws.sparseModelDir(), images: ws.imagesDir, evalDir: ws.evalDir }, resolve(ws, o));
    return { psnr: m.psnr, ssim: m.ssim, views: m.views.length, protocol: m.protocol };
  },
});
