/**
 * Train a scene end to end from plain inputs — a sparse model, the images (a directory or a
 * loader), an output directory, a checkpoint directory — with checkpoints, resume, progress and
 * cancellation; writes splats.ply (+ .spz), photometric.json, refined cameras and train.json.
 * Knows nothing of workspaces: the train stage (src/stages/train.ts) maps a workspace onto these.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { writeColmapModel } from '../io/colmap.js';
import { writeGaussianPly } from '../io/ply.js';
import { writeSpz } from '../io/spz.js';
import { CAMERA_MODELS } from '../core/camera.js';
import { type SparseModel } from '../core/sparse-model.js';
import { matToQuat } from '../geometry/rotation.js';
import { UserError } from '../util/errors.js';
import { writeJsonAtomic } from '../util/fsx.js';
import { info, warn } from '../util/log.js';
import { Progress } from '../util/progress.js';
import { buildTrainData, type LoadedImage, type TrainData } from './dataset.js';
import { loadRgb, trainingSize } from './image-io.js';
import { Trainer, defaultTrainOptions, type StepInfo, type TrainOptions } from './trainer.js';
import { createBackend } from './backend-factory.js';
import type { BackendChoice } from './backend.js';
import { initTf, type TfBackendChoice } from './tf.js';
import { runIdentity } from './train/run-identity.js';
import { CheckpointWriter, findResumePoint } from './train/checkpoint-files.js';
import { findNonFinite } from './train/finite.js';

export interface RunTrainOptions extends TrainOptions {
  /** longest image side to train at (pixels) */
  maxSize: number;
  /** write a checkpoint every this many steps (0 = only at the end) */
  checkpointEvery: number;
  /** continue this run from its newest checkpoint, if it has one */
  resume: boolean;
  backend: BackendChoice;
  tfBackend: TfBackendChoice;
  /** no progress bar */
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
  /** the run's identity (checkpoints carry it) */
  run: string;
}

/** An image's pixels at a training size. */
export type ImageLoader = (name: string, size: { width: number; height: number }) => Promise<LoadedImage>;

export interface TrainSceneInputs {
  /** the sparse model: cameras, posed images, points (initial Gaussians) */
  model: SparseModel;
  /** the images directory (files named as in the model), or a loader */
  images: string | ImageLoader;
  /** output directory: splats.ply, splats.spz, photometric.json, sparse-refined/, train.json */
  sceneDir: string;
  /** checkpoint directory (default: sceneDir/checkpoints) */
  checkpointDir?: string;
}

export interface TrainHooks {
  /** progress display (default: a Progress bar labelled 'train', silent with `silent`) */
  progress?: { update(done: number, extra?: string): void; finish(extra?: string): void };
  /** after every step, with the step's figures */
  onStep?: (s: StepInfo, total: number) => void;
  /** stop between steps (already-written checkpoints stay; nothing else is written) */
  signal?: AbortSignal;
}

/** Training views of a model, loaded at most `maxSize` pixels on the long side. */
export async function loadTrainData(model: SparseModel, images: string | ImageLoader, maxSize: number): Promise<TrainData> {
  if (model.images.size === 0) throw new UserError('the sparse model has no images', { fix: 're-run sfm' });
  const load: ImageLoader = typeof images === 'string' ? (name, s) => loadRgb(path.join(images, name), s.width, s.height) : images;
  return buildTrainData(model, (name, cam) => load(name, trainingSize(cam.width, cam.height, maxSize)));
}

export const defaultCheckpointDir = (sceneDir: string) => path.join(sceneDir, 'checkpoints');

function assertFinite(trainer: Trainer, checkpointDir: string): void {
  const bad = findNonFinite(trainer.params);
  if (!bad) return;
  throw new UserError(
    `training diverged at step ${trainer.step}: ${bad.count} of ${trainer.params.count} Gaussians have NaN/Inf parameters (first: #${bad.first}, ${bad.group})`,
    { fix: `lower the learning rates, or --resume from the last good checkpoint in ${checkpointDir}` },
  );
}

export async function trainScene(inputs: TrainSceneInputs, o: RunTrainOptions, hooks: TrainHooks = {}): Promise<{ trainer: Trainer; summary: TrainSummary; data: TrainData }> {
  const ckDir = inputs.checkpointDir ?? defaultCheckpointDir(inputs.sceneDir);
  const tfBackend = await initTf(o.tfBackend);
  const backend = await createBackend(o.backend);
  const data = await loadTrainData(inputs.model, inputs.images, o.maxSize);
  const trainer = new Trainer(data, backend, o);
  trainer.identity = runIdentity(data, o);
  const writer = new CheckpointWriter(ckDir, trainer.identity);
  let resumedFrom: number | undefined;
  if (o.resume) {
    const at = findResumePoint(ckDir, trainer.identity);
    // Another run's checkpoint is not an error: --resume asks to continue this run if it can, and
    // automated re-runs (batch, reconstruct after a crash) pass it routinely; the other run's
    // files stay until this run has written a checkpoint of its own.
    if (at.kind === 'none') warn(`--resume: no checkpoint in ${ckDir}; starting from scratch`);
    else if (at.kind === 'other') warn(`--resume: checkpoint ${at.file} belongs to another run (${at.why}); starting from scratch`);
    else {
      try {
        trainer.restore(new Uint8Array(readFileSync(at.file)));
      } catch (e) {
        throw new UserError(`${at.file}: cannot resume (${(e as Error).message})`, { file: at.file, fix: 'train without --resume' });
      }
      writer.adopt(at.file);
      resumedFrom = trainer.step;
      info(`train: resumed at step ${trainer.step} from ${at.file}`);
    }
  }
  const checkpoint = async () => {
    await trainer.sync();
    assertFinite(trainer, ckDir);
    await writer.write(trainer.step, trainer.serialize());
  };
  const progress = hooks.progress ?? new Progress('train', o.iterations, { silent: o.silent });
  const t0 = Date.now();
  const startStep = trainer.step;
  const recent: number[] = [];
  let lastLoss = NaN;
  hooks.signal?.throwIfAborted();
  try {
    await trainer.train(o.iterations, async (s) => {
      lastLoss = s.loss;
      recent.push(s.psnr);
      if (recent.length > 100) recent.shift();
      const rate = (trainer.step - startStep) / Math.max(1e-3, (Date.now() - t0) / 1000);
      progress.update(s.step, `loss ${s.loss.toFixed(4)} psnr ${s.psnr.toFixed(2)} n ${s.count} ${rate.toFixed(2)} it/s`);
      hooks.onStep?.(s, o.iterations);
      if (o.checkpointEvery > 0 && s.step % o.checkpointEvery === 0 && s.step < o.iterations) await checkpoint();
      hooks.signal?.throwIfAborted();
    });
  } catch (e) {
    trainer.dispose(); // GPU buffers of the resident path (a batch worker lives on)
    throw e;
  }
  const seconds = (Date.now() - t0) / 1000;
  progress.finish(`n ${trainer.params.count}`);
  await checkpoint();
  await writeSceneOutputs(inputs.sceneDir, trainer, inputs.model);
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
    run: trainer.identity.id,
  };
  await writeJsonAtomic(path.join(inputs.sceneDir, 'train.json'), { ...summary, options: o });
  return { trainer, summary, data };
}

/** splats.ply and splats.spz, photometric.json, refined cameras (sparse-refined/) into sceneDir. */
export async function writeSceneOutputs(sceneDir: string, trainer: Trainer, model: SparseModel): Promise<void> {
  assertFinite(trainer, defaultCheckpointDir(sceneDir));
  const sh = trainer.opts.maxShDegree;
  await writeGaussianPly(path.join(sceneDir, 'splats.ply'), trainer.params, sh);
  await writeSpz(path.join(sceneDir, 'splats.spz'), trainer.params, sh);
  if (trainer.photometric) await writeJsonAtomic(path.join(sceneDir, 'photometric.json'), trainer.photometric.toJson());
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
    await writeColmapModel(path.join(sceneDir, 'sparse-refined'), refined);
  }
}

export { defaultTrainOptions };
