/**
 * How well the views pin down a self-calibrated focal: the reprojection cost of the whole model
 * re-adjusted (poses and points, intrinsics fixed) at focals around the refined one. The bundle
 * adjuster's standard deviation is a local (curvature) measure at the minimum; on a
 * forward-facing capture the cost can stay within noise over ±30 % of focal while the curvature
 * at the minimum still looks tight. The profile is the global measure the report uses.
 */
import { adjust } from './map-adjust.js';
import type { MapState } from './map-state.js';
import { intrinsicIndices } from '../geometry/camera-model.js';

export interface FocalProfilePoint { focalPx: number; cost: number }

/** Cost (robust, BA units) of the model re-adjusted with camera c's focal fixed at each of `factors` × its focal. State restored afterwards. */
export function focalProfile(s: MapState, c: number, factors: readonly number[], iterations = 20): FocalProfilePoint[] {
  const cams = s.input.cameras;
  const before = cams.map((k) => ({ ...k, params: k.params.slice() }));
  const snap = s.snapshot();
  const { fx, fy } = intrinsicIndices(cams[c]!.model);
  const f0 = before[c]!.params[fx]!;
  const out: FocalProfilePoint[] = [];
  for (const k of factors) {
    s.restore(cloneSnap(snap), before);
    const p = cams[c]!.params.slice();
    p[fx] = f0 * k;
    if (fy !== fx) p[fy] = before[c]!.params[fy]! * k;
    cams[c]!.params = p;
    const r = adjust(s, null, null, iterations, 1e-6);
    out.push({ focalPx: f0 * k, cost: r ? r.finalCost : NaN });
  }
  s.restore(snap, before);
  return out;
}

function cloneSnap(sn: ReturnType<MapState['snapshot']>): ReturnType<MapState['snapshot']> {
  return {
    R: sn.R.map((r) => r?.slice() ?? null), t: sn.t.map((v) => v?.slice() ?? null),
    points: new Map([...sn.points].map(([id, p]) => [id, { X: [...p.X] as [number, number, number], obs: p.obs.map((ob) => [ob[0], ob[1]] as [number, number]) }])),
    pointOf: sn.pointOf.map((a) => a.slice()),
  };
}
