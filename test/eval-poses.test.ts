import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { evaluatePoses, loadGroundTruthW2C, nearestRotation } from '../src/eval/poses.js';
import { emptyModel, type SparseModel } from '../src/core/sparse-model.js';
import { expSO3, matMul3, matToQuat, matVec3, transpose3 } from '../src/geometry/rotation.js';
import { UserError } from '../src/util/errors.js';
import { rng } from './geometry-helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const gtFile = path.resolve(repoRoot, '../shared/datasets/strecha_fountain-P11/gt/cameras_w2c.json');
const poseeval = path.resolve(repoRoot, '../shared/tools/poseeval.mjs');
const haveGt = fs.existsSync(gtFile);

/**
 * The GT cameras expressed in another frame (X' = s S X + T): w2c R' = R Sᵀ, t' = s t − R' T;
 * each image additionally rotated by rotDeg[i] about a random axis and its centre moved by dC[i].
 */
function perturbedModel(gt: ReturnType<typeof loadGroundTruthW2C>, rotDeg: number[], dC: number[][], seed = 1): SparseModel {
  const g = rng(seed);
  const S = expSO3([0.4, -1.1, 0.7]), s = 0.37, T = [3, -2, 5];
  const m = emptyModel();
  m.cameras.set(1, { id: 1, model: 'SIMPLE_PINHOLE', width: 3072, height: 2048, params: [2759.48 * 1.01, 1536, 1024] });
  [...gt.entries()].forEach(([name, c], i) => {
    const C = matVec3(transpose3(c.R), c.t).map((v) => -v);
    const Cp = C.map((v, k) => v + (dC[i]?.[k] ?? 0));
    const axis = [g.normal(), g.normal(), g.normal()], an = Math.hypot(...axis);
    const w = axis.map((v) => (v / an) * ((rotDeg[i] ?? 0) * Math.PI) / 180);
    const R = matMul3(expSO3(w), matMul3(nearestRotation(c.R), transpose3(S)));
    const Cn = matVec3(S, Cp).map((v, k) => s * v + T[k]!);
    const t = matVec3(R, Cn).map((v) => -v);
    m.images.set(i + 1, { id: i + 1, cameraId: 1, name: `images/${name}`, qvec: matToQuat(R), tvec: t as [number, number, number], xys: new Float64Array(), point3DIds: [] });
  });
  return m;
}

function writeColmapText(m: SparseModel, dir: string) {
  const cams = [...m.cameras.values()].map((c) => `${c.id} ${c.model} ${c.width} ${c.height} ${c.params.join(' ')}`);
  const ims = [...m.images.values()].flatMap((im) => [`${im.id} ${im.qvec.join(' ')} ${im.tvec.join(' ')} ${im.cameraId} ${im.name}`, '']);
  fs.writeFileSync(path.join(dir, 'cameras.txt'), cams.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'images.txt'), ims.join('\n') + '\n');
}

describe.skipIf(!haveGt)('evaluatePoses on fountain-P11 ground truth', () => {
  const gt = haveGt ? loadGroundTruthW2C(gtFile) : new Map();

  it('a similarity-transformed copy has zero error and the inverse scale', () => {
    const r = evaluatePoses(perturbedModel(gt, [], []), gt);
    expect(r.registered).toBe(11);
    expect(r.total).toBe(11);
    expect(r.rotErrDeg.max).toBeLessThan(1e-5);
    expect(r.centerErr.max).toBeLessThan(1e-6);
    expect(r.scale).toBeCloseTo(1 / 0.37, 6);
    expect(r.focalRelErr!.mean).toBeCloseTo(0.01, 6);
  });

  it('rotation and centre perturbations are reported per image', () => {
    const rot = [0.1, 0, 0.3, 0, 0, 0.05, 0, 0, 0, 0, 0];
    const r = evaluatePoses(perturbedModel(gt, rot, []), gt);
    r.perImage.forEach((p, i) => expect(p.rotErrDeg).toBeCloseTo(rot[i]!, 6));
    expect(r.rotErrDeg.mean).toBeCloseTo(rot.reduce((a, b) => a + b, 0) / 11, 6);
    // One centre moved by 0.5 m: with a 10 % refit that image is left out of the fit, so its error is ~0.5.
    const dC = Array.from({ length: 11 }, (_, i) => (i === 4 ? [0.3, 0.4, 0] : [0, 0, 0]));
    const r2 = evaluatePoses(perturbedModel(gt, [], dC), gt);
    expect(r2.perImage[4]!.centerErr).toBeCloseTo(0.5, 6);
    expect(r2.perImage[0]!.centerErr).toBeLessThan(1e-6);
  });

  it('agrees with poseeval.mjs', () => {
    if (!fs.existsSync(poseeval)) return;
    const g = rng(5);
    const rot = Array.from({ length: 11 }, () => g.uniform(0, 0.2));
    const dC = Array.from({ length: 11 }, () => [g.normal() * 0.02, g.normal() * 0.02, g.normal() * 0.02]);
    const m = perturbedModel(gt, rot, dC, 3);
    for (const alignRotationsOnly of [false, true]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2s-poseeval-'));
      try {
        writeColmapText(m, dir);
        const args = [poseeval, '--est', dir, '--gt', gtFile, '--json', ...(alignRotationsOnly ? ['--align-rotations'] : [])];
        const ref = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
        const r = evaluatePoses(m, gt, { alignRotationsOnly });
        expect(r.registered).toBe(ref.registered);
        expect(r.rotErrDeg.mean).toBeCloseTo(ref.rot_deg.mean, 6);
        expect(r.rotErrDeg.max).toBeCloseTo(ref.rot_deg.max, 6);
        expect(r.centerErr.mean).toBeCloseTo(ref.centre.mean, 6);
        expect(r.centerErr.median).toBeCloseTo(ref.centre.median, 6);
        expect(r.centerErrRel.mean).toBeCloseTo(ref.centre_norm_mean, 6);
        expect(r.scale).toBeCloseTo(ref.scale, 6);
        expect(r.alignedBy).toBe(ref.aligned_by);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('collinear GT centres are aligned by rotations', () => {
    // Three cameras on a line (drive-like): only the orientations fix the roll about it.
    const line = new Map([0, 1, 2, 3].map((i) => [`${i}.jpg`, { R: expSO3([0, 0.1 * i, 0]), t: matVec3(expSO3([0, 0.1 * i, 0]), [-i, 0, 0]).map((v) => v) }]));
    const m = emptyModel();
    [...line.entries()].forEach(([name, c], i) => m.images.set(i, { id: i, cameraId: 1, name, qvec: matToQuat(c.R), tvec: c.t as [number, number, number], xys: new Float64Array(), point3DIds: [] }));
    const r = evaluatePoses(m, line);
    expect(r.alignedBy).toBe('rotations');
    expect(r.rotErrDeg.max).toBeLessThan(1e-6);
    expect(r.centerErr.max).toBeLessThan(1e-9);
  });
});

describe('loadGroundTruthW2C', () => {
  it('throws a UserError naming the file for bad input', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2s-gt-'));
    try {
      const f = path.join(dir, 'cameras_w2c.json');
      fs.writeFileSync(f, '{"images": {"a.jpg": {"R": [[1,0,0],[0,1,0]], "t": [0,0,0]}}}');
      expect(() => loadGroundTruthW2C(f)).toThrow(UserError);
      expect(() => loadGroundTruthW2C(f)).toThrow(/a\.jpg/);
      fs.writeFileSync(f, 'not json');
      expect(() => loadGroundTruthW2C(f)).toThrow(/not JSON/);
      expect(() => loadGroundTruthW2C(path.join(dir, 'missing.json'))).toThrow(/ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
