/**
 * A trainer's complete state as checkpoint bytes (checkpoint.ts container): parameters, Adam
 * moments and step counts per group of the parameter-group table, densification statistics, the
 * photometric model and its optimiser, the refined cameras, the RNG and the view order — every
 * bit, so `--resume` continues exactly — plus the run's identity (run-identity.ts). Restoring
 * checks every count, length and value first (a damaged or foreign file is a CheckpointFormatError;
 * NaN/Inf state is refused, not trained on).
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { CheckpointFormatError, packArrays, unpackArrays, type Arr } from './checkpoint.js';
import { GradStats } from './densify.js';
import type { PhotometricModel } from '../photometric.js';
import type { Rng } from '../../util/rng.js';
import type { CameraRefiner } from './camera-passes.js';
import { PARAM_GROUPS, PARAM_ROW, type AdamGroups, type ParamGroup } from './param-groups.js';
import type { RunIdentity } from './run-identity.js';

const PH_KEYS = ['ev', 'wb', 'vig', 'resp'] as const;

/** What a checkpoint saves and restores (the Trainer satisfies it). */
export interface CheckpointedState {
  params: GaussianParams;
  readonly adam: AdamGroups;
  stats: GradStats;
  readonly rng: Rng;
  step: number;
  order: number[];
  orderPos: number;
  readonly photometric: PhotometricModel | null;
  readonly poses: CameraRefiner | null;
  readonly viewNames: string[];
  readonly options: unknown;
  readonly identity: RunIdentity | null;
}

interface Meta {
  version: number;
  step: number;
  count: number;
  rng: number;
  order: number[];
  orderPos: number;
  adamT: Record<ParamGroup, number>;
  phT: Record<string, number> | null;
  cameras: boolean;
  views: string[];
  /** absent in version-2 checkpoints */
  run?: RunIdentity;
}

export function serializeState(s: CheckpointedState): Uint8Array {
  const arrays: Record<string, Arr> = {};
  for (const k of PARAM_GROUPS) {
    arrays[`p.${k}`] = s.params[k];
    arrays[`m.${k}`] = s.adam[k].m;
    arrays[`v.${k}`] = s.adam[k].v;
  }
  arrays['stats.sum'] = s.stats.sum;
  arrays['stats.count'] = s.stats.count;
  const ph = s.photometric;
  if (ph) {
    for (const k of PH_KEYS) {
      arrays[`ph.${k}`] = ph[k];
      arrays[`ph.m.${k}`] = ph.adam[k].m;
      arrays[`ph.v.${k}`] = ph.adam[k].v;
    }
  }
  if (s.poses) {
    arrays['pose.R'] = s.poses.R;
    arrays['pose.t'] = s.poses.t;
    arrays['pose.focal'] = s.poses.focalScale;
  }
  const meta: Meta & { options: unknown } = {
    version: 3,
    step: s.step,
    count: s.params.count,
    rng: s.rng.state,
    order: s.order,
    orderPos: s.orderPos,
    adamT: Object.fromEntries(PARAM_GROUPS.map((k) => [k, s.adam[k].t])) as Record<ParamGroup, number>,
    phT: ph ? Object.fromEntries(PH_KEYS.map((k) => [k, ph.adam[k].t])) : null,
    cameras: s.poses !== null,
    options: s.options,
    views: s.viewNames,
    ...(s.identity ? { run: s.identity } : {}),
  };
  return packArrays(meta, arrays);
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** The header fields a checkpoint must have, with sane values. */
function checkMeta(meta: Meta): void {
  const bad = (what: string): never => { throw new CheckpointFormatError(what); };
  if (!isInt(meta.step)) bad(`step ${String(meta.step)}`);
  if (!isInt(meta.count)) bad(`Gaussian count ${String(meta.count)}`);
  if (!Array.isArray(meta.views) || !meta.views.every((v) => typeof v === 'string')) bad('no list of views');
  if (!Array.isArray(meta.order) || !meta.order.every((v) => isInt(v) && v < meta.views.length)) bad('a view order outside the views');
  if (!isInt(meta.orderPos) || meta.orderPos > meta.order.length) bad(`order position ${String(meta.orderPos)}`);
  if (typeof meta.rng !== 'number' || !Number.isFinite(meta.rng)) bad(`random state ${String(meta.rng)}`);
  if (!meta.adamT || typeof meta.adamT !== 'object' || !PARAM_GROUPS.every((k) => isInt(meta.adamT[k]))) bad('optimiser step counts');
  if (meta.phT !== null && (typeof meta.phT !== 'object' || !Object.values(meta.phT).every((t) => isInt(t)))) bad('photometric step counts');
  if (meta.run !== undefined && (!meta.run || typeof meta.run !== 'object' || typeof meta.run.id !== 'string')) bad('run identity');
}

/** The run a checkpoint belongs to (null: written before checkpoints carried one), its step. */
export function checkpointRun(bytes: Uint8Array): { run: RunIdentity | null; step: number } {
  const { meta } = unpackArrays<Meta>(bytes, { metaOnly: true });
  if (!isInt(meta.step)) throw new CheckpointFormatError(`step ${String(meta.step)}`);
  if (meta.run !== undefined && (!meta.run || typeof meta.run !== 'object' || typeof meta.run.id !== 'string')) throw new CheckpointFormatError('run identity');
  return { run: meta.run ?? null, step: meta.step };
}

/** Restore everything serializeState saved; the state must be built on the same data and options. */
export function restoreState(s: CheckpointedState, bytes: Uint8Array): void {
  const { meta, arrays } = unpackArrays<Meta>(bytes);
  checkMeta(meta);
  if (meta.views.join('\n') !== s.viewNames.join('\n')) throw new Error('checkpoint was made for a different set of images');
  if (s.identity && meta.run && meta.run.id !== s.identity.id) throw new Error(`checkpoint belongs to another run (${meta.run.id}, this is ${s.identity.id})`);
  // every array is checked (length, finite values) before any of the state is replaced
  const arr = <T extends Arr>(k: string, type: new (n: number) => T, length: number): T => {
    const a = arrays[k];
    if (!(a instanceof type)) throw new CheckpointFormatError(`lacks ${k}`);
    if (a.length !== length) throw new CheckpointFormatError(`${k} holds ${a.length} values, ${length} expected`);
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw new CheckpointFormatError(`${k}[${i}] is ${a[i]} (the run had diverged when it was written)`);
    return a as T;
  };
  const n = meta.count;
  const f32 = (k: string, length: number) => arr(k, Float32Array, length);
  for (const k of PARAM_GROUPS) for (const pre of ['p', 'm', 'v']) f32(`${pre}.${k}`, n * PARAM_ROW[k]);
  f32('stats.sum', n);
  f32('stats.count', n);
  const ph0 = s.photometric;
  if (ph0 && meta.phT) for (const k of PH_KEYS) for (const pre of ['ph.', 'ph.m.', 'ph.v.']) f32(`${pre}${k}`, ph0[k].length);
  if (s.poses && meta.cameras) {
    arr('pose.R', Float64Array, s.poses.R.length);
    arr('pose.t', Float64Array, s.poses.t.length);
    arr('pose.focal', Float64Array, s.poses.focalScale.length);
  }
  const get = (k: string) => arrays[k] as Float32Array;
  s.params = {
    count: meta.count,
    means: get('p.means'), logScales: get('p.logScales'), quats: get('p.quats'), opacityLogits: get('p.opacityLogits'), sh: get('p.sh'),
  };
  for (const k of PARAM_GROUPS) s.adam[k].load({ m: get(`m.${k}`), v: get(`v.${k}`), t: meta.adamT[k] });
  s.stats = new GradStats(meta.count);
  s.stats.sum = get('stats.sum');
  s.stats.count = get('stats.count');
  const ph = s.photometric;
  if (ph) {
    if (!meta.phT) throw new Error('checkpoint has no photometric state; resume with the same --photometric setting');
    for (const k of PH_KEYS) {
      ph[k].set(get(`ph.${k}`));
      ph.adam[k].load({ m: get(`ph.m.${k}`), v: get(`ph.v.${k}`), t: meta.phT[k]! });
    }
  }
  if (s.poses) {
    if (!meta.cameras) throw new Error('checkpoint has no camera refinement state; resume with the same --refine-cameras setting');
    s.poses.R.set(arrays['pose.R'] as Float64Array);
    s.poses.t.set(arrays['pose.t'] as Float64Array);
    s.poses.focalScale.set(arrays['pose.focal'] as Float64Array);
  }
  s.step = meta.step;
  s.rng.state = meta.rng;
  s.order = meta.order;
  s.orderPos = meta.orderPos;
}
