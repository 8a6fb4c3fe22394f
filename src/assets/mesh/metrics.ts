/**
 * Mesh-to-mesh accuracy as reconstruction papers report it: points sampled uniformly on both
 * surfaces, symmetric Chamfer distance (mean of the two mean nearest distances) and F-score at a
 * distance threshold (harmonic mean of precision and recall).
 */
import { area } from './clean.js';
import type { TriMesh } from './types.js';
import { Rng } from '../../util/rng.js';

/** `n` points uniformly on the surface (area-weighted), seeded. */
export function samplePoints(m: TriMesh, n: number, seed = 1): Float32Array {
  const I = m.indices, p = m.positions, T = I.length / 3;
  const cdf = new Float64Array(T);
  let s = 0;
  for (let t = 0; t < T; t++) { s += area(p, I[3 * t]!, I[3 * t + 1]!, I[3 * t + 2]!); cdf[t] = s; }
  const rng = new Rng(seed);
  const out = new Float32Array(n * 3);
  for (let k = 0; k < n; k++) {
    const r = rng.uniform(0, s);
    let lo = 0, hi = T - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid]! < r) lo = mid + 1; else hi = mid; }
    let u = rng.uniform(0, 1), v = rng.uniform(0, 1);
    if (u + v > 1) { u = 1 - u; v = 1 - v; }
    const a = 3 * I[3 * lo]!, b = 3 * I[3 * lo + 1]!, c = 3 * I[3 * lo + 2]!;
    for (let d = 0; d < 3; d++) out[3 * k + d] = p[a + d]! + u * (p[b + d]! - p[a + d]!) + v * (p[c + d]! - p[a + d]!);
  }
  return out;
}

/** Nearest-neighbour distances from each point of `q` to the set `ref` (uniform hash grid). */
export function nearestDistances(q: Float32Array, ref: Float32Array, cell: number): Float64Array {
  const grid = new Map<string, number[]>();
  const key = (x: number, y: number, z: number) => `${x},${y},${z}`;
  for (let i = 0; i < ref.length / 3; i++) {
    const k = key(Math.floor(ref[3 * i]! / cell), Math.floor(ref[3 * i + 1]! / cell), Math.floor(ref[3 * i + 2]! / cell));
    const l = grid.get(k);
    if (l) l.push(i); else grid.set(k, [i]);
  }
  const out = new Float64Array(q.length / 3);
  for (let i = 0; i < out.length; i++) {
    const x = q[3 * i]!, y = q[3 * i + 1]!, z = q[3 * i + 2]!;
    const cx = Math.floor(x / cell), cy = Math.floor(y / cell), cz = Math.floor(z / cell);
    let best = Infinity;
    // widen the search ring until a hit is certainly the nearest
    for (let r = 0; r < 64; r++) {
      for (let dz = -r; dz <= r; dz++) for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
        if (Math.max(Math.abs(dx), Math.abs(dy), Math.abs(dz)) !== r) continue;
        const l = grid.get(key(cx + dx, cy + dy, cz + dz));
        if (!l) continue;
        for (const j of l) {
          const d = (ref[3 * j]! - x) ** 2 + (ref[3 * j + 1]! - y) ** 2 + (ref[3 * j + 2]! - z) ** 2;
          if (d < best) best = d;
        }
      }
      if (best <= (r * cell) ** 2) break;
    }
    out[i] = Math.sqrt(best);
  }
  return out;
}

export interface MeshAccuracy {
  chamfer: number;
  fscore: number;
  precision: number;
  recall: number;
  threshold: number;
}

export function meshAccuracy(pred: TriMesh, truth: TriMesh, threshold: number, samples = 20000): MeshAccuracy {
  const a = samplePoints(pred, samples, 1), b = samplePoints(truth, samples, 2);
  const cell = threshold;
  const ab = nearestDistances(a, b, cell), ba = nearestDistances(b, a, cell);
  const mean = (d: Float64Array) => d.reduce((s, x) => s + x, 0) / d.length;
  const frac = (d: Float64Array) => d.filter((x) => x < threshold).length / d.length;
  const precision = frac(ab), recall = frac(ba);
  return { chamfer: 0.5 * (mean(ab) + mean(ba)), fscore: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0, precision, recall, threshold };
}
