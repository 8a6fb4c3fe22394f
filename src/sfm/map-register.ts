/**
 * Growing the incremental model: the initial pair (best-conditioned verified pair, relative pose
 * from the essential matrix, its points), the order in which the other images are tried (most
 * existing points seen first), registering one (PnP on its 2D–3D correspondences), and extending
 * and creating tracks through a registered image (triangulation).
 */
import { estimateEssential } from '../geometry/ransac.js';
import { estimatePnP } from '../geometry/pnp.js';
import { hasParallax } from './low-parallax.js';
import { adjust, filterPoints } from './map-adjust.js';
import type { MapState } from './map-state.js';
import type { TwoViewGeometry } from './types.js';
import { gatherPoints } from './verify.js';

// ---------------------------------------------------------------- initialisation

/**
 * Power of the initial pair's triangulation angle (relative to 6°) in its score when the focal is a
 * guess. Two views a degree or so apart barely constrain the focal: the first global adjustments
 * (3–5 images, focal free) then move it along a flat valley, the points triangulated and PnP poses
 * built on it lock it there, and nothing later pulls it back. llff_flower (25 images, no EXIF,
 * guess 847 px, COLMAP 592.5 px): power 1 picked 016–017 (3050 inliers, 1.3°), the focal went
 * 847 → 933 → 1021 → … 1045 px with 4904 points; power 2 picks 001–016 (998 inliers, 3.1°), the
 * first global adjustment brings it to 547 px and the model ends at ~600 px with 11561 points (the
 * same model as when starting from 592.5 px). Power 3 prefers a pair with 282 inliers (5.2°): too few
 * points to hold the model, focal 1006 px. A known or EXIF focal keeps power 1 (unchanged models).
 */
const GUESSED_FOCAL_ANGLE_POWER = 2;

export function initialize(s: MapState): [number, number] | null {
  // the model grows in the largest connected group; the others are reported
  let largest = 0;
  for (let c = 1; c < s.componentSizes.length; c++) if (s.componentSizes[c]! > s.componentSizes[largest]!) largest = c;
  const cands: Array<{ p: number; score: number }> = [];
  // a guessed focal (no EXIF, no --intrinsics) is refined from the first global adjustments on: the
  // initial pair's angle then decides where it goes, so weigh the angle more (GUESSED_FOCAL_ANGLE_POWER)
  const power = !s.input.trustedFocal && s.selfCalibrating() ? GUESSED_FOCAL_ANGLE_POWER : 1;
  for (let p = 0; p < s.input.pairs.length; p++) {
    const g = s.input.geoms[p]!;
    if (s.component[s.input.pairs[p]!.i] !== largest) continue;
    if (g.config === 'degenerate' || g.inliers.length < 2 * 50) continue;
    // a 'panoramic' pair (homography, angle < 1°) of a forward-facing capture may still show depth
    if (g.config === 'panoramic' && (g.parallaxRatio === undefined || !hasParallax(g, s.opts.parallax))) continue;
    const tri = g.triAngleDeg ?? 4;
    // prefer many inliers and a wide baseline; homographic pairs only as a last resort
    const score = (g.inliers.length / 2) * Math.min(1, tri / 6) ** power * (g.config === 'planar' || g.config === 'panoramic' ? 0.3 : 1);
    cands.push({ p, score });
  }
  cands.sort((a, b) => b.score - a.score);
  for (const { p } of cands.slice(0, 8)) {
    const { i, j } = s.input.pairs[p]!;
    if (tryInitialPair(s, i, j, s.input.geoms[p]!)) return [i, j];
  }
  return null;
}

function tryInitialPair(s: MapState, i: number, j: number, g: TwoViewGeometry): boolean {
  const f1 = s.input.feats[i]!, f2 = s.input.feats[j]!;
  const x1 = gatherPoints(f1, g.inliers, 2, 0), x2 = gatherPoints(f2, g.inliers, 2, 1);
  const E = estimateEssential(x1, x2, s.cam(i), s.cam(j), { maxError: s.opts.maxError, confidence: 0.9999, maxIterations: 5000, seed: s.opts.seed });
  if (!E || E.numInliers < 50) return false;
  s.R[i] = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  s.t[i] = [0, 0, 0];
  s.R[j] = E.R.slice();
  s.t[j] = E.t.slice();
  let made = 0;
  for (let k = 0; k < g.inliers.length / 2; k++) {
    if (!E.inliers[k]) continue;
    const a = g.inliers[2 * k]!, b = g.inliers[2 * k + 1]!;
    if (s.pointOf[i]![a]! >= 0 || s.pointOf[j]![b]! >= 0) continue;
    const X = s.triangulate([[i, a], [j, b]]);
    if (X) { s.addPoint(X, [[i, a], [j, b]]); made++; }
  }
  if (made < 50) {
    for (const id of [...s.points.keys()]) s.deletePoint(id);
    s.R[i] = s.R[j] = s.t[i] = s.t[j] = null;
    return false;
  }
  s.gauge = [i, j];
  adjust(s, [i, j], null, 30, 1e-4);
  filterPoints(s, null);
  return true;
}

// ---------------------------------------------------------------- registration

// Distinct points seen by one image are counted with marks over point ids (epoch = the count in
// progress) instead of a Set per image: this runs over every correspondence of every unregistered
// image after each registration.
let marks = new Int32Array(0);
let epoch = 0;

/** Unregistered images ordered by how many existing points they see. */
export function nextCandidates(s: MapState, tried: Set<number>): Array<{ img: number; visible: number }> {
  const out: Array<{ img: number; visible: number }> = [];
  if (marks.length < s.pointIdBound) marks = new Int32Array(Math.max(s.pointIdBound, 2 * marks.length));
  for (let img = 0; img < s.n; img++) {
    if (s.isRegistered(img) || tried.has(img)) continue;
    const e = ++epoch;
    let visible = 0;
    for (const list of s.corr[img]!.values()) {
      for (let k = 0; k < list.length; k += 2) {
        const pid = s.pointOf[list[k]!]![list[k + 1]!]!;
        if (pid >= 0 && marks[pid] !== e) { marks[pid] = e; visible++; }
      }
    }
    if (visible > 0) out.push({ img, visible });
  }
  return out.sort((a, b) => b.visible - a.visible);
}

export function register(s: MapState, img: number): boolean {
  // one 2D–3D pair per feature: the point seen by most of its correspondences
  const feats: number[] = [];
  const pids: number[] = [];
  for (const [f, list] of s.corr[img]!) {
    let best = -1;
    for (let k = 0; k < list.length; k += 2) {
      const pid = s.pointOf[list[k]!]![list[k + 1]!]!;
      if (pid >= 0) { best = pid; break; }
    }
    if (best >= 0) { feats.push(f); pids.push(best); }
  }
  if (feats.length < 0.75 * s.opts.minPnPInliers) {
    s.failReason.set(img, `only ${feats.length} 2D–3D correspondences`);
    return false;
  }
  const X = new Float64Array(feats.length * 3), x = new Float64Array(feats.length * 2);
  for (let k = 0; k < feats.length; k++) {
    const P = s.points.get(pids[k]!)!.X;
    X[3 * k] = P[0]; X[3 * k + 1] = P[1]; X[3 * k + 2] = P[2];
    const [u, v] = s.kp(img, feats[k]!);
    x[2 * k] = u; x[2 * k + 1] = v;
  }
  const r = estimatePnP(X, x, s.cam(img), { maxError: s.opts.pnpErrorFactor * s.opts.maxError, confidence: 0.9999, maxIterations: 10000, seed: s.opts.seed });
  // a pose that explains most of few correspondences is as trustworthy as one that explains a
  // small share of many: accept 3/4 of the minimum at an inlier ratio ≥ 1/2 (lund at 1024 px:
  // 25.jpg had 19 inliers of 22 and, rejected, cut off the end of the walk)
  const enough = r !== null && (r.numInliers >= s.opts.minPnPInliers || (r.numInliers >= 0.75 * s.opts.minPnPInliers && r.numInliers >= 0.5 * feats.length));
  if (!r || !enough) {
    s.failReason.set(img, `PnP found ${r ? r.numInliers : 0} inliers of ${feats.length} correspondences`);
    return false;
  }
  s.R[img] = r.R.slice();
  s.t[img] = r.t.slice();
  for (let k = 0; k < feats.length; k++) {
    if (!r.inliers[k]) continue;
    const p = s.points.get(pids[k]!)!;
    if (p.obs.some(([im]) => im === img)) continue; // one observation per image and point
    p.obs.push([img, feats[k]!]);
    s.pointOf[img]![feats[k]!] = pids[k]!;
  }
  s.failReason.delete(img);
  return true;
}

// ---------------------------------------------------------------- triangulation

/** Extend tracks through img's correspondences and triangulate new points. */
export function triangulateImage(s: MapState, img: number): number {
  let made = 0;
  for (const [f, list] of s.corr[img]!) {
    if (s.pointOf[img]![f]! >= 0) continue;
    const views: Array<[number, number]> = [[img, f]];
    let continued = false;
    for (let k = 0; k < list.length; k += 2) {
      const j = list[k]!, g = list[k + 1]!;
      if (!s.isRegistered(j)) continue;
      const pid = s.pointOf[j]![g]!;
      if (pid >= 0) {
        const p = s.points.get(pid)!;
        if (!continued && !p.obs.some(([im]) => im === img) && s.reprojError(img, f, p.X) <= s.opts.maxError) {
          p.obs.push([img, f]);
          s.pointOf[img]![f] = pid;
          continued = true;
        }
      } else if (!views.some(([im]) => im === j)) views.push([j, g]);
    }
    if (continued || views.length < 2) continue;
    let X = s.triangulate(views);
    let used = views;
    if (!X && views.length > 2) {
      for (let k = 1; k < views.length && !X; k++) {
        used = [views[0]!, views[k]!];
        X = s.triangulate(used);
      }
    }
    if (X) { s.addPoint(X, used); made++; }
  }
  return made;
}
