/**
 * A training run's identity: a hash of its inputs (the training views — cameras, poses, pixels at
 * training size — and the initial points, i.e. sparse model + images as trained on), of the
 * options that shape the result, and of the seed. Checkpoints carry it, and a checkpoint is resumed
 * only by the run that wrote it: resuming with other options or inputs would continue a different
 * optimisation (e.g. a 1000-step schedule cut at step 600 and reported as a 30-step run).
 */
import { createHash } from 'node:crypto';
import type { TrainData } from '../dataset.js';
import { HOW_NOT_WHAT, type TrainOptions } from './options.js';

export interface RunIdentity {
  /** short hash of everything below; names the run's checkpoint files */
  id: string;
  /** hash of the training inputs */
  inputs: string;
  /** the options that shape the run (seed included) */
  options: Record<string, unknown>;
  seed: number;
}

/** JSON with sorted keys. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function hashTrainInputs(data: TrainData): string {
  const h = createHash('sha256');
  const bytes = (a: ArrayBufferView) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  h.update(stable({ cameraIds: data.cameraIds, extent: data.extent, center: data.center }));
  for (const v of data.views) {
    const { target, ...meta } = v;
    h.update(stable(meta));
    bytes(target);
  }
  if (data.points) for (const a of Object.values(data.points)) if (ArrayBuffer.isView(a)) bytes(a);
  return h.digest('hex').slice(0, 32);
}

/** Only TrainOptions fields count (callers pass supersets with output paths, backends, …). */
const TRAIN_OPTION_KEYS: Record<keyof TrainOptions, true> = {
  iterations: true, seed: true, maxShDegree: true, photometric: true, refineCameras: true, strategy: true, maxGaussians: true,
  densify: true, background: true, lambdaDssim: true, lrs: true, randomInitCount: true, antialiased: true, refineFocal: true,
  cameraRefineEvery: true, cameraRefineStart: true, cameraWarmup: true, camera: true, resident: true, lossEvery: true, residentCheckEvery: true,
};

export function runIdentity(data: TrainData, o: TrainOptions, inputsHash = hashTrainInputs(data)): RunIdentity {
  const options = Object.fromEntries(Object.entries(o).filter(([k]) => k in TRAIN_OPTION_KEYS && !HOW_NOT_WHAT.includes(k as keyof TrainOptions)));
  const id = createHash('sha256').update(stable({ inputs: inputsHash, options, seed: o.seed })).digest('hex').slice(0, 12);
  return { id, inputs: inputsHash, options, seed: o.seed };
}

/** Why `theirs` is another run than `ours`, in a few words; null when it is the same run. */
export function identityDifference(ours: RunIdentity, theirs: RunIdentity | null | undefined): string | null {
  if (!theirs) return 'written before checkpoints carried their run';
  if (theirs.id === ours.id) return null;
  const parts: string[] = [];
  if (theirs.inputs !== ours.inputs) parts.push('other images or sparse model');
  const keys = [...new Set([...Object.keys(ours.options), ...Object.keys(theirs.options)])].sort();
  for (const k of keys) {
    const a = stable(theirs.options[k]), b = stable(ours.options[k]);
    if (a !== b) parts.push(`${k} ${a.length > 24 ? '…' : a} → ${b.length > 24 ? '…' : b}`);
  }
  return parts.length ? parts.join(', ') : `run ${theirs.id}, this is ${ours.id}`;
}
