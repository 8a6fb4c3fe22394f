/**
 * Camera refinement during training: the refined cameras (CameraRefiner), when Gauss-Newton
 * passes are due (cameraSchedule), and one pass over the training views against the current
 * scene (cameraPass; the per-view normal equations and the joint solve are camera-refine.ts).
 */
import type { RasterCamera } from '../../core/raster.js';
import type { TrainData, TrainView } from '../dataset.js';
import { viewNormalEquations, solveCameraSteps, perturbPose, type CameraRefineOptions } from './camera-refine.js';

/**
 * The cameras being refined: per-view world-to-camera poses and a per-camera focal scale. Updated
 * by Gauss-Newton passes; plain arrays, so checkpoints restore them exactly.
 */
export class CameraRefiner {
  R: Float64Array;
  t: Float64Array;
  /** per camera: fx, fy multiplier */
  focalScale: Float64Array;
  constructor(views: TrainView[], cameraCount: number) {
    this.R = new Float64Array(views.length * 9);
    this.t = new Float64Array(views.length * 3);
    this.focalScale = new Float64Array(cameraCount).fill(1);
    views.forEach((v, i) => { this.R.set(v.R, i * 9); this.t.set(v.t, i * 3); });
  }

  pose(i: number): { R: number[]; t: number[] } {
    return { R: Array.from(this.R.subarray(i * 9, i * 9 + 9)), t: Array.from(this.t.subarray(i * 3, i * 3 + 3)) };
  }

  /** Left-multiplied update T ← exp([ω, v]^)·T. */
  applyPoseStep(i: number, delta: ArrayLike<number>): void {
    const { R, t } = this.pose(i);
    const p = perturbPose(R, t, delta);
    this.R.set(p.R, i * 9);
    this.t.set(p.t, i * 3);
  }
}

export interface CameraScheduleOptions {
  iterations: number;
  refineCameras: boolean;
  cameraRefineEvery: number;
  cameraRefineStart: number;
  cameraWarmup: number;
}

export interface CameraSchedule {
  /** steps between passes */
  every: number;
  /** first pass after this many steps */
  start: number;
  /** no pass after this step */
  until: number;
  /** Gaussian positions frozen (and densification waiting) before this step */
  warmupUntil: number;
}

/** Steps between camera passes and the first pass, resolved from the options. */
export function cameraSchedule(o: CameraScheduleOptions): CameraSchedule {
  // Passes need the scene to re-fit between them (each view seen a few times): measured on the
  // synthetic pose bench, passes every 100 steps contracted the error ~7 % per pass, every 20
  // steps not at all (the scene still remembered the old cameras).
  const every = o.cameraRefineEvery > 0 ? o.cameraRefineEvery : Math.max(100, Math.round(o.iterations / 60));
  const start = o.cameraRefineStart > 0 ? o.cameraRefineStart : 2 * every;
  // the last tenth of the run lets the scene settle on the final cameras
  return { every, start, until: Math.floor(0.9 * o.iterations), warmupUntil: o.refineCameras ? Math.floor(o.cameraWarmup * o.iterations) : 0 };
}

export function cameraPassDue(step: number, s: CameraSchedule): boolean {
  return step >= s.start && step <= s.until && (step - s.start) % s.every === 0;
}

/** What a pass needs from the trainer. */
export interface CameraPassHost {
  readonly data: TrainData;
  readonly trainViews: number[];
  readonly poses: CameraRefiner;
  /** the view's camera with the current refined pose and focal */
  camera(viewIndex: number): RasterCamera;
  /** the trainer's prediction of a view through a (perturbed) camera */
  predict(viewIndex: number, cam: RasterCamera): Promise<Float32Array>;
}

/**
 * Gauss-Newton camera pass(es) over the training views against the current scene: every view's
 * pose, and each camera's focal scale when `refineFocal` is on. The first training view holds the
 * gauge (its pose stays; it still informs the focal). Returns the summed robust cost before.
 */
export async function cameraPass(h: CameraPassHost, o: CameraRefineOptions, refineFocal: boolean): Promise<number> {
  const poses = h.poses;
  let firstCost = 0;
  for (let it = 0; it < Math.max(1, o.iterationsPerPass); it++) {
    const systems = [];
    for (const vi of h.trainViews) {
      const cam = h.camera(vi);
      const view = h.data.views[vi]!;
      const c = h.data.center;
      const depth = Math.max(1e-6, Math.abs(cam.R[6]! * c[0]! + cam.R[7]! * c[1]! + cam.R[8]! * c[2]! + cam.t[2]!));
      systems.push(await viewNormalEquations((k) => h.predict(vi, k), cam, view.target, depth, o));
    }
    const cameraCount = poses.focalScale.length;
    const steps = solveCameraSteps(
      systems,
      h.trainViews.map((vi) => h.data.views[vi]!.camIdx),
      cameraCount,
      h.trainViews.map((_, k) => k === 0),
      refineFocal,
      o,
    );
    h.trainViews.forEach((vi, k) => poses.applyPoseStep(vi, steps.pose[k]!));
    for (let c = 0; c < cameraCount; c++) poses.focalScale[c]! *= 1 + steps.focal[c]!;
    if (it === 0) firstCost = systems.reduce((a, s) => a + s.cost, 0);
  }
  return firstCost;
}
