/**
 * Evaluate a trained scene from plain inputs: held-out views rendered from sceneDir/splats.ply,
 * scored (evaluate.ts), evalDir/metrics.json plus one side-by-side PNG per view (render | photo).
 * Knows nothing of workspaces: the eval stage (src/stages/eval.ts) maps a workspace onto these.
 */
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { readColmapModel } from '../io/colmap.js';
import { readGaussianPly } from '../io/ply.js';
import type { SparseModel } from '../core/sparse-model.js';
import { replaceDirAtomic, writeJsonAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { loadTrainData, type ImageLoader } from './run-train.js';
import { evaluateViews, type EvalResult } from './eval/evaluate.js';
import { PhotometricModel, type PhotometricJson } from './photometric.js';
import { createBackend } from './backend-factory.js';
import { initTf } from './tf.js';
import { sideBySide, writePng } from './image-io.js';

export interface EvalWorkspaceOptions {
  /** longest image side to evaluate at (pixels) */
  maxSize: number;
  /** Adam steps of the test-time exposure fit (photometric model) */
  fitSteps: number;
  /** score the right half only, even without a photometric model */
  rightHalf: boolean;
}

export interface EvalSceneInputs {
  /** the trained scene: splats.ply, and train.json / photometric.json / sparse-refined/ when present */
  sceneDir: string;
  /** the sparse model trained on, or its directory (read only when training did not refine cameras) */
  model: SparseModel | string;
  /** the images directory, or a loader */
  images: string | ImageLoader;
  /** output: metrics.json and the side-by-side renders (replaced atomically) */
  evalDir: string;
}

export async function evaluateScene(inputs: EvalSceneInputs, o: EvalWorkspaceOptions): Promise<EvalResult> {
  await initTf();
  const backend = await createBackend();
  const { sceneDir } = inputs;
  const { params, shDegree } = await readGaussianPly(path.join(sceneDir, 'splats.ply'));
  // cameras refined during training describe the scene better than the ones it started from
  const refined = path.join(sceneDir, 'sparse-refined');
  const model = existsSync(refined) ? await readColmapModel(refined) : typeof inputs.model === 'string' ? await readColmapModel(inputs.model) : inputs.model;
  const data = await loadTrainData(model, inputs.images, o.maxSize);
  const held = data.views.filter((v) => v.holdout);
  if (held.length === 0) throw new UserError('no held-out views (fewer than 2 images?)', { fix: 'use a capture with more images' });
  const trainJson = path.join(sceneDir, 'train.json');
  const trainOpts = existsSync(trainJson) ? (JSON.parse(readFileSync(trainJson, 'utf8')) as { options?: { background?: [number, number, number] } }).options ?? {} : {};
  const phFile = path.join(sceneDir, 'photometric.json');
  let photometric: PhotometricModel | null = null;
  if (existsSync(phFile)) {
    const j = JSON.parse(readFileSync(phFile, 'utf8')) as PhotometricJson;
    photometric = new PhotometricModel(data.views.map((v) => v.name), data.cameraIds, 0);
    photometric.loadJson(j);
  }
  const renders = new Map<string, { rgb: Float32Array; width: number; height: number; target: Float32Array }>();
  const res = await evaluateViews(params, held, backend, {
    shDegree,
    background: trainOpts.background ?? [0, 0, 0],
    photometric,
    fitSteps: o.fitSteps,
    rightHalf: o.rightHalf,
    onView: (v, rgb) => { renders.set(v.name, { rgb, width: v.width, height: v.height, target: v.target }); },
  });
  await replaceDirAtomic(inputs.evalDir, async (dir) => {
    for (const [name, r] of renders) {
      const pair = sideBySide({ width: r.width, height: r.height, data: r.rgb }, { width: r.width, height: r.height, data: r.target });
      await writePng(path.join(dir, `${path.parse(name).name}.png`), pair.data, pair.width, pair.height);
    }
    await writeJsonAtomic(path.join(dir, 'metrics.json'), res);
  });
  return res;
}
