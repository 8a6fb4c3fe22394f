/**
 * `--auto`: the objects standing on the ground. Gaussians clearly above the ground plane (and
 * opaque enough to be surface, not haze) are linked when closer than a link radius; each
 * connected group that reaches down to the ground, has enough Gaussians and is not as large as the
 * scene itself is an object. Each group is then grown back down into the ground slab through
 * Gaussians adjacent to it (its lowest ring, which the ground threshold cut off) but never through
 * the flat ground layer itself, and faint Gaussians lying within a link radius of it are attached.
 * Floaters do not make objects: they are small groups or do not touch the ground.
 *
 * Without a floor (a turntable or backdrop capture: `ground.carries === false`, the virtual
 * support plane of ground.ts under the foreground) the object is what remains of the scene once
 * the faint, oversized and detached Gaussians are gone (cleanCut): one object, its box on that
 * plane, so its pivot is the foreground's lowest point.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { sigmoid } from '../../scene/gaussians.js';
import { cleanCut } from './clean.js';
import { forEachPair, medianSpacing, radiusComponents } from './components.js';
import { heightOf, type GroundPlane } from './ground.js';
import { uprightBox, type UprightBox } from './obb.js';

export interface AutoObject {
  /** 1-based rank (by score) — what `--pick N` refers to */
  rank: number;
  /** Gaussian indices, ascending */
  indices: Int32Array;
  /** upright box about the ground normal; size = [along x, along y, height] */
  box: UprightBox;
  /** score in (0, 1]: opacity mass relative to the largest object */
  score: number;
  /** summed opacity of the object's Gaussians */
  opacityMass: number;
  /** height of its lowest Gaussian above the ground */
  lowest: number;
}

export interface AutoOptions {
  /** Gaussians fainter than this do not link objects (they are attached afterwards). Default 0.1 */
  minOpacity: number;
  /** height above the ground that counts as "off the ground"; default the ground's threshold */
  heightThreshold?: number;
  /** link radius; default 2.5 × the median spacing of the off-ground Gaussians, within [0.005, 0.05] × scene extent */
  linkRadius?: number;
  /** a group must reach this close to the ground to stand on it; default heightThreshold + 2 × linkRadius */
  maxStandHeight?: number;
  /** smallest object, Gaussians. Default 30 */
  minGaussians: number;
  /** largest object footprint diagonal, as a fraction of the scene extent (bigger = background). Default 0.6 */
  maxExtentFraction: number;
  /** drop objects whose score is below this. Default 0.02 */
  minScore: number;
}

export const defaultAutoOptions: AutoOptions = { minOpacity: 0.1, minGaussians: 30, maxExtentFraction: 0.6, minScore: 0.02 };

export function findObjectsAuto(params: GaussianParams, ground: GroundPlane, partial: Partial<AutoOptions> = {}): AutoObject[] {
  const o = { ...defaultAutoOptions, ...partial };
  const xyz = params.means;
  const N = params.count;
  if (ground.carries === false) return [foregroundObject(params, ground, o.minOpacity)];
  const hThr = o.heightThreshold ?? ground.threshold;
  const h = new Float64Array(N), op = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    h[i] = heightOf(ground, xyz, i);
    op[i] = sigmoid(params.opacityLogits[i]!);
  }
  const above: number[] = [];
  for (let i = 0; i < N; i++) if (h[i]! > hThr && op[i]! >= o.minOpacity) above.push(i);
  if (above.length === 0) return [];
  const ext = ground.sceneExtent;
  const r = o.linkRadius ?? clamp(2.5 * medianSpacing({ xyz, idx: above }, 0.05 * ext), 0.005 * ext, 0.05 * ext);
  const stand = o.maxStandHeight ?? hThr + 2 * r;
  const { labels, count } = radiusComponents({ xyz, idx: above }, r);
  const groups: number[][] = Array.from({ length: count }, () => []);
  above.forEach((i, k) => groups[labels[k]!]!.push(i));

  const label = new Int32Array(N).fill(-1);
  const kept: number[][] = [];
  for (const g of groups) {
    if (g.length < o.minGaussians) continue;
    let lowest = Infinity;
    for (const i of g) lowest = Math.min(lowest, h[i]!);
    if (lowest > stand) continue;
    for (const i of g) label[i] = kept.length;
    kept.push(g);
  }
  growDown(xyz, h, op, label, kept, { r, hThr, minOpacity: o.minOpacity });
  attachFaint(xyz, h, op, label, kept, r, hThr, o.minOpacity);

  const objs = kept.map((g) => {
    let mass = 0, lowest = Infinity;
    for (const i of g) { mass += op[i]!; lowest = Math.min(lowest, h[i]!); }
    // standing objects reach down to the ground: the box starts at the plane
    const box = uprightBox(xyz, g, ground.normal, ground, 0);
    return { g, mass, lowest, box };
  }).filter((x) => Math.hypot(x.box.size[0], x.box.size[1]) <= o.maxExtentFraction * ext);
  const maxMass = Math.max(0, ...objs.map((x) => x.mass));
  return objs
    .map((x) => ({ indices: Int32Array.from(x.g).sort(), box: x.box, score: maxMass > 0 ? x.mass / maxMass : 0, opacityMass: x.mass, lowest: x.lowest, rank: 0 }))
    .filter((x) => x.score >= o.minScore)
    .sort((a, b) => b.score - a.score || a.indices[0]! - b.indices[0]!)
    .map((x, k) => ({ ...x, rank: k + 1 }));
}

/**
 * Region growing into the ground slab (heights in (hThr/4, hThr]): a slab Gaussian joins an
 * object when within r of one of its members; repeated so the growth follows the surface down.
 * The ground layer itself (height ≤ hThr/4) is never entered.
 */
function growDown(xyz: ArrayLike<number>, h: Float64Array, op: Float64Array, label: Int32Array, groups: number[][], p: { r: number; hThr: number; minOpacity: number }): void {
  const cand: number[] = [];
  for (let i = 0; i < h.length; i++) if (label[i] === -1 && h[i]! > p.hThr / 4 && h[i]! <= p.hThr && op[i]! >= p.minOpacity) cand.push(i);
  if (cand.length === 0) return;
  const idx = cand.concat(groups.flat());
  for (let pass = 0; pass < 8; pass++) {
    let changed = 0;
    forEachPair({ xyz, idx }, p.r, (k, m) => {
      const a = idx[k]!, b = idx[m]!;
      if (label[a] === -1 && label[b]! >= 0) { label[a] = label[b]!; groups[label[b]!]!.push(a); changed++; }
      else if (label[b] === -1 && label[a]! >= 0) { label[b] = label[a]!; groups[label[a]!]!.push(b); changed++; }
    });
    if (changed === 0) break;
  }
}

/** Faint Gaussians above the ground layer within r of an object join the nearest one's label. */
function attachFaint(xyz: ArrayLike<number>, h: Float64Array, op: Float64Array, label: Int32Array, groups: number[][], r: number, hThr: number, minOpacity: number): void {
  const faint: number[] = [];
  for (let i = 0; i < h.length; i++) if (label[i] === -1 && op[i]! < minOpacity && h[i]! > hThr / 4) faint.push(i);
  if (faint.length === 0) return;
  const idx = faint.concat(groups.flat());
  const add: [number, number][] = [];
  forEachPair({ xyz, idx }, r, (k, m) => {
    const a = idx[k]!, b = idx[m]!;
    if (label[a] === -1 && label[b]! >= 0) add.push([a, label[b]!]);
    else if (label[b] === -1 && label[a]! >= 0) add.push([b, label[a]!]);
  });
  for (const [i, l] of add) if (label[i] === -1) { label[i] = l; groups[l]!.push(i); }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** No floor: the cleaned opaque Gaussians as one object, standing on the virtual support plane. */
function foregroundObject(params: GaussianParams, ground: GroundPlane, minOpacity: number): AutoObject {
  const opaque: number[] = [];
  for (let i = 0; i < params.count; i++) if (sigmoid(params.opacityLogits[i]!) >= minOpacity) opaque.push(i);
  const { indices } = cleanCut(params, opaque);
  let mass = 0, lowest = Infinity;
  for (const i of indices) { mass += sigmoid(params.opacityLogits[i]!); lowest = Math.min(lowest, heightOf(ground, params.means, i)); }
  return { rank: 1, indices, box: uprightBox(params.means, indices, ground.normal, ground, 0), score: 1, opacityMass: mass, lowest };
}
