/**
 * A trainer's complete state as checkpoint bytes (checkpoint.ts container): parameters, Adam
 * moments and step counts per group of the parameter-group table, densification statistics, the
 * photometric model and its optimiser, the refined cameras, the RNG and the view order — every
 * bit, so `--resume` continues exactly — plus the run's identity (run-identity.ts).
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { packArrays, unpackArrays, type Arr } from './checkpoint.js';
import { GradStats } from './densify.js';
import type { PhotometricModel } from '../photometric.js';
import type { Rng } from '../../util/rng.js';
import type { CameraRefiner } from './camera-passes.js';
import { PARAM_GROUPS, type AdamGroups, type ParamGroup } from './param-groups.js';
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

/** The run a checkpoint belongs to (null: written before checkpoints carried one), its step. */
export function checkpointRun(bytes: Uint8Array): { run: RunIdentity | null; step: number } {
  const { meta } = unpackArrays<Meta>(bytes, { metaOnly: true });
  return { run: meta.run ?? null, step: meta.step };
}

/** Restore everything serializeState saved; the state must be built on the same data and options. */
export function restoreState(s: CheckpointedState, bytes: Uint8Array): void {
  const { meta, arrays } = unpackArrays<Meta>(bytes);
  if (meta.views.join('\n') !== s.viewNames.join('\n')) throw new Error('checkpoint was made for a different set of images');
  if (s.identity && meta.run && meta.run.id !== s.identity.id) throw new Error(`checkpoint belongs to another run (${meta.run.id}, this is ${s.identity.id})`);
  const f32 = (k: string) => {
    const a = arrays[k];
    if (!(a instanceof Float32Array)) throw new Error(`checkpoint lacks ${k}`);
    return a;
  };
  s.params = {
    count: meta.count,
    means: f32('p.means'), logScales: f32('p.logScales'), quats: f32('p.quats'), opacityLogits: f32('p.opacityLogits'), sh: f32('p.sh'),
  };
  for (const k of PARAM_GROUPS) s.adam[k].load({ m: f32(`m.${k}`), v: f32(`v.${k}`), t: meta.adamT[k] });
  s.stats = new GradStats(meta.count);
  s.stats.sum = f32('stats.sum');
  s.stats.count = f32('stats.count');
  const ph = s.photometric;
  if (ph) {
    if (!meta.phT) throw new Error('checkpoint has no photometric state; resume with the same --photometric setting');
    for (const k of PH_KEYS) {
      ph[k].set(f32(`ph.${k}`));
      ph.adam[k].load({ m: f32(`ph.m.${k}`), v: f32(`ph.v.${k}`), t: meta.phT[k]! });
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
