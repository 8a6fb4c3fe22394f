/**
 * Finds the stage where GPU-resident training (src/scene/train/gpu-resident.ts) parts from the
 * CPU-array path on a real capture. Both paths start from the same Gaussians (the Trainer's
 * initialisation with the `train` stage's options for a real capture), take the same views in the
 * Trainer's order with its learning-rate and SH schedules, and run in lockstep:
 *   resident: GpuResidentTrainState.step (as train/resident-step.ts drives it)
 *   CPU:      rasterize → photoLossAndGrad → backwardArrays → Adam.step → GradStats.add
 *             (as test/gpu-resident.test.ts), on a second rasterizer so the resident one sees
 *             exactly the call sequence of training.
 * After every step one line: loss and PSNR (resident | CPU), visible Gaussians, max relative error
 * of each parameter group, of the Adam moments and of the update (param − initial); these drift
 * apart by themselves (isotropic initial Gaussians: rotation gradients are rounding noise that Adam
 * turns into full steps), so every step is also checked stage by stage on the resident step's own
 * inputs: forward rgb vs rasterize() of the pre-step parameters; the GPU ∂loss/∂rgb and loss vs
 * photoLossAndGrad on that rgb; the resident gradients vs backwardArrays with the same ∂loss/∂rgb;
 * the Adam (and statistics) update vs Adam.step from the pre-step state. One summary line per
 * step names the first stage that differs; the full table is printed at step 1, at the first step
 * whose loss parts by more than 1e-3, and at the first failing step. WebGPU errors are caught with
 * error scopes around every resident step, and a lost device is reported. Then (phase `trainer`)
 * the real Trainer as `r2s train` runs it, resident and not, prints its per-step PSNR and flags a
 * resident PSNR that never changes.
 *   npx tsx bench/device/resident-check.ts --workspace WS [--images DIR] [--max-size 64] [--steps 20]
 *     [--iterations 300] [--stats] [--phases lockstep,trainer]
 * Exit 1 when a stage differs beyond its tolerance, a WebGPU error was raised, or the resident
 * Trainer's PSNR is flat while the CPU-array one moves.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { readColmapModel } from '../../src/io/colmap.js';
import { Workspace } from '../../src/pipeline/workspace.js';
import { parseStageOptions } from '../../src/pipeline/stage.js';
import { resolveTrainOptions, trainStage } from '../../src/stages/train.js';
import { loadTrainData, type RunTrainOptions } from '../../src/scene/run-train.js';
import { Trainer } from '../../src/scene/trainer.js';
import { initTf } from '../../src/scene/tf.js';
import { requireDevice } from '../../src/gpu/device.js';
import { readF32 } from '../../src/gpu/buffers.js';
import { GpuRasterizer } from '../../src/gpu/raster/rasterizer.js';
import { GpuResidentTrainState, PARAM_GROUPS, PARAM_ROW, type ParamGroup, type ResidentSnapshot } from '../../src/scene/train/gpu-resident.js';
import { Adam } from '../../src/scene/train/adam.js';
import { GradStats } from '../../src/scene/train/densify.js';
import { photoLossAndGrad } from '../../src/scene/train/image-loss.js';
import { expLr, shDegreeAt } from '../../src/scene/train/schedule.js';
import { Rng } from '../../src/util/rng.js';
import { cloneGaussians } from '../../src/scene/gaussians.js';
import type { GaussianParams } from '../../src/core/gaussians.js';
import type { TrainData } from '../../src/scene/dataset.js';

const { values: a } = parseArgs({
  options: {
    workspace: { type: 'string' },
    images: { type: 'string' },
    'max-size': { type: 'string', default: '64' },
    steps: { type: 'string', default: '20' },
    iterations: { type: 'string', default: '300' },
    stats: { type: 'boolean', default: false },
    phases: { type: 'string', default: 'lockstep,trainer' },
  },
});
if (!a.workspace) throw new Error('usage: resident-check.ts --workspace WS [--images DIR] [--max-size 64] [--steps 20] [--iterations 300] [--stats] [--phases lockstep,trainer]');
const maxSize = Number(a['max-size']), K = Number(a.steps), iterations = Number(a.iterations);
const phases = new Set(a.phases!.split(','));

/**
 * Tolerances (max |a − b| / max |b|) per stage. The forward and backward are the same kernels on
 * the same inputs (bit-identical on lavapipe); the loss gradient is f32 vs f64 (gpu-loss test);
 * the Adam update allows for lavapipe's approximate division and square root (measured 2.4e-4 of
 * the largest update on elements with gradients near 1e-14).
 */
const TOL = { drift: 1e-3, forward: 1e-5, lossGrad: 1e-4, backwardSame: 1e-5, backwardCpuGrad: 1e-3, adamParam: 1e-6, adamUpdate: 1e-3, adamMoment: 1e-5, stats: 1e-5 };

function relErr(x: ArrayLike<number>, y: ArrayLike<number>, n = y.length): number {
  let m = 0, s = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(x[i]! - y[i]!);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
    s = Math.max(s, Math.abs(y[i]!));
  }
  return m / (s + 1e-30);
}
/**
 * relErr of two updates (new − old parameter) in units of the largest reference update, less two
 * f32 ulps of the parameter per element: a parameter is stored in f32, so its update is only
 * known to its rounding (the GPU rounds lr·m̂/(√v̂ + ε) and the sum, the CPU the sum once).
 */
function updateErr(du: Float32Array, dp: Float32Array, param: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < dp.length; i++) {
    const e = Math.abs(du[i]! - dp[i]!) - 2 ** -22 * Math.abs(param[i]!);
    m = Number.isNaN(e) ? Infinity : Math.max(m, e);
    s = Math.max(s, Math.abs(dp[i]!));
  }
  return m / (s + 1e-30);
}

/** the element with the largest |a − b|, for a failing row */
function worstAt(x: ArrayLike<number>, y: ArrayLike<number>, extra?: (i: number) => string): string {
  let k = 0, m = -1;
  for (let i = 0; i < y.length; i++) {
    const e = Math.abs(x[i]! - y[i]!);
    if (Number.isNaN(e) || e > m) { k = i; m = Number.isNaN(e) ? Infinity : e; if (Number.isNaN(e)) break; }
  }
  return `worst at [${k}]: ${x[k]} vs ${y[k]}${extra ? ` ${extra(k)}` : ''}`;
}
const diff = (x: Float32Array, y: ArrayLike<number>) => x.map((v, i) => v - y[i]!);
const fmt = (e: number) => (e === 0 ? '0' : e.toExponential(1));

let failed = false;
/** the full stage table is printed at the first failing step only */
let failTableShown = false;
const ctx = await requireDevice();
const d = ctx.device;
let lost: string | null = null;
void d.lost.then((i) => { lost = `${i.reason}: ${i.message}`; console.log(`DEVICE LOST ${lost}`); });
const ws = new Workspace(a.workspace);
const model = await readColmapModel(ws.sparseModelDir());
const imagesDir = a.images ?? ws.imagesDir;
/** the `train` stage's options for this workspace (real capture: photometric on), with overrides */
const stageOptions = (o: Record<string, unknown>): RunTrainOptions =>
  resolveTrainOptions(ws, parseStageOptions(trainStage, { iterations, maxSize, ...o }));
const data: TrainData = await loadTrainData(model, imagesDir, maxSize);
const raster = await GpuRasterizer.create(ctx);
const v0 = data.views[0]!;
console.log(`adapter ${ctx.adapterName} (software ${ctx.isSoftware}); forward ${raster.batchedForward ? 'batched' : 'simple'}; backward ${raster.usesSubgroups ? 'subgroups' : 'tree'}` +
  ` (subgroup sizes ${(ctx.adapter.info as { subgroupMinSize?: number }).subgroupMinSize ?? '?'}..${(ctx.adapter.info as { subgroupMaxSize?: number }).subgroupMaxSize ?? '?'});` +
  ` uncapturederror listener ${typeof (d as { addEventListener?: unknown }).addEventListener === 'function' ? 'yes' : 'NO (errors are silent)'}`);
console.log(`workspace ${path.resolve(a.workspace)}: ${data.views.length} views, image ${v0.width}×${v0.height} (max-size ${maxSize}), ${data.points?.xyz.length ? data.points.xyz.length / 3 : 0} points, extent ${data.extent.toFixed(3)}`);

/** WebGPU errors raised while `f` runs (validation, out of memory, internal). */
async function scoped<T>(label: string, f: () => Promise<T>): Promise<T> {
  const kinds: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];
  for (const k of kinds) d.pushErrorScope(k);
  const r = await f();
  for (const k of kinds.reverse()) {
    const e = await d.popErrorScope();
    if (e) { failed = true; console.log(`WEBGPU ${k} error in ${label}: ${e.message.split('\n').slice(0, 3).join(' | ')}`); }
  }
  return r;
}

try {
  if (phases.has('lockstep')) await lockstep();
  if (phases.has('trainer')) await trainerPhase();
} catch (e) {
  // e.g. a read-back after the device was lost; give the lost handler a moment to report first
  await new Promise((r) => setTimeout(r, 200));
  failed = true;
  console.log(`ERROR: ${(e as Error).message || (e as Error).name || String(e)}${lost ? ` (device lost: ${lost})` : ''}`);
  console.log((e as Error).stack?.split('\n').slice(1, 4).join('\n'));
}
if (lost) failed = true;
console.log(failed ? 'RESULT: FAIL' : 'RESULT: agree');
process.exit(failed ? 1 : 0);

async function lockstep(): Promise<void> {
  const o = stageOptions({ photometric: false, densify: false });
  const trainer = new Trainer(data, { name: 'none', render: () => { throw new Error('unused'); } } as never, o);
  const init = cloneGaussians(trainer.params);
  const n = init.count;
  const makeAdam = () => {
    const r = {} as Record<ParamGroup, Adam>;
    for (const k of PARAM_GROUPS) {
      const t = trainer.adam[k];
      r[k] = new Adam(n * PARAM_ROW[k], PARAM_ROW[k], t.lr, t.beta1, t.beta2, t.eps);
      if (t.colScale) r[k].colScale = t.colScale.slice();
    }
    return r;
  };
  console.log(`lockstep: ${n} Gaussians, ${K} steps, iterations ${iterations} (schedules), photometric off, densification off, statistics ${a.stats ? 'on' : 'off'}`);
  const resRaster = raster;
  const cpuRaster = await GpuRasterizer.create(ctx);
  const res = await GpuResidentTrainState.create(resRaster, cloneGaussians(init), makeAdam(), new GradStats(n));
  const p: GaussianParams = cloneGaussians(init), adam = makeAdam(), stats = new GradStats(n);
  // the Trainer's view order (Rng(seed).shuffle of the training views, reshuffled each epoch)
  const rng = new Rng(o.seed);
  let order: number[] = [];
  let prev: ResidentSnapshot = await res.download();
  let drifted = false, firstFail = 0;
  for (let s = 0; s < K; s++) {
    if (order.length === 0) order = rng.shuffle(trainer.trainViews);
    const vi = order.shift()!;
    const view = data.views[vi]!;
    const cam = trainer.camera(vi);
    const ropts = { ...trainer.rasterOptions(shDegreeAt(s, trainer.schedule, o.maxShDegree)), tileSize: 16 };
    const lrs = Object.fromEntries(PARAM_GROUPS.map((k) => [k, adam[k].lr])) as Record<ParamGroup, number>;
    lrs.means = adam.means.lr = expLr(s, o.lrs.positionInit * data.extent, o.lrs.positionFinal * data.extent, o.iterations);
    // resident step, exactly as ResidentStep.run issues it
    await scoped(`resident step ${s + 1}`, () => res.step(vi, view.target, cam, ropts, lrs, o.lambdaDssim, { accumulateStats: a.stats }));
    const rl = await res.loss();
    const snap = await res.download();
    // CPU-array step
    const out = await cpuRaster.rasterize(p, cam, ropts);
    const l = photoLossAndGrad(out.rgb, view.target, view.width, view.height, o.lambdaDssim);
    const g = await cpuRaster.backwardArrays(out.fwd, { rgb: l.grad });
    for (const k of PARAM_GROUPS) adam[k].step(p[k], g[k]);
    if (a.stats) stats.add(g.means2dGradNorm, view.width, view.height);
    let se = 0;
    for (let i = 0; i < out.rgb.length; i++) se += (out.rgb[i]! - view.target[i]!) ** 2;
    const psnr = (mse: number) => (-10 * Math.log10(mse)).toFixed(2);
    const lossErr = Math.abs(rl.loss - l.loss) / Math.abs(l.loss);
    const parts: string[] = [];
    for (const k of PARAM_GROUPS) {
      const e = { p: relErr(snap.params[k], p[k]), m: relErr(snap.adam[k].m, adam[k].m), v: relErr(snap.adam[k].v, adam[k].v), u: relErr(diff(snap.params[k], init[k]), diff(p[k], init[k])) };
      parts.push(`${k} p ${fmt(e.p)} m ${fmt(e.m)} v ${fmt(e.v)} u ${fmt(e.u)}`);
    }
    if (a.stats) parts.push(`stats ${fmt(relErr(snap.stats.sum, stats.sum))}`);
    console.log(`step ${s + 1} view ${vi} sh ${ropts.shDegree} loss ${rl.loss.toFixed(6)} | ${l.loss.toFixed(6)} psnr ${psnr(rl.mse)} | ${psnr(se / out.rgb.length)} visible ${res.lastVisible} | ${out.visible}; ${parts.join('; ')}`);
    // The two paths drift apart by themselves: the initial Gaussians are isotropic, so their
    // rotation gradients are rounding noise that Adam turns into full-size steps, and the scales
    // follow. So the loss decides drift, and every step is also checked stage by stage on the
    // resident step's own inputs (which does not drift).
    const drift = lossErr > TOL.drift;
    const firstDrift = drift && !drifted;
    if (drift) drifted = true;
    const ok = await stageCheck(s + 1, res, prev, snap, vi, cam, ropts, lrs, o.lambdaDssim, makeAdam, cpuRaster, s === 0 || firstDrift);
    if (!ok && !firstFail) firstFail = s + 1;
    prev = snap;
  }
  if (drifted) console.log(`lockstep: the losses parted by more than ${TOL.drift} (relative)`);
  console.log(firstFail ? `lockstep: first step with a differing stage: ${firstFail}` : `lockstep: every stage of all ${K} steps agrees`);
  res.destroy();
  cpuRaster.destroy();
}

/**
 * Each stage of the resident step just taken, against the CPU reference on that stage's own
 * inputs: one summary line, and the full table when `table` or at the first failure. Returns
 * whether all agree.
 */
async function stageCheck(step: number, res: GpuResidentTrainState, before: ResidentSnapshot, after: ResidentSnapshot, vi: number, cam: ReturnType<Trainer['camera']>, ropts: Parameters<GpuRasterizer['rasterize']>[2], lrs: Record<ParamGroup, number>, lambda: number, makeAdam: () => Record<ParamGroup, Adam>, cpuRaster: GpuRasterizer, table: boolean): Promise<boolean> {
  const view = data.views[vi]!, W = view.width, H = view.height, P = W * H;
  const fwd = res.lastForward!, gRes = res.lastGradients!, n = before.params.count;
  // the resident rasterizer's buffers stay valid until its next forward; the reference runs on cpuRaster
  const rgb = await readF32(d, fwd.rgb, P * 3);
  const dRgb = await readF32(d, res.lossGradient!, P * 3);
  const gr = {} as Record<ParamGroup | 'means2dGradNorm', Float32Array>;
  for (const k of PARAM_GROUPS) gr[k] = await readF32(d, gRes[k], n * PARAM_ROW[k]);
  gr.means2dGradNorm = await readF32(d, gRes.means2dGradNorm, n);
  /** [stage, what, error, tolerance (null: for information only), detail when it fails] */
  const rows: [string, string, number, number | null, (() => string)?][] = [];
  const ref = await cpuRaster.rasterize(before.params, cam, ropts);
  rows.push(['forward', 'rgb (resident forward vs rasterize of the pre-step parameters)', relErr(rgb, ref.rgb), TOL.forward, () => worstAt(rgb, ref.rgb)]);
  rows.push(['forward', `visible ${fwd.visible} vs ${ref.visible}`, fwd.visible === ref.visible ? 0 : 1, 0]);
  const l = photoLossAndGrad(rgb, view.target, W, H, lambda);
  const lv = await res.loss();
  rows.push(['loss', `value ${lv.loss.toFixed(6)} vs ${l.loss.toFixed(6)}`, Math.abs(lv.loss - l.loss) / Math.abs(l.loss), TOL.lossGrad]);
  rows.push(['loss', 'gradient dRgb (GPU vs photoLossAndGrad on the resident rgb)', relErr(dRgb, l.grad), TOL.lossGrad, () => worstAt(dRgb, l.grad)]);
  const gSame = await cpuRaster.backwardArrays(ref.fwd, { rgb: dRgb });
  for (const k of [...PARAM_GROUPS, 'means2dGradNorm'] as const) rows.push(['backward', `${k} (same dRgb)`, relErr(gr[k], gSame[k]), TOL.backwardSame, () => worstAt(gr[k], gSame[k])]);
  if (table) {
    // for information: with the CPU's dRgb the rotation gradients of isotropic Gaussians are noise
    const gCpu = await cpuRaster.backwardArrays(ref.fwd, { rgb: l.grad });
    for (const k of PARAM_GROUPS) rows.push(['backward', `${k} (CPU dRgb)`, relErr(gr[k], gCpu[k]), k === 'quats' ? null : TOL.backwardCpuGrad]);
  }
  const adam = makeAdam();
  for (const k of PARAM_GROUPS) {
    adam[k].load({ m: before.adam[k].m.slice(), v: before.adam[k].v.slice(), t: before.adam[k].t });
    adam[k].lr = lrs[k];
    const p = before.params[k].slice();
    adam[k].step(p, gr[k]);
    const why = (i: number) => `(grad ${gr[k]![i]}, m ${before.adam[k].m[i]} → ${after.adam[k].m[i]} | ${adam[k].m[i]}, v ${before.adam[k].v[i]} → ${after.adam[k].v[i]} | ${adam[k].v[i]})`;
    const du = diff(after.params[k], before.params[k]), dp = diff(p, before.params[k]);
    rows.push(['adam', `${k} param`, relErr(after.params[k], p), TOL.adamParam, () => worstAt(after.params[k], p, why)]);
    rows.push(['adam', `${k} update`, updateErr(du, dp, p), TOL.adamUpdate, () => worstAt(du, dp, why)]);
    rows.push(['adam', `${k} m`, relErr(after.adam[k].m, adam[k].m), TOL.adamMoment, () => worstAt(after.adam[k].m, adam[k].m, why)]);
    rows.push(['adam', `${k} v`, relErr(after.adam[k].v, adam[k].v), TOL.adamMoment, () => worstAt(after.adam[k].v, adam[k].v, why)]);
    rows.push(['adam', `${k} t ${after.adam[k].t} vs ${adam[k].t}`, after.adam[k].t === adam[k].t ? 0 : 1, 0]);
  }
  if (a.stats) {
    const st = new GradStats(n);
    st.sum = before.stats.sum.slice(); st.count = before.stats.count.slice();
    st.add(gr.means2dGradNorm, W, H);
    rows.push(['stats', 'sum', relErr(after.stats.sum, st.sum), TOL.stats]);
    rows.push(['stats', 'count', relErr(after.stats.count, st.count), 0]);
  }
  const bad = (e: number, tol: number | null) => tol !== null && !(e <= tol);
  const first = rows.find(([, , e, tol]) => bad(e, tol));
  const worst = new Map<string, number>();
  for (const [stage, , e, tol] of rows) if (tol !== null) worst.set(stage, Math.max(worst.get(stage) ?? 0, Number.isNaN(e) ? Infinity : e));
  console.log(`  stages at step ${step}: ${[...worst].map(([k, e]) => `${k} ${fmt(e)}`).join(' ')}${first ? ` — DIFFERS first in ${first[0]}: ${first[1]}` : ' — agree'}`);
  if (table || (first && !failTableShown)) {
    if (first) failTableShown = true;
    console.log(`  stage check at step ${step} (view ${vi}, ${W}×${H}, ${n} Gaussians, ${fwd.state.instances} instances):`);
    for (const [stage, what, e, tol, detail] of rows) {
      const b = bad(e, tol);
      console.log(`    ${tol === null ? 'info   ' : b ? 'DIFFERS' : 'ok     '} ${fmt(e).padStart(8)} (tol ${tol === null ? '-' : fmt(tol)}) ${stage} ${what}${b && detail ? `; ${detail()}` : ''}`);
    }
  }
  if (first) failed = true;
  return !first;
}

/**
 * The real Trainer as `r2s train` runs it (the stage's options; resident, resident without the
 * photometric model and densification, CPU-array): per-step PSNR (the resident path reads its loss
 * every lossEvery = 10 steps, as in training, so its value repeats in between), how far each
 * parameter group moved, and a flag when the resident PSNR never changes.
 */
async function trainerPhase(): Promise<void> {
  const { createBackend } = await import('../../src/scene/backend-factory.js');
  const series: Record<string, number[]> = {};
  const runs: [string, Record<string, unknown>][] = [
    ['resident', { resident: true }],
    ['resident --no-photometric --no-densify', { resident: true, photometric: false, densify: false }],
    ['cpu-array (--no-resident)', { resident: false }],
  ];
  for (const [label, over] of runs) {
    const o = stageOptions(over);
    await initTf(o.tfBackend);
    const backend = await createBackend(o.backend);
    const tr = new Trainer(data, backend, o);
    const init = cloneGaussians(tr.params);
    const ps: number[] = [];
    await scoped(`trainer ${label}`, () => tr.train(K, (s) => { ps.push(s.psnr); }));
    const moved = PARAM_GROUPS.map((k) => {
      const p = tr.params[k], q = init[k];
      let m = 0;
      for (let i = 0; i < Math.min(p.length, q.length); i++) m = Math.max(m, Math.abs(p[i]! - q[i]!));
      return `${k} ${fmt(m)}`;
    });
    tr.dispose();
    series[label] = ps;
    console.log(`trainer ${label} (photometric ${o.photometric}, densify ${o.densify}): psnr ${ps.map((x) => x.toFixed(2)).join(' ')}; max |Δparam| ${moved.join(' ')}${lost ? ' (device lost)' : ''}`);
  }
  const flat = (xs: number[]) => xs.length > 10 && xs.every((x) => x === xs[0]);
  for (const [label] of runs.slice(0, 2)) {
    if (flat(series[label]!) && !flat(series[runs[2]![0]]!)) {
      failed = true;
      console.log(`trainer: ${label} PSNR is flat (every step the same value) while the CPU-array path moves`);
    }
  }
}
