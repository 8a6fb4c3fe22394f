/**
 * GPU-resident training state: Gaussian parameters, Adam moments, densification statistics and
 * the training targets live in GPU buffers, and one training step is
 *   forward (src/gpu/raster) → loss + ∂loss/∂rgb (src/gpu/loss) → backward → Adam per group
 *   (src/gpu/optim/adam.ts) → grad-stat accumulation (src/gpu/optim/accumulate.ts)
 * with no CPU round trip: the only read-back is the rasterizer's instance count (it sizes the
 * tile sort). The loss is read only when asked (loss()), and everything is copied back with
 * download() before the CPU needs the arrays (densification, checkpoints, export); after the CPU
 * reshapes them, replace() uploads them again (keeping pipelines and cached targets).
 *
 * The maths is the CPU-array path's (rasterize → photoLossAndGrad → backwardArrays → Adam.step →
 * GradStats.add); test/gpu-resident.test.ts checks several steps of both agree. Not covered here:
 * the MCMC regularisers, which the trainer applies on the CPU arrays.
 *
 * The ADOP photometric model (src/gpu/photometric/apply.ts) is optional: give create() (or
 * setPhotometric()) a PhotometricModel and pass `photometric` in step()'s options; the step is then
 *   forward → photometric forward → loss → photometric backward (∂L/∂rgb + its 23 parameter
 *   gradients) → backward → Adam per group + photometric Adam (regulariser, anchor, lr scale),
 * still without a CPU round trip (its parameters and moments live on the GPU too);
 * test/gpu-photometric.test.ts compares it with the trainer's tfjs path.
 */
import type { GpuRasterizer, GaussianBuffers, GpuForwardResult, GpuGradients } from '../../gpu/raster/rasterizer.js';
import { COPY_DST, COPY_SRC, STORAGE, readF32, upload } from '../../gpu/buffers.js';
import { inErrorScopes } from '../../gpu/pass-errors.js';
import { GpuImageLoss } from '../../gpu/loss/image-loss.js';
import { AdamGroupUniform, GpuAdam } from '../../gpu/optim/adam.js';
import { GpuGradStats } from '../../gpu/optim/accumulate.js';
import type { Adam } from './adam.js';
import type { AdamState } from '../../core/optim.js';
import type { GradStats } from './densify.js';
import type { GaussianParams } from '../../core/gaussians.js';
import type { RasterCamera, RasterOptions } from '../../core/raster.js';
import { GpuPhotometric, applySnapshot, type PhotometricSnapshot } from '../../gpu/photometric/apply.js';
import type { PhotometricModel } from '../photometric.js';

import { PARAM_GROUPS, PARAM_ROW, type ParamGroup } from './param-groups.js';

// the parameter-group table lives in train/param-groups.ts; re-exported for this module's users
export { PARAM_GROUPS, PARAM_ROW, type ParamGroup };

export interface ResidentSnapshot {
  params: GaussianParams;
  adam: Record<ParamGroup, AdamState>;
  stats: { sum: Float32Array; count: Float32Array };
  /** the photometric model's state, when the resident state has one */
  photometric?: PhotometricSnapshot;
}

/** step() with the photometric model: which rows it uses and how they are stepped. */
export interface ResidentPhotometricStep {
  /** PhotometricModel image index (the trainer's view index) */
  image: number;
  /** PhotometricModel camera index (TrainView.camIdx) */
  camera: number;
  /** multiplier on the initial photometric rates: expLr(step, 1, 0.01, iterations) */
  lrScale: number;
  /** step this image's EV/WB (never for the reference image); default true */
  perImage?: boolean;
  /** step this camera's vignetting/response; default true */
  perCamera?: boolean;
  /** principal point for r² (default: the camera's cx, cy, which radius2(view.cx, view.cy) uses) */
  cx?: number;
  cy?: number;
}

export interface ResidentStepOptions {
  /** add this view's screen-space gradient norms to the densification statistics (default true) */
  accumulateStats?: boolean;
  /**
   * wrap each of the step's passes (forward, loss, backward, update) in WebGPU error scopes and
   * throw a GpuPassError naming the first pass that raised one (checks and tests; costs a wait)
   */
  errorScopes?: boolean;
  /** apply (and train) the photometric model between forward and loss; needs create(…, model) or setPhotometric() */
  photometric?: ResidentPhotometricStep;
}

interface GroupState {
  m: GPUBuffer;
  v: GPUBuffer;
  u: AdamGroupUniform;
  t: number;
  beta1: number;
  beta2: number;
  eps: number;
}

const f32 = 4;
const USAGE = STORAGE | COPY_SRC | COPY_DST;


export class GpuResidentTrainState {
  /** the parameters, in the rasterizer's GaussianBuffers layout */
  scene!: GaussianBuffers;
  private groups!: Record<ParamGroup, GroupState>;
  private statSum!: GPUBuffer;
  private statCount!: GPUBuffer;
  private readonly targets = new Map<string | number, { buf: GPUBuffer; length: number }>();
  private dRgb: GPUBuffer | null = null;
  /** photometric output and ∂loss/∂(photometric output) (photometric steps only) */
  private phOut: GPUBuffer | null = null;
  private dPred: GPUBuffer | null = null;
  /** the photometric model's parameters, moments and kernels (null without one) */
  photometric: GpuPhotometric | null = null;
  private stepped = false;
  /** Gaussians that survived culling in the last step (from the forward's read-back) */
  lastVisible = 0;
  /**
   * The last step's forward result and gradients (the rasterizer's buffers, valid until its next
   * forward/backward), for read-only checks of each stage (bench/device/resident-check.ts).
   */
  lastForward: GpuForwardResult | null = null;
  lastGradients: GpuGradients | null = null;
  /** the last step's image size (pixels) and whether its loss saw the photometric output */
  private lastPixels = 0;
  private lastPhotometric = false;

  private constructor(
    readonly raster: GpuRasterizer,
    private readonly lossK: GpuImageLoss,
    private readonly adamK: GpuAdam,
    private readonly statsK: GpuGradStats,
  ) {}

  get device(): GPUDevice {
    return this.raster.device;
  }

  get count(): number {
    return this.scene.count;
  }

  /**
   * Upload the parameters, the Adam state (m, v, t, β, ε, colScale of each group) and the
   * statistics. The CPU objects are not kept; later changes to them need replace().
   */
  static async create(raster: GpuRasterizer, params: GaussianParams, adam: Record<ParamGroup, Adam>, stats: GradStats, photometric?: PhotometricModel | null): Promise<GpuResidentTrainState> {
    const d = raster.device;
    const [lossK, adamK, statsK] = await Promise.all([GpuImageLoss.create(d), GpuAdam.create(d), GpuGradStats.create(d)]);
    const s = new GpuResidentTrainState(raster, lossK, adamK, statsK);
    s.replace(params, adam, stats);
    if (photometric) await s.setPhotometric(photometric);
    return s;
  }

  /**
   * Upload (or re-upload, e.g. after a checkpoint restore) the photometric model's parameters,
   * Adam moments and step counts; null drops it. Later CPU changes to the model need this again.
   */
  async setPhotometric(model: PhotometricModel | null): Promise<void> {
    if (!model) {
      this.photometric?.destroy();
      this.photometric = null;
      return;
    }
    if (this.photometric) this.photometric.load(model);
    else this.photometric = await GpuPhotometric.create(this.device, model);
  }

  /**
   * Re-upload everything (e.g. after densification changed the count); targets stay cached. The
   * photometric state is independent of the Gaussians and stays on the GPU as it is, unless a
   * model is passed (then it is re-uploaded from it, as after a checkpoint restore; it must have
   * been set by create()/setPhotometric() before).
   */
  replace(params: GaussianParams, adam: Record<ParamGroup, Adam>, stats: GradStats, photometric?: PhotometricModel): void {
    if (photometric && !this.photometric) throw new Error('GpuResidentTrainState.replace: no photometric state (use setPhotometric() first)');
    const n = params.count;
    for (const k of PARAM_GROUPS) {
      const want = n * PARAM_ROW[k];
      if (params[k].length < want) throw new Error(`GaussianParams.${k} has ${params[k].length} values, expected ${want}`);
      if (adam[k].rowSize !== PARAM_ROW[k]) throw new Error(`Adam '${k}' has rowSize ${adam[k].rowSize}, expected ${PARAM_ROW[k]}`);
      if (adam[k].m.length < want || adam[k].v.length < want) throw new Error(`Adam '${k}' moments hold ${adam[k].m.length} values, expected ${want}`);
    }
    if (stats.sum.length < n || stats.count.length < n) throw new Error(`GradStats holds ${stats.sum.length} Gaussians, expected ${n}`);
    this.releaseState();
    const d = this.device;
    const make = (label: string, data: Float32Array, len: number) => {
      const b = d.createBuffer({ label, size: Math.max(16, len * f32), usage: USAGE });
      if (len > 0) upload(d, b, data.subarray(0, len));
      return b;
    };
    this.scene = {
      count: n,
      means: make('res-means', params.means, n * 3),
      logScales: make('res-logscales', params.logScales, n * 3),
      quats: make('res-quats', params.quats, n * 4),
      opacityLogits: make('res-opacity', params.opacityLogits, n),
      sh: make('res-sh', params.sh, n * PARAM_ROW.sh),
    };
    const groups = {} as Record<ParamGroup, GroupState>;
    for (const k of PARAM_GROUPS) {
      const a = adam[k], len = n * PARAM_ROW[k];
      groups[k] = {
        m: make(`res-m-${k}`, a.m, len),
        v: make(`res-v-${k}`, a.v, len),
        u: new AdamGroupUniform(d, PARAM_ROW[k], a.colScale),
        t: a.t,
        beta1: a.beta1,
        beta2: a.beta2,
        eps: a.eps,
      };
    }
    this.groups = groups;
    this.statSum = make('res-stat-sum', stats.sum, n);
    this.statCount = make('res-stat-count', stats.count, n);
    this.stepped = false;
    if (photometric) this.photometric!.load(photometric);
  }

  /** The target image of a view as a GPU buffer, uploaded on first use. */
  private target(key: string | number, data: Float32Array, length: number): GPUBuffer {
    const cur = this.targets.get(key);
    if (cur && cur.length === length) return cur.buf;
    cur?.buf.destroy();
    const buf = this.device.createBuffer({ label: `res-target-${key}`, size: length * f32, usage: STORAGE | COPY_DST });
    upload(this.device, buf, data.subarray(0, length));
    this.targets.set(key, { buf, length });
    return buf;
  }

  /**
   * One training step on view `viewKey` (its target H×W×3 is uploaded once and cached under that
   * key). `lrs` are this step's learning rates per group (before the SH column scale). Resolves
   * once all work is submitted; nothing is read back but the rasterizer's instance count.
   */
  async step(viewKey: string | number, target: Float32Array, cam: RasterCamera, rasterOpts: RasterOptions, lrs: Record<ParamGroup, number>, lambdaDssim = 0.2, opts: ResidentStepOptions = {}): Promise<void> {
    const d = this.device;
    const W = cam.width, H = cam.height, P = W * H;
    if (target.length < P * 3) throw new Error(`target has ${target.length} values, expected ${P * 3} for ${W}×${H}`);
    const tgt = this.target(viewKey, target, P * 3);
    const ph = opts.photometric;
    if (ph && !this.photometric) throw new Error('GpuResidentTrainState.step: photometric options given but no photometric model (create(…, model) or setPhotometric())');
    const scopes = opts.errorScopes ?? false;
    // R2S_RESIDENT_SERIALIZE=1: wait for the queue between the passes (an experiment that rules
    // the ordering of back-to-back submits in or out on a driver; bench/device/kit.sh)
    const serialize = process.env.R2S_RESIDENT_SERIALIZE === '1';
    const settle = serialize ? () => d.queue.onSubmittedWorkDone() : () => undefined;
    const fwd = await inErrorScopes(d, 'forward', scopes, () => this.raster.forward(this.scene, cam, { ...rasterOpts, tileSize: 16 }));
    await settle();
    this.lastVisible = fwd.visible;
    this.lastForward = fwd;
    this.lastPixels = P;
    this.lastPhotometric = !!ph;
    const grow = (b: GPUBuffer | null, label: string) => {
      if (b && b.size >= P * 3 * f32) return b;
      b?.destroy();
      return d.createBuffer({ label, size: P * 3 * f32, usage: USAGE });
    };
    this.dRgb = grow(this.dRgb, 'res-drgb');
    const phView = ph ? { image: ph.image, camera: ph.camera, width: W, height: H, cx: ph.cx ?? cam.cx, cy: ph.cy ?? cam.cy } : null;
    const dRgb = this.dRgb;
    await inErrorScopes(d, 'loss', scopes, () => {
      const enc = d.createCommandEncoder({ label: 'resident-loss' });
      const pass = enc.beginComputePass();
      if (phView) {
        this.phOut = grow(this.phOut, 'res-ph-out');
        this.dPred = grow(this.dPred, 'res-dpred');
        this.photometric!.encodeForward(pass, phView, fwd.rgb, this.phOut);
        this.lossK.encode(pass, this.phOut, tgt, this.dPred, W, H, lambdaDssim);
        this.photometric!.encodeBackward(pass, phView, fwd.rgb, this.dPred, dRgb);
      } else {
        this.lossK.encode(pass, fwd.rgb, tgt, dRgb, W, H, lambdaDssim);
      }
      pass.end();
      d.queue.submit([enc.finish()]);
    });
    await settle();
    const g = await inErrorScopes(d, 'backward', scopes, () => this.raster.backward(fwd, dRgb));
    await settle();
    this.lastGradients = g;
    const n = this.scene.count;
    await inErrorScopes(d, 'update (Adam, statistics)', scopes, () => {
      const enc = d.createCommandEncoder({ label: 'resident-update' });
      const pass = enc.beginComputePass();
      for (const k of PARAM_GROUPS) {
        const s = this.groups[k];
        s.t++;
        s.u.write(n * PARAM_ROW[k], { lr: lrs[k], beta1: s.beta1, beta2: s.beta2, eps: s.eps, t: s.t });
        this.adamK.encode(pass, s.u, { param: this.scene[k], m: s.m, v: s.v, grad: g[k] }, n * PARAM_ROW[k]);
      }
      if (opts.accumulateStats ?? true) this.statsK.encode(pass, { gradNorm: g.means2dGradNorm, sum: this.statSum, count: this.statCount }, n, W, H);
      if (ph && phView) this.photometric!.encodeStep(pass, phView, ph);
      pass.end();
      d.queue.submit([enc.finish()]);
    });
    this.stepped = true;
  }

  /** ∂loss/∂rgb of the last step (H×W×3 f32; after the photometric backward when it is on), for checks. */
  get lossGradient(): GPUBuffer | null {
    return this.dRgb;
  }

  /**
   * The image the last step's loss compared with its target (the photometric output when that is
   * on), read back H×W×3: the trainer's self-check recomputes the loss from it on the CPU.
   */
  async lastPrediction(): Promise<Float32Array> {
    const buf = this.lastPhotometric ? this.phOut : this.lastForward?.rgb;
    if (!this.stepped || !buf) throw new Error('GpuResidentTrainState.lastPrediction(): no step since create()/replace()');
    return readF32(this.device, buf, this.lastPixels * 3);
  }

  /** ∂loss/∂(the image the loss saw) of the last step, read back H×W×3 (lockstep checks). */
  async lossInputGradient(): Promise<Float32Array> {
    const buf = this.lastPhotometric ? this.dPred : this.dRgb;
    if (!this.stepped || !buf) throw new Error('GpuResidentTrainState.lossInputGradient(): no step since create()/replace()');
    return readF32(this.device, buf, this.lastPixels * 3);
  }

  /** Loss values of the last step (a 16-byte read-back; call only when logging). */
  async loss(): Promise<{ loss: number; mse: number; l1: number; ssim: number }> {
    if (!this.stepped) throw new Error('GpuResidentTrainState.loss(): no step since create()/replace()');
    return this.lossK.read();
  }

  /** Copy parameters, Adam state and statistics (and the photometric state, if any) back to fresh CPU arrays. */
  async download(): Promise<ResidentSnapshot> {
    const d = this.device, n = this.scene.count;
    const rd = (b: GPUBuffer, len: number) => (len > 0 ? readF32(d, b, len) : Promise.resolve(new Float32Array(0)));
    const [params, moments, sum, count, photometric] = await Promise.all([
      Promise.all(PARAM_GROUPS.map((k) => rd(this.scene[k], n * PARAM_ROW[k]))),
      Promise.all(PARAM_GROUPS.map((k) => Promise.all([rd(this.groups[k].m, n * PARAM_ROW[k]), rd(this.groups[k].v, n * PARAM_ROW[k])]))),
      rd(this.statSum, n),
      rd(this.statCount, n),
      this.photometric ? this.photometric.download() : Promise.resolve(undefined),
    ]);
    const [means, logScales, quats, opacityLogits, sh] = params as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    const adam = {} as Record<ParamGroup, AdamState>;
    PARAM_GROUPS.forEach((k, i) => (adam[k] = { m: moments[i]![0], v: moments[i]![1], t: this.groups[k].t }));
    const snap: ResidentSnapshot = { params: { count: n, means, logScales, quats, opacityLogits, sh }, adam, stats: { sum, count } };
    if (photometric) snap.photometric = photometric;
    return snap;
  }

  /**
   * download() straight into the trainer's objects (params arrays replaced, Adam.load, stats) and,
   * when given, the PhotometricModel (ev/wb/vig/resp overwritten in place, its four Adam.load()).
   */
  async downloadInto(params: GaussianParams, adam: Record<ParamGroup, Adam>, stats: GradStats, photometric?: PhotometricModel | null): Promise<void> {
    const s = await this.download();
    if (photometric) {
      if (!s.photometric) throw new Error('downloadInto: no resident photometric state to copy into the model');
      if (photometric.imageNames.length !== this.photometric!.images || photometric.cameraIds.length !== this.photometric!.cameras) throw new Error('downloadInto: photometric model has a different number of images or cameras');
      applySnapshot(photometric, s.photometric);
    }
    if (params.count !== s.params.count) throw new Error(`downloadInto: count ${params.count} vs resident ${s.params.count}`);
    for (const k of PARAM_GROUPS) {
      params[k] = s.params[k];
      adam[k].load(s.adam[k]);
    }
    stats.sum = s.stats.sum;
    stats.count = s.stats.count;
  }

  private releaseState(): void {
    if (!this.scene) return;
    for (const k of PARAM_GROUPS) {
      this.scene[k].destroy();
      this.groups[k].m.destroy();
      this.groups[k].v.destroy();
      this.groups[k].u.destroy();
    }
    this.statSum.destroy();
    this.statCount.destroy();
  }

  /** Free this state's buffers (not the rasterizer's). */
  destroy(): void {
    this.releaseState();
    for (const t of this.targets.values()) t.buf.destroy();
    this.targets.clear();
    this.dRgb?.destroy();
    this.dRgb = null;
    this.phOut?.destroy();
    this.dPred?.destroy();
    this.phOut = this.dPred = null;
    this.photometric?.destroy();
    this.photometric = null;
    this.lossK.destroy();
    this.statsK.destroy();
  }
}
