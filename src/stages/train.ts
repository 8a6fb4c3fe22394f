/**
 * The `train` stage: sparse/ (from sfm, import or synth) + images/ → scene/ (splats.ply, .spz,
 * photometric.json, train.json, sparse-refined/, checkpoints/). Defaults come from the trainer's
 * `defaultTrainOptions`.
 */
import { z } from 'zod';
import { bool, choice, defineStage, int, num, rgb, type StageOptions } from '../pipeline/stage.js';
import type { Workspace } from '../pipeline/workspace.js';
import { readColmapModel } from '../io/colmap.js';
import { trainScene, type RunTrainOptions, type TrainSummary } from '../scene/run-train.js';
import { defaultTrainOptions as d } from '../scene/trainer.js';

/** Longest image side used for training (and, unless told otherwise, for eval). */
export const DEFAULT_TRAIN_MAX_SIZE = 1600;

const options = z.object({
  iterations: int('optimisation steps (schedules scale with N)', { min: 1, max: 10_000_000, default: d.iterations }),
  maxSize: int('longest image side used for training', { min: 16, max: 65536, default: DEFAULT_TRAIN_MAX_SIZE }),
  seed: int('random seed', { min: 0, max: 2 ** 32 - 1, default: d.seed, placeholder: 'S' }),
  resume: bool('continue from the newest checkpoint in scene/checkpoints/', { volatile: true }),
  checkpointEvery: int('steps between checkpoints (0: only at the end)', { min: 0, max: 10_000_000, volatile: true, defaultText: 'iterations/10, at least 100' }),
  photometric: bool('ADOP exposure/WB/vignetting/response model', { negate: 'both', defaultText: 'on for real captures, off for synthetic ones' }),
  refineCameras: bool('refine camera poses and per-camera focal lengths by Gauss-Newton passes against the scene (writes scene/sparse-refined/)', { default: d.refineCameras }),
  refineFocal: bool('with --refine-cameras: refine the focal lengths too', { negate: 'only', default: d.refineFocal }),
  cameraWarmup: num('with --refine-cameras: freeze Gaussian positions (and densification) for this fraction of the run while the cameras align', {
    min: 0, max: 1, exclusiveMax: true, default: d.cameraWarmup, placeholder: 'F',
  }),
  resident: bool('keep parameters on the GPU between steps whenever the GPU rasterizer is used with the default strategy', { negate: 'only', default: d.resident, volatile: true }),
  strategy: choice(['default', 'mcmc'], 'densification strategy', { default: d.strategy }),
  maxGaussians: int('Gaussian budget (MCMC cap; growth cap for default; 0 = none)', { min: 0, max: 1_000_000_000, defaultText: '1000000 with mcmc, else 0' }),
  maxShDegree: int('maximum SH degree', { min: 0, max: 3, default: d.maxShDegree, flag: 'sh-degree', placeholder: 'D' }),
  densify: bool('densify (split, clone, prune); --no-densify keeps the initial Gaussians only', { negate: 'only', default: d.densify }),
  background: rgb('background colour, each 0..1', { default: d.background }),
  backend: choice(['auto', 'reference', 'gpu'], 'rasterizer', { default: 'auto', volatile: true }),
  tfBackend: choice(['auto', 'cpu', 'webgpu'], 'tfjs backend', { default: 'auto', volatile: true }),
});

export type TrainStageOptions = z.infer<typeof options>;

/** The trainer's options: defaults from `defaultTrainOptions`, the computed ones resolved. */
export function resolveTrainOptions(ws: Workspace, o: TrainStageOptions): RunTrainOptions {
  return {
    ...d,
    iterations: o.iterations,
    seed: o.seed,
    maxShDegree: o.maxShDegree,
    photometric: o.photometric ?? !ws.isSynthetic(),
    refineCameras: o.refineCameras,
    refineFocal: o.refineFocal,
    cameraWarmup: o.cameraWarmup,
    resident: o.resident,
    strategy: o.strategy,
    maxGaussians: o.maxGaussians ?? (o.strategy === 'mcmc' ? 1_000_000 : 0),
    densify: o.densify,
    background: o.background,
    maxSize: o.maxSize,
    checkpointEvery: o.checkpointEvery ?? Math.max(100, Math.round(o.iterations / 10)),
    resume: Boolean(o.resume),
    backend: o.backend,
    tfBackend: o.tfBackend,
  };
}

export const trainStage = defineStage({
  name: 'train',
  summary: 'train the Gaussian splat scene (3DGS optimisation, densification, photometric model, camera refinement)',
  reads: ['sparse/', 'images/'],
  writes: ['scene/'],
  after: ['sfm', 'import', 'synth'],
  options,
  plan(ws, o) {
    const r = resolveTrainOptions(ws, o);
    // Options that decide the result (not how we get there) make the stage record.
    const { resume: _r, checkpointEvery: _c, backend: _b, tfBackend: _t, silent: _s, resident: _g, lossEvery: _l, ...recorded } = r;
    return {
      inputs: [ws.relative(ws.sparseModelDir()), 'images'],
      options: recorded as unknown as Record<string, unknown>,
      outputs: ['scene/splats.ply'],
      seed: r.seed,
      force: r.resume,
    };
  },
  async run(ws, o, ctx): Promise<TrainSummary> {
    // The seam to the trainer: plain inputs from the workspace's layout.
    const model = await readColmapModel(ws.sparseModelDir());
    const { summary } = await trainScene({ model, images: ws.imagesDir, sceneDir: ws.sceneDir }, { ...resolveTrainOptions(ws, o), silent: ctx.silent }, { signal: ctx.signal });
    return summary;
  },
  optionsFromRecord(rec) {
    const keys = new Set(Object.keys(options.shape));
    const picked = Object.fromEntries(Object.entries(rec.options).filter(([k]) => keys.has(k)));
    return { ...picked, seed: rec.seed };
  },
});

export type { StageOptions };
