/**
 * `r2s train -w <ws>`: SfM (or imported) cameras and points → trained splat scene in ws/scene/.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse, num, requireWorkspace } from '../args.js';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';
import { Workspace } from '../../pipeline/workspace.js';
import { trainWorkspace, sparseDirOf, type RunTrainOptions } from '../../scene/run-train.js';
import { defaultTrainOptions } from '../../scene/trainer.js';
import type { BackendChoice } from '../../scene/backend.js';
import type { TfBackendChoice } from '../../scene/tf.js';

export const summary = 'train the Gaussian splat scene (3DGS optimisation, densification, photometric model, camera refinement)';
export const usage = `r2s train -w <workspace> [options]
  --iterations N        optimisation steps (default 30000; schedules scale with N)
  --max-size N          longest image side used for training (default 1600)
  --seed S              random seed (default 0)
  --resume              continue from the newest checkpoint in scene/checkpoints/
  --checkpoint-every N  steps between checkpoints (default iterations/10)
  --photometric / --no-photometric   ADOP exposure/WB/vignetting/response model
                        (default: on for real captures, off for synthetic ones)
  --refine-cameras      refine camera poses and per-camera focal lengths by Gauss-Newton passes
                        against the scene (writes scene/sparse-refined/)
  --no-refine-focal     with --refine-cameras: keep the focal lengths
  --camera-warmup F     with --refine-cameras: freeze Gaussian positions (and densification) for
                        this fraction of the run while the cameras align (default 0)
  --no-resident         keep parameters on the CPU between steps (default: GPU-resident whenever
                        the GPU rasterizer is used with the default strategy)
  --strategy S          default | mcmc (densification)
  --max-gaussians N     Gaussian budget (MCMC cap; growth cap for default)
  --sh-degree D         maximum SH degree (default 3)
  --no-densify          keep the initial Gaussians only
  --background R,G,B    background colour 0..1 (default 0,0,0)
  --backend B           rasterizer: auto | reference | gpu
  --tf-backend B        tfjs: auto | cpu | webgpu
  --force               retrain even when up to date
  --json                machine-readable result as the last line`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    workspace: { type: 'string', short: 'w' },
    iterations: { type: 'string' },
    'max-size': { type: 'string' },
    seed: { type: 'string' },
    resume: { type: 'boolean' },
    'checkpoint-every': { type: 'string' },
    photometric: { type: 'boolean' },
    'no-photometric': { type: 'boolean' },
    'refine-cameras': { type: 'boolean' },
    'no-refine-focal': { type: 'boolean' },
    'camera-warmup': { type: 'string' },
    'no-resident': { type: 'boolean' },
    strategy: { type: 'string' },
    'max-gaussians': { type: 'string' },
    'sh-degree': { type: 'string' },
    'no-densify': { type: 'boolean' },
    background: { type: 'string' },
    backend: { type: 'string' },
    'tf-backend': { type: 'string' },
    force: { type: 'boolean' },
  }, false);
  const ws = new Workspace(requireWorkspace(values.workspace));
  sparseDirOf(ws); // fail early, with the fix, when there is no model
  const iterations = num(values.iterations, 'iterations', 30_000);
  if (!Number.isInteger(iterations) || iterations < 1) throw new UserError('--iterations must be a positive integer');
  const strategy = values.strategy ?? 'default';
  if (strategy !== 'default' && strategy !== 'mcmc') throw new UserError(`--strategy must be default or mcmc, got '${strategy}'`);
  const maxGaussians = num(values['max-gaussians'], 'max-gaussians', strategy === 'mcmc' ? 1_000_000 : 0);
  const synthetic = existsSync(path.join(ws.root, 'synthetic-truth.json'));
  const photometric = values['no-photometric'] ? false : values.photometric ? true : !synthetic;
  const bg = (values.background ?? '0,0,0').split(',').map(Number);
  if (bg.length !== 3 || bg.some((x) => !(x >= 0 && x <= 1))) throw new UserError('--background must be R,G,B with values in 0..1');
  const backend = (values.backend ?? 'auto') as BackendChoice;
  if (!['auto', 'reference', 'gpu'].includes(backend)) throw new UserError('--backend must be auto, reference or gpu');
  const tfBackend = (values['tf-backend'] ?? 'auto') as TfBackendChoice;
  if (!['auto', 'cpu', 'webgpu'].includes(tfBackend)) throw new UserError('--tf-backend must be auto, cpu or webgpu');
  const shDegree = num(values['sh-degree'], 'sh-degree', 3);
  const cameraWarmup = num(values['camera-warmup'], 'camera-warmup', 0);
  if (!(cameraWarmup >= 0 && cameraWarmup < 1)) throw new UserError('--camera-warmup must be a fraction in [0, 1)');
  if (![0, 1, 2, 3].includes(shDegree)) throw new UserError('--sh-degree must be 0..3');
  const o: RunTrainOptions = {
    ...defaultTrainOptions,
    iterations,
    seed: num(values.seed, 'seed', 0),
    maxShDegree: shDegree,
    photometric,
    refineCameras: Boolean(values['refine-cameras']),
    refineFocal: !values['no-refine-focal'],
    cameraWarmup,
    resident: !values['no-resident'],
    strategy,
    maxGaussians,
    densify: !values['no-densify'],
    background: bg as [number, number, number],
    maxSize: num(values['max-size'], 'max-size', 1600),
    checkpointEvery: num(values['checkpoint-every'], 'checkpoint-every', Math.max(100, Math.round(iterations / 10))),
    resume: Boolean(values.resume),
    backend,
    tfBackend,
  };
  // Options that decide the result (not how we get there) make the stage record.
  const { resume: _r, checkpointEvery: _c, backend: _b, tfBackend: _t, silent: _s, resident: _g, lossEvery: _l, ...recorded } = o;
  const res = await ws.runStage('train', {
    inputs: [path.relative(ws.root, sparseDirOf(ws)) || '.', 'images'],
    options: recorded as unknown as Record<string, unknown>,
    outputs: ['scene/splats.ply'],
    seed: o.seed,
    force: Boolean(values.force) || o.resume,
  }, async () => {
    const { summary: s } = await trainWorkspace(ws, o);
    return { summary: s as unknown as Record<string, unknown> };
  });
  const s = res.record.summary ?? {};
  if (values.json) result({ ok: true, skipped: res.skipped, ...s });
  else if (!res.skipped) info(`train: ${String(s.steps)} steps, ${String(s.gaussians)} Gaussians, ${Number(s.seconds).toFixed(1)} s → ${ws.sceneDir}/splats.ply`);
  return 0;
}
