/**
 * Evaluate a trained workspace: held-out views rendered from scene/splats.ply, scored (see
 * evaluate.ts), eval/metrics.json plus one side-by-side PNG per view (render | photo).
 */
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { Workspace } from '../pipeline/workspace.js';
import { readColmapModel } from '../io/colmap.js';
import { readGaussianPly } from '../io/ply.js';
import { replaceDirAtomic, writeJsonAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { loadWorkspaceData, sparseDirOf } from './run-train.js';
import { evaluateViews, type EvalResult } from './evaluate.js';
import { PhotometricModel, type PhotometricJson } from './photometric.js';
import { createBackend } from './backend.js';
import { initTf } from './tf.js';
import { sideBySide, writePng } from './image-io.js';

export interface EvalWorkspaceOptions {
  maxSize: number;
  fitSteps: number;
  rightHalf: boolean;
}

export async function evaluateWorkspace(ws: Workspace, o: EvalWorkspaceOptions): Promise<EvalResult> {
  await initTf();
  const backend = await createBackend();
  const { params, shDegree } = await readGaussianPly(path.join(ws.sceneDir, 'splats.ply'));
  const refined = path.join(ws.sceneDir, 'sparse-refined');
  const model = await readColmapModel(existsSync(refined) ? refined : sparseDirOf(ws));
  const data = await loadWorkspaceData(ws, o.maxSize, model);
  const held = data.views.filter((v) => v.holdout);
  if (held.length === 0) throw new UserError('no held-out views (fewer than 2 images?)', { fix: 'use a capture with more images' });
  const trainJson = path.join(ws.sceneDir, 'train.json');
  const trainOpts = existsSync(trainJson) ? (JSON.parse(readFileSync(trainJson, 'utf8')) as { options?: { background?: [number, number, number] } }).options ?? {} : {};
  const phFile = path.join(ws.sceneDir, 'photometric.json');
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
  await replaceDirAtomic(ws.evalDir, async (dir) => {
    for (const [name, r] of renders) {
      const pair = sideBySide({ width: r.width, height: r.height, data: r.rgb }, { width: r.width, height: r.height, data: r.target });
      await writePng(path.join(dir, `${path.parse(name).name}.png`), pair.data, pair.width, pair.height);
    }
    await writeJsonAtomic(path.join(dir, 'metrics.json'), res);
  });
  return res;
}
