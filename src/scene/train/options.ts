/** Training options (one comment and a default per field) and what each step reports. */
import { LAMBDA_DSSIM } from './losses.js';
import { defaultLearningRates, type LearningRates } from './schedule.js';
import { defaultCameraRefineOptions, type CameraRefineOptions } from './camera-refine.js';
import type { Densified } from './strategy.js';

export interface TrainOptions {
  /** total steps; every step schedule scales with it (schedule.ts). 30 000 */
  iterations: number;
  /** seeds view order, random init, densification and MCMC noise. 0 */
  seed: number;
  /** highest SH degree, raised on schedule. 3 */
  maxShDegree: number;
  /** learn the ADOP photometric model (exposure, white balance, vignetting, response). false */
  photometric: boolean;
  /** Gauss-Newton camera passes during training. false */
  refineCameras: boolean;
  /** densification strategy (train/strategy-*.ts). 'default' */
  strategy: 'default' | 'mcmc';
  /** Gaussian budget (MCMC cap; for the default strategy a hard cap on growth). 0 = none */
  maxGaussians: number;
  /** run the strategy's densification at all. true */
  densify: boolean;
  /** render background. black */
  background: [number, number, number];
  /** loss = (1 − λ)·L1 + λ·D-SSIM. 0.2 */
  lambdaDssim: number;
  /** per-group learning rates (the 3DGS ones) */
  lrs: LearningRates;
  /** Gaussians to start with when the data has no points. 10 000 */
  randomInitCount: number;
  /** Mip-Splatting-style antialiased opacity compensation. false */
  antialiased: boolean;
  /** with refineCameras: also refine each camera's focal length (one scale per camera). true */
  refineFocal: boolean;
  /** with refineCameras: steps between Gauss-Newton camera passes (0 = iterations/60, ≥ 100) */
  cameraRefineEvery: number;
  /** with refineCameras: first pass at this step (0 = 2 × the interval) */
  cameraRefineStart: number;
  /** with refineCameras: Gaussian positions stay frozen (and densification waits) for this fraction
   *  of the run, so the cameras align to the initial geometry before the scene can bend to them. 0 */
  cameraWarmup: number;
  /** Gauss-Newton pass settings (camera-refine.ts) */
  camera: CameraRefineOptions;
  /** keep parameters, Adam state, the photometric model and the loss on the GPU between
   *  densification steps (GPU backend, a resident-capable strategy); false = the CPU-array path. true */
  resident: boolean;
  /** resident path: read the loss back every this many steps (StepInfo holds the latest). 10 */
  lossEvery: number;
  /**
   * resident path: every this many steps, one step is also computed on the CPU-array path from
   * the same state and compared stage by stage (train/lockstep.ts); a disagreement hands training
   * to the CPU-array path with one line naming the stage. 0 = never. 1000
   */
  residentCheckEvery: number;
}

export const defaultTrainOptions: TrainOptions = {
  iterations: 30_000,
  seed: 0,
  maxShDegree: 3,
  photometric: false,
  refineCameras: false,
  strategy: 'default',
  maxGaussians: 0,
  densify: true,
  background: [0, 0, 0],
  lambdaDssim: LAMBDA_DSSIM,
  lrs: defaultLearningRates,
  randomInitCount: 10_000,
  antialiased: false,
  refineFocal: true,
  cameraRefineEvery: 0,
  cameraRefineStart: 0,
  cameraWarmup: 0,
  camera: defaultCameraRefineOptions,
  resident: true,
  lossEvery: 10,
  residentCheckEvery: 1000,
};

/**
 * Options that only choose how a result is computed, not which result: left out of a run's
 * identity (a checkpoint of the resident path restores the CPU path exactly, and vice versa).
 */
export const HOW_NOT_WHAT: readonly (keyof TrainOptions)[] = ['resident', 'lossEvery', 'residentCheckEvery'];

export interface StepInfo {
  step: number;
  loss: number;
  psnr: number;
  count: number;
  view: string;
  densified?: Densified;
}
