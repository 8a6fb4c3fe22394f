/**
 * Training benchmarks → bench/train.json. Sections (run all, or name some: `tsx bench/train.ts
 * synthetic photometric`), each merged into the JSON so sections can be re-run separately:
 *  - synthetic:   ≥ 40 views, held-out PSNR (issue 5 goal ≥ 35 dB)
 *  - photometric: ±1 EV exposure jitter, held-out PSNR with vs without the photometric model
 *                 (goal ≥ +3 dB), both scored on the right half
 *  - pose:        1° / 2 % pose noise, rotation error of the refined training cameras (goal < 0.1°)
 *  - speed:       steps/s at 100k Gaussians (and 1M when a hardware GPU is present)
 *  - lens-fox:    ingp_fox (OPENCV lens) held-out PSNR with photos undistorted vs distortion ignored
 * Sizes and step counts are env-tunable (R2S_BENCH_*); defaults are sized for a 2-core lavapipe
 * machine and recorded next to each figure.
 */
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic } from '../src/util/fsx.js';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { captureTrainData } from '../src/synthetic/workspace.js';
import { Trainer, defaultTrainOptions } from '../src/scene/trainer.js';
import { createBackend } from '../src/scene/backend-factory.js';
import { evaluateViews } from '../src/scene/eval/evaluate.js';
import { initTf, tf } from '../src/scene/tf.js';
import { getDevice } from '../src/gpu/device.js';
import { rotationAngleDeg, cameraCenter, logSO3, matMul3, transpose3, matToQuat } from '../src/geometry/rotation.js';
import { evaluatePoses } from '../src/eval/poses.js';
import type { SparseModel } from '../src/core/sparse-model.js';
import { initFromPoints, randomPoints } from '../src/scene/gaussians.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'train.json');
const env = (k: string, d: number) => Number(process.env[`R2S_BENCH_${k}`] ?? d);

async function save(section: string, value: unknown): Promise<void> {
  // R2S_BENCH_DRY=1: print only (exploratory runs must not overwrite the recorded figures)
  if (process.env.R2S_BENCH_DRY) { console.error(`${section} (dry): ${JSON.stringify(value)}`); return; }
  const cur = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
  const ctx = await getDevice();
  cur.machine = { cpus: os.cpus().length, adapter: ctx?.adapterName ?? 'none', date: new Date().toISOString() };
  cur[section] = value;
  await writeJsonAtomic(out, cur);
  console.error(`${section}: ${JSON.stringify(value)}`);
}

function log(label: string) {
  return (s: { step: number; loss: number; psnr: number; count: number }) => {
    if (s.step % 100 === 0) console.error(`${label} step ${s.step} loss ${s.loss.toFixed(4)} psnr ${s.psnr.toFixed(2)} n ${s.count}`);
  };
}

async function synthetic(): Promise<void> {
  const views = env('VIEWS', 40), size = env('SIZE', 128), iters = env('ITERS', 3000), maxG = env('MAXG', 30000);
  const cap = renderSyntheticCapture({ views, size, seed: 1 });
  const data = await captureTrainData(cap);
  const backend = await createBackend();
  const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: iters, maxGaussians: maxG, seed: 1 });
  const t0 = Date.now();
  await tr.train(iters, log('synthetic'));
  const seconds = (Date.now() - t0) / 1000;
  const held = data.views.filter((v) => v.holdout);
  const r = await evaluateViews(tr.params, held, backend, { shDegree: 3, background: [0, 0, 0], photometric: null });
  await save('synthetic', { goal: '>= 35 dB', views, width: cap.intrinsics.width, height: cap.intrinsics.height, iterations: iters, heldOut: held.length, psnr: r.psnr, ssim: r.ssim, gaussians: tr.params.count, seconds, stepsPerSecond: iters / seconds, backend: backend.name });
}

async function photometric(): Promise<void> {
  const views = env('PH_VIEWS', 40), size = env('PH_SIZE', 96), iters = env('PH_ITERS', 1500), maxG = env('MAXG', 20000);
  const cap = renderSyntheticCapture({ views, size, seed: 2, exposureJitter: 1 });
  const data = await captureTrainData(cap);
  const backend = await createBackend();
  const held = data.views.filter((v) => v.holdout);
  const res: Record<string, unknown> = { goal: '>= +3 dB', views, width: cap.intrinsics.width, height: cap.intrinsics.height, iterations: iters, exposureJitterEv: 1, protocol: 'right half; with the model, exposure/WB fitted on the left half' };
  const t0 = Date.now();
  for (const on of [false, true]) {
    const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: iters, photometric: on, maxGaussians: maxG, seed: 1 });
    await tr.train(iters, log(`photometric=${on}`));
    const r = await evaluateViews(tr.params, held, backend, { shDegree: 3, background: [0, 0, 0], photometric: tr.photometric, rightHalf: true });
    res[on ? 'psnrWith' : 'psnrWithout'] = r.psnr;
    if (on) {
      // exposure recovery on training views (relative to the anchor, which is at truth 0)
      const errs = data.views.filter((v) => !v.holdout).map((v) => Math.abs(tr.photometric!.ev[v.index]! - cap.images[v.index]!.ev));
      res.trainExposureErrorEv = { mean: errs.reduce((a, b) => a + b, 0) / errs.length, max: Math.max(...errs) };
    }
  }
  res.gainDb = (res.psnrWith as number) - (res.psnrWithout as number);
  res.seconds = (Date.now() - t0) / 1000;
  res.backend = backend.name;
  await save('photometric', res);
}

async function pose(): Promise<void> {
  const views = env('POSE_VIEWS', 40), size = env('POSE_SIZE', 96), iters = env('POSE_ITERS', 1500), maxG = env('POSE_MAXG', 6000);
  const cap = renderSyntheticCapture({ views, size, seed: 3, poseNoiseDeg: 1, detail: env('POSE_DETAIL', 0.3) });
  const data = await captureTrainData(cap);
  const backend = await createBackend();
  const tr = new Trainer(data, backend, {
    ...defaultTrainOptions, iterations: iters, refineCameras: true, maxGaussians: maxG, seed: 1,
    cameraRefineEvery: env('POSE_EVERY', 100), cameraRefineStart: env('POSE_START', 200), refineFocal: env('POSE_FOCAL', 0) === 1,
    cameraWarmup: env('POSE_WARMUP', 0.9), densify: env('POSE_DENSIFY', 1) === 1,
    camera: { ...defaultTrainOptions.camera, iterationsPerPass: env('POSE_GN_ITERS', 1) },
  });
  const trainIdx = data.views.filter((v) => !v.holdout).map((v) => v.index);
  const errors = () => {
    const rot = trainIdx.map((i) => rotationAngleDeg(tr.poses!.pose(i).R, cap.images[i]!.truth.R));
    const ctr = trainIdx.map((i) => {
      const p = tr.poses!.pose(i), a = cameraCenter(p.R, p.t), b = cameraCenter(cap.images[i]!.truth.R, cap.images[i]!.truth.t);
      return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) / Math.hypot(...b);
    });
    // common world-frame rotation of all cameras (scene + cameras drifting together): mean of
    // log(R_trueᵀ·R) — near zero when the reference view and the points hold the gauge
    const drift = [0, 0, 0];
    for (const i of trainIdx) {
      const w = logSO3(matMul3(transpose3(cap.images[i]!.truth.R), tr.poses!.pose(i).R));
      for (let a = 0; a < 3; a++) drift[a]! += w[a]! / trainIdx.length;
    }
    // the standard protocol (datasets/README.md): similarity-align the centres, then compare
    const est = { cameras: new Map(), points3D: new Map(), images: new Map(trainIdx.map((i, k) => { const p = tr.poses!.pose(i); return [k + 1, { id: k + 1, cameraId: 1, name: cap.images[i]!.name, qvec: matToQuat(p.R), tvec: p.t, xys: [], point3DIds: [] }]; })) } as unknown as SparseModel;
    const gt = new Map(trainIdx.map((i) => [cap.images[i]!.name, { R: cap.images[i]!.truth.R, t: cap.images[i]!.truth.t }]));
    const aligned = evaluatePoses(est, gt);
    return { alignedRotMeanDeg: aligned.rotErrDeg.mean, alignedRotMaxDeg: aligned.rotErrDeg.max, rotMeanDeg: rot.reduce((a, b) => a + b, 0) / rot.length, rotMaxDeg: Math.max(...rot), centreMeanRel: ctr.reduce((a, b) => a + b, 0) / ctr.length, commonRotDeg: (Math.hypot(...drift) * 180) / Math.PI, focalScale: Array.from(tr.poses!.focalScale) };
  };
  const before = errors();
  const t0 = Date.now();
  await tr.train(iters, (s) => { log('pose')(s); if (s.step % 100 === 0) console.error('  ', JSON.stringify(errors())); });
  await save('pose', { method: 'Gauss-Newton camera passes (forward-difference render Jacobians), schedule ' + JSON.stringify(tr.cameraSchedule()), goal: 'rotation error < 0.1 deg', noise: '1 deg + 2 % of distance (reference view exact)', views, width: cap.intrinsics.width, iterations: iters, before, after: errors(), seconds: (Date.now() - t0) / 1000, note: 'aligned*: the standard protocol (similarity alignment of the centres, then rotation error); rotMeanDeg etc.: vs truth in the scene frame without alignment; commonRotDeg: the mean rotation all cameras share', backend: backend.name });
}

async function speed(): Promise<void> {
  const backend = await createBackend();
  const ctx = await getDevice();
  const counts = [100_000, ...(ctx && !ctx.isSoftware ? [1_000_000] : [])];
  const size = env('SPEED_SIZE', 256), steps = env('SPEED_STEPS', 5);
  const cap = renderSyntheticCapture({ views: 16, size, seed: 4, detail: 0.05 });
  const data = await captureTrainData(cap);
  const res: Record<string, unknown> = { width: cap.intrinsics.width, height: cap.intrinsics.height, backend: backend.name, note: 'densification off; random Gaussians in the scene box; the resident figure includes one final download of all parameters' };
  for (const n of counts) {
    const pts = randomPoints(n, [-2, -2, 0], [2, 2, 1], 7);
    // GPU-resident (the default) and the CPU-array path (parameters up, gradients down each step)
    for (const resident of [true, false]) {
      const tr = new Trainer(data, backend, { ...defaultTrainOptions, iterations: 30000, densify: false, seed: 1, resident }, initFromPoints(pts));
      await tr.train(1);
      const t0 = Date.now();
      await tr.train(1 + steps);
      res[`stepsPerSecond@${n}${resident ? '' : ' (cpu-array path)'}`] = steps / ((Date.now() - t0) / 1000);
      tr.dispose();
    }
  }
  res.load1 = os.loadavg()[0];
  res.date = new Date().toISOString();
  // each adapter's figures beside the others': lavapipe 'speed', SwiftShader 'speed-swiftshader'
  // (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json), a hardware GPU 'speed-hardware'
  const key = ctx && !ctx.isSoftware ? 'speed-hardware' : /swiftshader/i.test(ctx?.adapterName ?? '') ? 'speed-swiftshader' : 'speed';
  await save(key, res);
}

/** Image-loss engine: tfjs (cpu backend, this process) vs the TypeScript loss, 128×96. */
async function engine(): Promise<void> {
  const { photoLoss } = await import('../src/scene/train/losses.js');
  const { photoLossAndGrad } = await import('../src/scene/train/image-loss.js');
  const W = 128, H = 96;
  const a = new Float32Array(W * H * 3).map((_, i) => (i % 97) / 97), b = new Float32Array(W * H * 3).map((_, i) => (i % 89) / 89);
  const tb = tf.tensor3d(b, [H, W, 3]);
  const viaTf = async () => { const x = tf.tensor3d(a, [H, W, 3]); const g = tf.grad((y: tf.Tensor) => photoLoss(y as tf.Tensor3D, tb))(x); await g.data(); tf.dispose([x, g]); };
  await viaTf();
  let t = Date.now();
  for (let i = 0; i < 5; i++) await viaTf();
  const tfMs = (Date.now() - t) / 5;
  t = Date.now();
  for (let i = 0; i < 5; i++) photoLossAndGrad(a, b, W, H);
  const tsMs = (Date.now() - t) / 5;
  await save('engine', { image: '128x96', tfBackend: tf.getBackend(), tfjsLossGradMs: tfMs, typescriptLossGradMs: tsMs, note: 'why the training loss is not a tfjs op: tfjs-cpu spent this long on the SSIM gradient (tfjs webgpu on lavapipe, measured separately as one backend per process: 167 ms, and its dataSync fails in Node without OffscreenCanvas). Training now runs GPU-resident on WGSL kernels (src/gpu/loss, src/gpu/optim, src/gpu/photometric) with the TypeScript/tfjs versions as their references; see speed for steps/s' });
}

/**
 * ingp_fox (imported transforms.json, no SfM points: random init), through the CLI contract:
 * r2s import → r2s train → r2s eval. The OPENCV distortion is removed at load (photos undistorted;
 * figures recorded before issue 23 ignored it — see lens-fox for both).
 */
async function fox(): Promise<void> {
  const iters = env('FOX_ITERS', 500), maxSize = env('FOX_SIZE', 240);
  const dataset = path.resolve(here, '../../shared/datasets/ingp_fox');
  if (!existsSync(dataset)) return save('ingp_fox', { skipped: `${dataset} not found` });
  const ws = path.join(os.tmpdir(), `r2s-bench-fox-${process.pid}`);
  const { run: importCmd } = await import('../src/cli/commands/import.js');
  const { run: trainCmd } = await import('../src/cli/commands/train.js');
  const { run: evalCmd } = await import('../src/cli/commands/eval.js');
  await importCmd([path.join(dataset, 'gt', 'transforms.json'), '-w', ws, '--images', path.join(dataset, 'images')]);
  const t0 = Date.now();
  await trainCmd(['-w', ws, '--iterations', String(iters), '--max-size', String(maxSize)]);
  const trainSeconds = (Date.now() - t0) / 1000;
  await evalCmd(['-w', ws]);
  const m = JSON.parse(readFileSync(path.join(ws, 'eval', 'metrics.json'), 'utf8'));
  const t = JSON.parse(readFileSync(path.join(ws, 'scene', 'train.json'), 'utf8'));
  await save('ingp_fox', { iterations: iters, maxSize, psnr: m.psnr, ssim: m.ssim, heldOut: m.views.length, protocol: m.protocol, gaussians: t.gaussians, trainSeconds, backend: t.backend });
}

/**
 * lens-fox (issue 23, lenses honoured): ingp_fox imported with its OPENCV camera (k1 k2 p1 p2),
 * trained and evaluated twice on the same budget through the CLI — photos undistorted at load (the
 * default), and the pinhole part alone against the distorted photos (the camera rewritten as
 * PINHOLE with the same fx fy cx cy: what training did before). Each run is scored on its own
 * held-out images (undistorted / as shot), same protocol.
 */
async function lensFox(): Promise<void> {
  const iters = env('FOX_ITERS', 500), maxSize = env('FOX_SIZE', 240);
  const dataset = path.resolve(here, '../../shared/datasets/ingp_fox');
  if (!existsSync(dataset)) return save('lens-fox', { skipped: `${dataset} not found` });
  const { run: importCmd } = await import('../src/cli/commands/import.js');
  const { run: trainCmd } = await import('../src/cli/commands/train.js');
  const { run: evalCmd } = await import('../src/cli/commands/eval.js');
  const { readColmapModel, writeColmapModel, findColmapModelDir } = await import('../src/io/colmap.js');
  const { pinholeOf } = await import('../src/core/camera.js');
  const result: Record<string, unknown> = { iterations: iters, maxSize, camera: 'OPENCV fx 1375.5 fy 1374.5, k1 0.0578 k2 -0.0805 p1 -0.00098 p2 0.00016 (1080x1920)' };
  // R2S_BENCH_LENSFOX_IMPORTED: a workspace this case imported before (import triangulates points: minutes)
  const again = process.env.R2S_BENCH_LENSFOX_IMPORTED;
  const imported = again && existsSync(path.join(again, 'sparse')) ? again : path.join(os.tmpdir(), `r2s-bench-lensfox-${process.pid}`);
  if (imported !== again) await importCmd([path.join(dataset, 'gt', 'transforms.json'), '-w', imported, '--images', path.join(dataset, 'images')]);
  for (const variant of ['undistorted', 'ignored'] as const) {
    const ws = `${imported}-${variant}`;
    rmSync(ws, { recursive: true, force: true });
    cpSync(imported, ws, { recursive: true });
    const dir = findColmapModelDir(path.join(ws, 'sparse'));
    if (!dir) throw new Error(`${ws}/sparse: no model after import`);
    const model = await readColmapModel(dir);
    const cams = [...model.cameras.values()];
    if (!cams.some((c) => c.model === 'OPENCV')) throw new Error(`import gave ${cams.map((c) => c.model).join(', ')}, not OPENCV`);
    if (variant === 'ignored') {
      for (const c of cams) {
        const k = pinholeOf(c);
        model.cameras.set(c.id, { ...c, model: 'PINHOLE', params: [k.fx, k.fy, k.cx, k.cy] });
      }
      await writeColmapModel(dir, model);
    }
    const t0 = Date.now();
    await trainCmd(['-w', ws, '--iterations', String(iters), '--max-size', String(maxSize)]);
    const trainSeconds = (Date.now() - t0) / 1000;
    await evalCmd(['-w', ws]);
    const m = JSON.parse(readFileSync(path.join(ws, 'eval', 'metrics.json'), 'utf8'));
    const t = JSON.parse(readFileSync(path.join(ws, 'scene', 'train.json'), 'utf8'));
    result[variant] = { psnr: m.psnr, ssim: m.ssim, heldOut: m.views.length, protocol: m.protocol, gaussians: t.gaussians, trainSeconds, backend: t.backend };
    console.error(`lens-fox ${variant}: ${JSON.stringify(result[variant])}`);
  }
  // how far the lens moves pixels at the training size (what ignoring it costs, at most)
  const { lensAt, pixelToNormalized } = await import('../src/geometry/undistort.js');
  const { trainingSize } = await import('../src/scene/image-io.js');
  const cam = [...(await readColmapModel(findColmapModelDir(path.join(imported, 'sparse'))!)).cameras.values()][0]!;
  const size = trainingSize(cam.width, cam.height, maxSize), lens = lensAt(cam, size.width, size.height);
  let maxShift = 0, sumShift = 0;
  for (let v = 0.5; v < size.height; v++) {
    for (let x = 0.5; x < size.width; x++) {
      const r = pixelToNormalized(lens, x, v);
      const d = r ? Math.hypot(r[0] * lens.fx + lens.cx - x, r[1] * lens.fy + lens.cy - v) : 0;
      maxShift = Math.max(maxShift, d);
      sumShift += d;
    }
  }
  result.lensShiftPx = { atSize: `${size.width}x${size.height}`, max: maxShift, mean: sumShift / (size.width * size.height) };
  const u = result.undistorted as { psnr: number }, g = result.ignored as { psnr: number };
  result.gainDb = u.psnr - g.psnr;
  result.note = 'each run scored on its own held-out photos: undistorted (pinhole crop of valid pixels) vs as shot; same steps, size, seed and defaults';
  await save('lens-fox', result);
}

/**
 * llff_fern with cameras from our own SfM (the protocol): r2s reconstruct --skip-train on
 * the 706×529 photos, then r2s train at 504×378 (the NeRF protocol's 1/8 resolution) and r2s eval.
 * R2S_BENCH_FERN_ITERS sets the steps (lavapipe: ~0.2–0.5 steps/s at this size on 2 cores).
 */
async function fern(): Promise<void> {
  const iters = env('FERN_ITERS', 400), maxSize = env('FERN_SIZE', 504), maxG = env('FERN_MAXG', 60000);
  const dataset = path.resolve(here, '../../shared/datasets/llff_fern/images');
  if (!existsSync(dataset)) return save('llff_fern', { skipped: `${dataset} not found` });
  const ws = path.join(os.tmpdir(), `r2s-bench-fern-${process.pid}`);
  const { run: reconstructCmd } = await import('../src/cli/commands/reconstruct.js');
  const { run: trainCmd } = await import('../src/cli/commands/train.js');
  const { run: evalCmd } = await import('../src/cli/commands/eval.js');
  let t0 = Date.now();
  await reconstructCmd([dataset, '-w', ws, '--skip-train']);
  const sfmSeconds = (Date.now() - t0) / 1000;
  t0 = Date.now();
  await trainCmd(['-w', ws, '--iterations', String(iters), '--max-size', String(maxSize), '--max-gaussians', String(maxG)]);
  const trainSeconds = (Date.now() - t0) / 1000;
  await evalCmd(['-w', ws]);
  const m = JSON.parse(readFileSync(path.join(ws, 'eval', 'metrics.json'), 'utf8'));
  const t = JSON.parse(readFileSync(path.join(ws, 'scene', 'train.json'), 'utf8'));
  await save('llff_fern', { goal: '>= 25 dB (NeRF: 25.2)', iterations: iters, maxSize, psnr: m.psnr, ssim: m.ssim, heldOut: m.views.length, protocol: m.protocol, gaussians: t.gaussians, sfmSeconds, trainSeconds, backend: t.backend });
}

const sections: Record<string, () => Promise<void>> = { synthetic, photometric, pose, speed, engine, fox, fern, 'lens-fox': lensFox };
await initTf();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted.length ? wanted : Object.keys(sections)) {
  const f = sections[name];
  if (!f) throw new Error(`unknown section ${name} (have ${Object.keys(sections).join(', ')})`);
  await f();
}
process.exit(0);
