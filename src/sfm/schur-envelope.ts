/**
 * Column layout of bundle adjustment's reduced camera system (points eliminated by the Schur
 * complement), and the choice of how to solve it. Two images are coupled in that system when they
 * see a common point, so for a sequence (drive, walk, orbit) the system is banded once the images
 * are ordered along the sequence: reverse Cuthill–McKee finds that order from the co-visibility
 * graph, and an envelope Cholesky (geometry/linalg.ts) then factors it exactly in O(n·b²) time and
 * O(n·b) memory. Small problems keep the dense layout (fewer index tricks, and the envelope saves
 * nothing), large or loosely coupled ones take the envelope — same solution either way, up to
 * rounding.
 */
import type { Envelope } from '../geometry/linalg.js';

export type SchurSolver = 'auto' | 'dense' | 'envelope';

interface SchurLayout {
  /** first column of each image's pose block (-1: fixed), of each camera's intrinsics (-1: none) */
  poseOff: Int32Array;
  camOff: Int32Array;
  /** columns of the reduced camera system */
  nc: number;
  env: Envelope;
  /** true: solve with envelopeCholesky; false: env is the dense layout, solve with choleskySolve */
  envelope: boolean;
}

/**
 * Below this many columns (~20 images) the dense solver is used: bench/sfm-scale.json
 * (solverSecondsPerIteration) shows both equal within noise there and the envelope ahead from
 * 40 images on; small problems (every existing test) thus keep their bit-identical results.
 */
const ENVELOPE_MIN_COLUMNS = 120;

/** Point tracks as bundle.ts stores them: observations of point p are ptObs[ptStart[p] .. ptStart[p+1]). */
interface Tracks { ptStart: Int32Array; ptObs: Int32Array; obsImg: Int32Array }

export function schurLayout(poseSize: Int32Array, imageCamera: Int32Array, camSize: Int32Array, tracks: Tracks, solver: SchurSolver = 'auto'): SchurLayout {
  const nImg = poseSize.length;
  let nPose = 0, nIntr = 0;
  for (let i = 0; i < nImg; i++) nPose += poseSize[i]!;
  for (let c = 0; c < camSize.length; c++) nIntr += camSize[c]!;
  const nc = nPose + nIntr;
  if (solver === 'dense' || (solver === 'auto' && nc < ENVELOPE_MIN_COLUMNS)) return denseLayout(poseSize, camSize, nc);
  const order = cuthillMcKee(poseSize, tracks);
  const poseOff = new Int32Array(nImg).fill(-1), camOff = new Int32Array(camSize.length).fill(-1);
  let off = 0;
  for (const i of order) { poseOff[i] = off; off += poseSize[i]!; }
  // Intrinsics last: they couple with every pose of their camera, i.e. a few full rows at the bottom.
  for (let c = 0; c < camSize.length; c++) if (camSize[c]! > 0) { camOff[c] = off; off += camSize[c]!; }
  // Envelope: each block row starts at the smallest column of any block it shares a point with.
  const firstPose = new Int32Array(nImg).fill(nc), firstCam = new Int32Array(camSize.length).fill(nc);
  const { ptStart, ptObs, obsImg } = tracks;
  for (let p = 0; p + 1 < ptStart.length; p++) {
    let lo = nc;
    for (let q = ptStart[p]!; q < ptStart[p + 1]!; q++) {
      const i = obsImg[ptObs[q]!]!, c = imageCamera[i]!;
      if (poseOff[i]! >= 0) lo = Math.min(lo, poseOff[i]!);
      if (camOff[c]! >= 0) lo = Math.min(lo, camOff[c]!);
    }
    for (let q = ptStart[p]!; q < ptStart[p + 1]!; q++) {
      const i = obsImg[ptObs[q]!]!, c = imageCamera[i]!;
      if (lo < firstPose[i]!) firstPose[i] = lo;
      if (lo < firstCam[c]!) firstCam[c] = lo;
    }
  }
  const first = new Int32Array(nc), base = new Int32Array(nc);
  const setRows = (o: number, k: number, f: number) => { for (let a = 0; a < k; a++) first[o + a] = Math.min(f, o); };
  for (let i = 0; i < nImg; i++) if (poseOff[i]! >= 0) setRows(poseOff[i]!, poseSize[i]!, firstPose[i]!);
  for (let c = 0; c < camSize.length; c++) if (camOff[c]! >= 0) setRows(camOff[c]!, camSize[c]!, firstCam[c]!);
  let size = 0, envCost = 0;
  for (let r = 0; r < nc; r++) { base[r] = size - first[r]!; const w = r - first[r]! + 1; size += w; envCost += w * w; }
  // Envelope Cholesky costs ~Σ w²/2, dense ~n³/6: keep dense where the envelope barely helps.
  if (solver === 'auto' && envCost > (nc * nc * nc) / 6) return denseLayout(poseSize, camSize, nc);
  return { poseOff, camOff, nc, env: { n: nc, first, base, size }, envelope: true };
}

/** Image order, intrinsics after the poses, every row full: the layout bundle.ts always had. */
function denseLayout(poseSize: Int32Array, camSize: Int32Array, nc: number): SchurLayout {
  const poseOff = new Int32Array(poseSize.length).fill(-1), camOff = new Int32Array(camSize.length).fill(-1);
  let off = 0;
  for (let i = 0; i < poseSize.length; i++) if (poseSize[i]! > 0) { poseOff[i] = off; off += poseSize[i]!; }
  for (let c = 0; c < camSize.length; c++) if (camSize[c]! > 0) { camOff[c] = off; off += camSize[c]!; }
  const first = new Int32Array(nc), base = new Int32Array(nc);
  for (let r = 0; r < nc; r++) base[r] = r * nc;
  return { poseOff, camOff, nc, env: { n: nc, first, base, size: nc * nc }, envelope: false };
}

/**
 * Reverse Cuthill–McKee order of the free images over the co-visibility graph (two images are
 * neighbours when they observe a common point): breadth-first from a peripheral image, neighbours
 * by increasing degree, reversed. Each connected component is ordered in turn.
 */
function cuthillMcKee(poseSize: Int32Array, tracks: Tracks): number[] {
  const nImg = poseSize.length;
  const { ptStart, ptObs, obsImg } = tracks;
  const edges = new Set<number>();
  const inTrack: number[] = [];
  for (let p = 0; p + 1 < ptStart.length; p++) {
    inTrack.length = 0;
    for (let q = ptStart[p]!; q < ptStart[p + 1]!; q++) { const i = obsImg[ptObs[q]!]!; if (poseSize[i]! > 0) inTrack.push(i); }
    for (let a = 0; a < inTrack.length; a++) for (let b = 0; b < a; b++) {
      const x = inTrack[a]!, y = inTrack[b]!;
      if (x !== y) edges.add(x < y ? x * nImg + y : y * nImg + x);
    }
  }
  const adj: number[][] = Array.from({ length: nImg }, () => []);
  for (const e of edges) { const x = Math.floor(e / nImg), y = e % nImg; adj[x]!.push(y); adj[y]!.push(x); }
  const degree = adj.map((a) => a.length);
  for (const a of adj) a.sort((x, y) => degree[x]! - degree[y]! || x - y);
  const level = new Int32Array(nImg).fill(-1);
  /** breadth-first order from `start` over unplaced images; `level` marks them (reset by the caller) */
  const bfs = (start: number, placed: Uint8Array): number[] => {
    const out = [start];
    level[start] = 0;
    for (let h = 0; h < out.length; h++) {
      const x = out[h]!;
      for (const y of adj[x]!) if (!placed[y] && level[y]! < 0) { level[y] = level[x]! + 1; out.push(y); }
    }
    return out;
  };
  const placed = new Uint8Array(nImg), order: number[] = [];
  for (let s = 0; s < nImg; s++) {
    if (placed[s] || !(poseSize[s]! > 0)) continue;
    // pseudo-peripheral start: the lowest-degree image of the last level, twice
    let start = s, comp = bfs(start, placed);
    for (let round = 0; round < 2; round++) {
      const last = level[comp[comp.length - 1]!]!;
      let best = start;
      for (const x of comp) if (level[x] === last && (best === start || degree[x]! < degree[best]!)) best = x;
      for (const x of comp) level[x] = -1;
      if (best === start) { comp = bfs(start, placed); break; }
      start = best;
      comp = bfs(start, placed);
    }
    for (const x of comp) { level[x] = -1; placed[x] = 1; }
    order.push(...comp);
  }
  return order.reverse();
}
