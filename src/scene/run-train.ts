/**
 * Train a workspace end to end: read the sparse model and images, train with checkpoints, write
 * scene/splats.ply (+ .spz), photometric.json, refined cameras, train.json. Shared by `r2s train`
 * and bench/train.ts.
 */
import path from 'node:path';
import { existsSync, readdirSync, readFileSync, promises as fs } from 'node:fs';
import { Workspace } from '../pipeline/workspace.js';
import { findColmapModelDir, readColmapModel, writeColmapModel } from '../io/colmap.js';
import { writeGaussianPly } from '../io/ply.js';
import { writeSpz } from '../io/spz.js';
import { CAMERA_MODELS } from '../core/camera.js';
import { type SparseModel } from '../core/sparse-model.js';
import { matToQuat } from '../geometry/rotation.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fsx.js';
import { info, warn } from '../util/log.js';
import { Progress } from '../util/progress.js';
import { buildTrainData, type TrainData } from './dataset.js';
import { loadRgb, trainingSize } from './image-io.js';
import { Trainer, defaultTrainOptions, type TrainOptions } from './trainer.js';
import { createBackend, type BackendChoice } from './backend.js';
import { initTf, type TfBackendChoice } from './tf.js';

export interface RunTrainOptions extends TrainOptions {
  maxSize: number;
  checkpointEvery: number;
  resume: boolean;
  backend: BackendChoice;
  tfBackend: TfBackendChoice;
  silent?: boolean;
}

export interface TrainSummary {
  steps: number;
  gaussians: number;
  seconds: number;
  stepsPerSecond: number;
  lastLoss: number;
  /** mean training PSNR over the last 100 steps */
  trainPsnr: number;
  backend: string;
  tfBackend: string;
  maxSize: number;
  resumedFrom?: number;
}

export function sparseDirOf(ws: Workspace): string {
  const dir = existsSync(ws.sparseDir) ? findColmapModelDir(ws.sparseDir) : null;
  if (!dir) throw new UserError(`${ws.sparseDir}: no COLMAP model`, { file: ws.sparseDir, fix: 'run `r2s sfm -w <ws>` or `r2s import` first' });
  return dir;
}

export async function loadWorkspaceData(ws: Workspace, maxSize: number, model?: SparseModel): Promise<TrainData> {
  const m = model ?? (await readColmapModel(sparseDirOf(ws)));
  if (m.images.size === 0) throw new UserError(`${sparseDirOf(ws)}: the sparse model has no images`, { fix: 're-run sfm' });
  return buildTrainData(m, async (name, cam) => {
    const size = trainingSize(cam.width, cam.height, maxSize);
    return loadRgb(path.join(ws.imagesDir, name), size.width, size.height);
  });
}

export const checkpointDir = (ws: Workspace) => path.join(ws.sceneDir, 'checkpoints');

function latestCheckpoint(ws: Workspace): { file: string; step: number } | null {
  const dir = checkpointDir(ws);
  if (!existsSync(dir)) return null;
  const all = readdirSync(dir)
    .map((f) => /^step-(\d+)\.ckpt$/.exec(f))
    .filter((m): m is RegExpExecArray => Boolean(m))
    .map((m) => ({ file: path.join(dir, m[0]), step: Number(m[1]) }))
    .sort((a, b) => b.step - a.step);
  return all[0] ?? null;
}

async function writeCheckpoint(ws: Workspace, trainer: Trainer): Promise<void> {
  const dir = checkpointDir(ws);
  await trainer.sync();
  await writeFileAtomic(path.join(dir, `step-${String(trainer.step).padStart(7, '0')}.ckpt`), trainer.serialize());
  // keep the two newest
  const old = readdirSync(dir).filter((f) => /^step-\d+\.ckpt$/.test(f)).sort().slice(0, -2);
  await Promise.all(old.map((f) => fs.rm(path.join(dir, f), { force: true })));
}

export async function trainWorkspace(ws: Workspace, o: RunTrainOptions): Promise<{ trainer: Trainer; summary: TrainSummary; data: TrainData }> {
  const tfBackend = await initTf(o.tfBackend);
  const backend = await createBackend(o.backend);
  const model = await readColmapModel(sparseDirOf(ws));
  const data = await loadWorkspaceData(ws, o.maxSize, model);
  const trainer = new Trainer(data, backend, o);
  let resumedFrom: number | undefined;
  if (o.resume) {
    const ck = latestCheckpoint(ws);
    if (!ck) warn(`--resume: no checkpoint in ${checkpointDir(ws)}; starting from scratch`);
    else {
      try {
        trainer.restore(new Uint8Array(readFileSync(ck.file)));
      } catch (e) {
        throw new UserError(`${ck.file}: cannot resume (${(e as Error).message})`, { file: ck.file, fix: 'train without --resume' });
      }
      resumedFrom = trainer.step;
      info(`train: resumed at step ${trainer.step} from ${ck.file}`);
    }
  }
  const progress = new Progress('train', o.iterations, { silent: o.silent });
  const t0 = Date.now();
  const startStep = trainer.step;
  const recent: number[] = [];
  let lastLoss = NaN;
  await trainer.train(o.iterations, async (s) => {
    lastLoss = s.loss;
    recent.push(s.psnr);
    if (recent.length > 100) recent.shift();
    const rate = (trainer.step - startStep) / Math.max(1e-3, (Date.now() - t0) / 1000);
    progress.update(s.step, `loss ${s.loss.toFixed(4)} psnr ${s.psnr.toFixed(2)} n ${s.count} ${rate.toFixed(2)} it/s`);
    if (o.checkpointEvery > 0 && s.step % o.checkpointEvery === 0 && s.step < o.iterations) await writeCheckpoint(ws, trainer);
  });
  const seconds = (Date.now() - t0) / 1000;
  progress.finish(`n ${trainer.params.count}`);
  await writeCheckpoint(ws, trainer);
  await writeSceneOutputs(ws, trainer, model);
  const summary: TrainSummary = {
    steps: trainer.step,
    gaussians: trainer.params.count,
    seconds,
    stepsPerSecond: (trainer.step - startStep) / Math.max(1e-3, seconds),
    lastLoss,
    trainPsnr: recent.reduce((a, b) => a + b, 0) / Math.max(1, recent.length),
    backend: backend.name,
    tfBackend,
    maxSize: o.maxSize,
    ...(resumedFrom !== undefined ? { resumedFrom } : {}),
  };
  await writeJsonAtomic(path.join(ws.sceneDir, 'train.json'), { ...summary, options: o });
  return { trainer, summary, data };
}

/** splats.ply (+ .spz when the writer is available), photometric.json, refined cameras. */
export async function writeSceneOutputs(ws: Workspace, trainer: Trainer, model: SparseModel): Promise<void> {
  const sh = trainer.opts.maxShDegree;
  await writeGaussianPly(path.join(ws.sceneDir, 'splats.ply'), trainer.params, sh);
  await writeSpz(path.join(ws.sceneDir, 'splats.spz'), trainer.params, sh);
  if (trainer.photometric) await writeJsonAtomic(path.join(ws.sceneDir, 'photometric.json'), trainer.photometric.toJson());
  if (trainer.poses) {
    // focal refinement is a relative scale per camera, so it applies to the full-resolution model
    const cameras = new Map([...model.cameras].map(([id, cam]) => {
      const k = trainer.data.cameraIds.indexOf(id);
      const s = k >= 0 ? trainer.poses!.focalScale[k]! : 1;
      const names: readonly string[] = CAMERA_MODELS[cam.model].params;
      return [id, { ...cam, params: cam.params.map((v, i) => (['f', 'fx', 'fy'].includes(names[i] ?? '') ? v * s : v)) }];
    }));
    const refined: SparseModel = { cameras, points3D: model.points3D, images: new Map() };
    for (const [id, im] of model.images) {
      const v = trainer.data.views.find((x) => x.imageId === id);
      if (!v) { refined.images.set(id, im); continue; }
      const p = trainer.poses.pose(v.index);
      refined.images.set(id, { ...im, qvec: matToQuat(p.R), tvec: [p.t[0]!, p.t[1]!, p.t[2]!] });
    }
    await writeColmapModel(path.join(ws.sceneDir, 'sparse-refined'), refined);
  }
}

export { defaultTrainOptions };
