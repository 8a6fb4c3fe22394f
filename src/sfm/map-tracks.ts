/**
 * Track completion and merging (COLMAP's IncrementalTriangulator::CompleteTracks / MergeTracks).
 * triangulateImage lets a new feature join the first existing point it reprojects onto and moves
 * on: the feature's other correspondences (untriangulated features of registered images, or
 * features of a different point) are left out, and tracks stay short (moldGoldCape: mean 2.8
 * observations against COLMAP's median 4; its close-up of a repetitive pattern kept 8–20 tracks of
 * ≥ 3 views). Here a point gains every correspondence of its observations, transitively, that
 * reprojects within the gate (one observation per image), and two points linked by a
 * correspondence become one when one position explains both tracks and no image sees both.
 */
import type { MapState, Pt } from './map-state.js';

interface TrackStats {
  completed: number;
  merged: number;
}

/** Complete, then merge, the given points (all of them when null); returns what changed. */
export function completeAndMergeTracks(s: MapState, pointIds: Iterable<number> | null, maxError = s.opts.maxError): TrackStats {
  const ids = [...(pointIds ?? s.points.keys())];
  let completed = 0, merged = 0;
  for (const id of ids) completed += completeTrack(s, id, maxError);
  for (const id of ids) merged += mergeTrack(s, id, maxError);
  return { completed, merged };
}

/** Add to point id the registered, untriangulated correspondences of its observations that reproject within maxError. */
function completeTrack(s: MapState, id: number, maxError = s.opts.maxError): number {
  const p = s.points.get(id);
  if (!p) return 0;
  let added = 0;
  // an observation added here has correspondences of its own: forEachLinked follows them too
  forEachLinked(s, p, (j, g) => {
    if (!s.isRegistered(j) || s.pointOf[j]![g]! >= 0 || observes(p, j)) return;
    if (!(s.reprojError(j, g, p.X) <= maxError)) return;
    p.obs.push([j, g]);
    s.pointOf[j]![g] = id;
    added++;
  });
  return added;
}

/**
 * Merge into point id every point linked to it by a correspondence when no image observes both
 * and one position (the track-weighted mean, either point's, or a triangulation of all views)
 * reprojects every observation within maxError. Returns the observations moved.
 */
function mergeTrack(s: MapState, id: number, maxError = s.opts.maxError): number {
  const p = s.points.get(id);
  if (!p) return 0;
  let moved = 0;
  // p.obs grows as points merge into p: forEachLinked follows their correspondences too
  forEachLinked(s, p, (j, g) => {
    const other = s.isRegistered(j) ? s.pointOf[j]![g]! : -1;
    if (other < 0 || other === id) return;
    if (triedBefore(s, id, other)) return;
    const q = s.points.get(other)!;
    if (sharesImage(p, q)) return;
    const X = mergedPosition(s, p, q, maxError);
    if (!X) return;
    moved += q.obs.length;
    s.mergePoints(id, other, X);
  });
  return moved;
}

/** Calls visit(image, feature) for each correspondence of each observation of p, observations added meanwhile included. */
function forEachLinked(s: MapState, p: Pt, visit: (j: number, g: number) => void): void {
  for (let o = 0; o < p.obs.length; o++) {
    const [img, f] = p.obs[o]!;
    const list = s.corr[img]!.get(f);
    if (!list) continue;
    for (let k = 0; k < list.length; k += 2) visit(list[k]!, list[k + 1]!);
  }
}

// Pairs of points whose merge was tried (COLMAP's merge_trials_): a pair linked by many
// correspondences, or met again in each later pass, is tried once. On kitti_odom06 the repeated
// failures made merging the larger share of 1.6–2.6 s spent here. A pair refused while its points
// were still moving is not retried: COLMAP accepts that too.
const mergeTrials = new WeakMap<MapState, Map<number, Set<number>>>();

/** Whether merging points a and b was tried already; records the try. */
function triedBefore(s: MapState, a: number, b: number): boolean {
  let trials = mergeTrials.get(s);
  if (!trials) mergeTrials.set(s, (trials = new Map()));
  const lo = Math.min(a, b), hi = Math.max(a, b);
  let set = trials.get(lo);
  if (!set) trials.set(lo, (set = new Set()));
  if (set.has(hi)) return true;
  set.add(hi);
  return false;
}

function sharesImage(p: Pt, q: Pt): boolean {
  for (const ob of q.obs) if (observes(p, ob[0])) return true;
  return false;
}

function observes(p: Pt, img: number): boolean {
  for (const ob of p.obs) if (ob[0] === img) return true;
  return false;
}

/** The candidate position with the least squared reprojection error, all within maxError; null if none. */
function mergedPosition(s: MapState, p: Pt, q: Pt, maxError: number): [number, number, number] | null {
  const a = p.obs.length, b = q.obs.length;
  const mean: [number, number, number] = [0, 1, 2].map((c) => (a * p.X[c]! + b * q.X[c]!) / (a + b)) as [number, number, number];
  const best: { X: [number, number, number] | null; cost: number } = { X: null, cost: Infinity };
  const tryX = (X: [number, number, number]): void => {
    let cost = 0;
    for (const obs of [p.obs, q.obs]) {
      for (const [img, f] of obs) {
        const e = s.reprojError(img, f, X);
        if (!(e <= maxError)) return;
        cost += e * e;
      }
    }
    if (cost < best.cost) { best.cost = cost; best.X = X; }
  };
  tryX(mean);
  tryX(p.X);
  tryX(q.X);
  if (!best.X) {
    // neither position explains both tracks: a triangulation of all views may (checked at this gate too)
    const X = s.triangulate([...p.obs, ...q.obs]);
    if (X) tryX(X);
  }
  return best.X;
}
