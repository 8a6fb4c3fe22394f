import { describe, it, expect, beforeAll } from 'vitest';
import { renderSyntheticCapture } from '../src/synthetic/generate.js';
import { captureTrainData } from '../src/synthetic/workspace.js';
import { Trainer, defaultTrainOptions } from '../src/scene/trainer.js';
import { createBackend } from '../src/scene/backend-factory.js';
import { initTf } from '../src/scene/tf.js';
import { rotationAngleDeg } from '../src/geometry/rotation.js';
import { solveCameraSteps, stepCamera, VIEW_PARAMS, type ViewSystem } from '../src/scene/train/camera-refine.js';
import { setQuiet } from '../src/util/log.js';

beforeAll(async () => {
  setQuiet(true);
  await initTf('cpu');
});

describe('Gauss-Newton camera refinement', () => {
  it('the Schur-complement solve equals the dense joint solve (two views sharing a focal)', () => {
    // random SPD 13×13 system: view A (6), view B (6), shared focal (1)
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
    const n = 13;
    const M = Array.from({ length: n * 20 }, rnd);
    const H = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let k = 0; k < 20; k++) s += M[i * 20 + k]! * M[j * 20 + k]!; H[i * n + j] = s + (i === j ? 0.5 : 0); }
    // make the two pose blocks independent (no A–B coupling), as in the real problem
    for (let i = 0; i < 6; i++) for (let j = 6; j < 12; j++) { H[i * n + j] = 0; H[j * n + i] = 0; }
    const b = Float64Array.from({ length: n }, rnd);
    const sys = (off: number, share: number): ViewSystem => {
      const h = new Float64Array(VIEW_PARAMS * VIEW_PARAMS), bb = new Float64Array(VIEW_PARAMS);
      const idx = [off, off + 1, off + 2, off + 3, off + 4, off + 5, 12];
      for (let i = 0; i < 7; i++) { bb[i] = i < 6 ? b[idx[i]!]! : b[12]! * share; for (let j = 0; j < 7; j++) h[i * 7 + j] = i === 6 && j === 6 ? H[12 * n + 12]! * share : H[idx[i]! * n + idx[j]!]!; }
      return { H: h, b: bb, cost: 0 };
    };
    const steps = solveCameraSteps([sys(0, 0.5), sys(6, 0.5)], [0, 0], 1, [false, false], true, { ...defaultTrainOptions.camera, damping: 0, maxRotationStep: 1e9, maxFocalStep: 1e9 });
    // dense Gaussian elimination
    const A = Array.from({ length: n }, (_, i) => [...Array.from(H.subarray(i * n, i * n + n)), b[i]!]);
    for (let c = 0; c < n; c++) for (let r = c + 1; r < n; r++) { const f = A[r]![c]! / A[c]![c]!; for (let k = c; k <= n; k++) A[r]![k]! -= f * A[c]![k]!; }
    const x = new Array<number>(n).fill(0);
    for (let r = n - 1; r >= 0; r--) { let s = A[r]![n]!; for (let k = r + 1; k < n; k++) s -= A[r]![k]! * x[k]!; x[r] = s / A[r]![r]!; }
    expect(steps.focal[0]).toBeCloseTo(x[12]!, 9);
    for (let k = 0; k < 6; k++) {
      expect(steps.pose[0]![k]).toBeCloseTo(x[k]!, 9);
      expect(steps.pose[1]![k]).toBeCloseTo(x[6 + k]!, 9);
    }
  });

  it('stepCamera composes a left-multiplied pose step and scales the focal', () => {
    const cam = { width: 10, height: 10, fx: 100, fy: 90, cx: 5, cy: 5, R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 3] };
    const c = stepCamera(cam, [0, 0, 0.01, 0.1, 0, 0, 0.02]);
    expect(c.fx).toBeCloseTo(102, 9);
    expect(c.fy).toBeCloseTo(91.8, 9);
    expect(rotationAngleDeg(c.R as number[], cam.R)).toBeCloseTo((0.01 * 180) / Math.PI, 6);
    expect(c.t[0]).toBeCloseTo(0.1, 9);
  });

  it('against the true scene, passes bring 1° / 2 % pose noise and a 2 % focal error back to the truth', async () => {
    const cap = renderSyntheticCapture({ views: 16, size: 80, seed: 3, poseNoiseDeg: 1, detail: 0.3 });
    const data = await captureTrainData(cap);
    for (const v of data.views) { v.fx *= 1.02; v.fy *= 1.02; }
    const backend = await createBackend('auto');
    const tr = new Trainer(data, backend, { ...defaultTrainOptions, refineCameras: true, refineFocal: true, maxShDegree: 0 }, cap.scene);
    const ids = data.views.filter((v) => !v.holdout).map((v) => v.index).slice(1); // the first holds the gauge
    const rotErr = () => ids.reduce((a, i) => a + rotationAngleDeg(tr.poses!.pose(i).R, cap.images[i]!.truth.R), 0) / ids.length;
    const before = rotErr();
    const costs: number[] = [];
    for (let k = 0; k < 6; k++) costs.push(await tr.refineCameras());
    const after = rotErr();
    const focalErr = Math.abs(tr.poses!.focalScale[0]! * 1.02 - 1);
    console.log(`camera passes: rotation ${before.toFixed(3)}° → ${after.toFixed(4)}°, focal error 2 % → ${(focalErr * 100).toFixed(3)} %, cost ${costs.map((c) => c.toFixed(1)).join(' → ')}`);
    expect(before).toBeGreaterThan(0.8);
    expect(after).toBeLessThan(0.1);
    expect(focalErr).toBeLessThan(0.003);
    expect(costs[costs.length - 1]!).toBeLessThan(costs[0]! * 0.1);
    tr.dispose();
  });
});

describe('r2s train --refine-cameras', () => {
  it('writes refined cameras (poses and focal) as a COLMAP model, closer to the truth than the noisy input', async () => {
    const { mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { writeSyntheticWorkspace } = await import('../src/synthetic/workspace.js');
    const { readColmapModel } = await import('../src/io/colmap.js');
    const { quatToMat } = await import('../src/geometry/rotation.js');
    const { run: trainCmd } = await import('../src/cli/commands/train.js');
    const root = mkdtempSync(path.join(os.tmpdir(), 'r2s-refine-'));
    const cap = renderSyntheticCapture({ views: 16, size: 64, seed: 3, poseNoiseDeg: 1, detail: 0.3 });
    await writeSyntheticWorkspace(root, cap);
    expect(await trainCmd(['-w', root, '--iterations', '320', '--refine-cameras', '--camera-warmup', '0.9', '--sh-degree', '0'])).toBe(0);
    const given = await readColmapModel(path.join(root, 'sparse'));
    const refined = await readColmapModel(path.join(root, 'scene', 'sparse-refined'));
    expect(refined.images.size).toBe(given.images.size);
    expect(refined.cameras.size).toBe(given.cameras.size);
    const truth = new Map(cap.images.map((i) => [i.name, i.truth.R]));
    const meanErr = (m: typeof given) => {
      const e = [...m.images.values()].map((im) => rotationAngleDeg(quatToMat(im.qvec), truth.get(im.name)!));
      return e.reduce((a, b) => a + b, 0) / e.length;
    };
    console.log(`refined cameras: ${meanErr(given).toFixed(3)}° → ${meanErr(refined).toFixed(3)}° (held-out views keep their input pose)`);
    expect(meanErr(refined)).toBeLessThan(meanErr(given) * 0.85);
    const f0 = [...given.cameras.values()][0]!.params[0]!, f1 = [...refined.cameras.values()][0]!.params[0]!;
    expect(f1).not.toBe(f0); // focal refined (one scale per camera)
    expect(Math.abs(f1 / f0 - 1)).toBeLessThan(0.02);
  });
});
