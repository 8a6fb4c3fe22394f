/**
 * Write a synthetic capture as a workspace: images/*.png, priors.json, sparse/ (COLMAP text and
 * binary, with the given — possibly noisy — poses and the exact 3D points with tracks), and
 * synthetic-truth.json with the true poses and photometric changes.
 */
import path from 'node:path';
import { writeJsonAtomic } from '../util/fsx.js';
import { writeColmapModel } from '../io/colmap.js';
import { emptyModel, type SparseModel } from '../core/sparse-model.js';
import { matToQuat } from '../geometry/rotation.js';
import type { Priors } from '../ingest/priors.js';
import { writePng } from '../scene/image-io.js';
import { syntheticPoints, type SynthCapture } from './generate.js';
import type { SynthIntrinsics } from './cameras.js';
import { buildTrainData, type TrainData } from '../scene/dataset.js';

export interface SyntheticTruth {
  version: 1;
  options: SynthCapture['options'];
  camera: SynthCapture['intrinsics'];
  gaussians: number;
  images: { name: string; qvec: [number, number, number, number]; tvec: [number, number, number]; ev: number; wb: [number, number, number] }[];
}

export function captureToModel(cap: SynthCapture, which: 'given' | 'truth' = 'given'): SparseModel {
  const k = cap.intrinsics;
  const model = emptyModel();
  model.cameras.set(1, { id: 1, model: 'PINHOLE', width: k.width, height: k.height, params: [k.fx, k.fy, k.cx, k.cy] });
  const pts = syntheticPoints(cap);
  const obs: { xys: number[]; ids: number[] }[] = cap.images.map(() => ({ xys: [], ids: [] }));
  pts.forEach((p, i) => {
    const id = i + 1;
    const track = p.track.map((o) => {
      const list = obs[o.image]!;
      list.xys.push(o.x, o.y);
      list.ids.push(id);
      return { imageId: o.image + 1, point2DIdx: list.ids.length - 1 };
    });
    model.points3D.set(id, { id, xyz: p.xyz, rgb: p.rgb.map((c) => Math.round(c * 255)) as [number, number, number], error: 0, track });
  });
  cap.images.forEach((im, i) => {
    const pose = im[which];
    model.images.set(i + 1, {
      id: i + 1,
      cameraId: 1,
      name: im.name,
      qvec: matToQuat(pose.R),
      tvec: [...pose.t] as [number, number, number],
      xys: Float64Array.from(obs[i]!.xys),
      point3DIds: obs[i]!.ids,
    });
  });
  return model;
}

/** Where a synthetic capture is written. */
export interface SyntheticPaths {
  imagesDir: string;
  priorsPath: string;
  sparseDir: string;
  truthPath: string;
}

/** priors.json of a synthetic capture: every image with the exact focal, as a user would give it. */
export function syntheticPriors(label: string, names: string[], k: SynthIntrinsics): Priors {
  return {
    version: 1,
    input: { kind: 'photos', path: label },
    images: names.map((name) => ({
      name, width: k.width, height: k.height, cameraKey: `synthetic|${k.width}x${k.height}`,
      focalPx: k.fx, focalSource: 'user', make: 'r2s', model: label, source: `synthetic:${name}`,
    })),
    dropped: [],
  };
}

/** Write images, priors, the COLMAP model (given poses) and the truth. */
export async function writeSyntheticCapture(cap: SynthCapture, out: SyntheticPaths): Promise<void> {
  const k = cap.intrinsics;
  for (const im of cap.images) await writePng(path.join(out.imagesDir, im.name), im.rgb, k.width, k.height);
  await writeJsonAtomic(out.priorsPath, syntheticPriors('synthetic', cap.images.map((im) => im.name), k));
  await writeColmapModel(out.sparseDir, captureToModel(cap, 'given'));
  const truth: SyntheticTruth = {
    version: 1,
    options: cap.options,
    camera: k,
    gaussians: cap.scene.count,
    images: cap.images.map((im) => ({ name: im.name, qvec: matToQuat(im.truth.R), tvec: [...im.truth.t] as [number, number, number], ev: im.ev, wb: im.wb })),
  };
  await writeJsonAtomic(out.truthPath, truth);
}

/**
 * A synthetic capture as a workspace folder, without a stage record: for tests and benches that
 * need one quickly. (`r2s synth` — src/stages/synth.ts — is the recorded, locked form; the layout
 * here must match src/pipeline/workspace.ts.)
 */
export async function writeSyntheticWorkspace(root: string, cap: SynthCapture): Promise<{ root: string }> {
  const abs = path.resolve(root);
  await writeSyntheticCapture(cap, {
    imagesDir: path.join(abs, 'images'),
    priorsPath: path.join(abs, 'priors.json'),
    sparseDir: path.join(abs, 'sparse'),
    truthPath: path.join(abs, 'synthetic-truth.json'),
  });
  return { root: abs };
}

/** TrainData straight from an in-memory capture (tests and benches skip the PNG round trip). */
export async function captureTrainData(cap: SynthCapture): Promise<TrainData> {
  const byName = new Map(cap.images.map((i) => [i.name, i]));
  const { width, height } = cap.intrinsics;
  return buildTrainData(captureToModel(cap, 'given'), async (name) => ({ width, height, data: byName.get(name)!.rgb }));
}
