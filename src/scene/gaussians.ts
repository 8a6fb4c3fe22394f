/**
 * The trainable Gaussian model: flat Float32Arrays in the rasterizer's layout (api.ts), plus
 * initialisation from SfM points (colour from the points, scale from nearest-neighbour distance)
 * or at random in the scene bounds when there are none.
 */
import { SH_COEFFS, type GaussianParams } from '../core/gaussians.js';
import { Rng } from '../util/rng.js';

export const SH_C0 = 0.28209479177387814;

export function rgbToShDc(c: number): number {
  return (c - 0.5) / SH_C0;
}

export function shDcToRgb(v: number): number {
  return v * SH_C0 + 0.5;
}

export function logit(p: number): number {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function allocGaussians(count: number): GaussianParams {
  return {
    count,
    means: new Float32Array(count * 3),
    logScales: new Float32Array(count * 3),
    quats: new Float32Array(count * 4),
    opacityLogits: new Float32Array(count),
    sh: new Float32Array(count * SH_COEFFS * 3),
  };
}

export function cloneGaussians(g: GaussianParams): GaussianParams {
  return {
    count: g.count,
    means: g.means.slice(),
    logScales: g.logScales.slice(),
    quats: g.quats.slice(),
    opacityLogits: g.opacityLogits.slice(),
    sh: g.sh.slice(),
  };
}

/** New model whose row j is old row src[j]. */
export function gatherGaussians(g: GaussianParams, src: Int32Array | number[]): GaussianParams {
  const out = allocGaussians(src.length);
  const S = SH_COEFFS * 3;
  for (let j = 0; j < src.length; j++) {
    const i = src[j]!;
    out.means.set(g.means.subarray(i * 3, i * 3 + 3), j * 3);
    out.logScales.set(g.logScales.subarray(i * 3, i * 3 + 3), j * 3);
    out.quats.set(g.quats.subarray(i * 4, i * 4 + 4), j * 4);
    out.opacityLogits[j] = g.opacityLogits[i]!;
    out.sh.set(g.sh.subarray(i * S, i * S + S), j * S);
  }
  return out;
}

export interface InitPoints {
  xyz: Float32Array | Float64Array | number[];
  /** 0..1 colours, 3 per point */
  rgb: Float32Array | Float64Array | number[];
}

/**
 * One Gaussian per point: isotropic, scale = RMS distance to the 3 nearest neighbours, opacity 0.1
 * (3DGS defaults).
 */
export function initFromPoints(pts: InitPoints, opts: { initialOpacity?: number } = {}): GaussianParams {
  const n = pts.xyz.length / 3;
  const g = allocGaussians(n);
  const d2 = meanSquaredKnnDistance(Float64Array.from(pts.xyz), 3);
  const op = logit(opts.initialOpacity ?? 0.1);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      g.means[i * 3 + k] = pts.xyz[i * 3 + k]!;
      g.sh[i * SH_COEFFS * 3 + k] = rgbToShDc(pts.rgb[i * 3 + k]!);
    }
    const ls = Math.log(Math.sqrt(Math.max(d2[i]!, 1e-7)));
    g.logScales.fill(ls, i * 3, i * 3 + 3);
    g.quats[i * 4] = 1;
    g.opacityLogits[i] = op;
  }
  return g;
}

/** Random points in an axis-aligned box with random colours, for scenes without SfM points. */
export function randomPoints(count: number, lo: number[], hi: number[], seed: number): InitPoints {
  const rng = new Rng(seed);
  const xyz = new Float32Array(count * 3);
  const rgb = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < 3; k++) {
      xyz[i * 3 + k] = rng.uniform(lo[k]!, hi[k]!);
      rgb[i * 3 + k] = rng.next();
    }
  }
  return { xyz, rgb };
}

/**
 * Mean squared distance to the k nearest other points, via a uniform grid (≈ 2 points per cell)
 * searched in growing shells until k neighbours closer than the shell are found.
 */
export function meanSquaredKnnDistance(xyz: Float64Array, k: number): Float64Array {
  const n = xyz.length / 3;
  const out = new Float64Array(n);
  if (n <= 1) {
    out.fill(0.01);
    return out;
  }
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) { lo[a] = Math.min(lo[a]!, xyz[i * 3 + a]!); hi[a] = Math.max(hi[a]!, xyz[i * 3 + a]!); }
  const ext = [hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!];
  const vol = Math.max(1e-12, ext.map((e) => Math.max(e, 1e-6)).reduce((a, b) => a * b, 1));
  const cell = Math.max(Math.cbrt((vol * 2) / n), 1e-6);
  const dims = ext.map((e) => Math.min(1024, Math.max(1, Math.ceil(e / cell) + 1)));
  const key = (x: number, y: number, z: number) => (x * dims[1]! + y) * dims[2]! + z;
  const cells = new Map<number, number[]>();
  const ci = new Int32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) ci[i * 3 + a] = Math.min(dims[a]! - 1, Math.floor((xyz[i * 3 + a]! - lo[a]!) / cell));
    const kk = key(ci[i * 3]!, ci[i * 3 + 1]!, ci[i * 3 + 2]!);
    let list = cells.get(kk);
    if (!list) cells.set(kk, (list = []));
    list.push(i);
  }
  const best = new Float64Array(k);
  const maxR = Math.max(...dims);
  for (let i = 0; i < n; i++) {
    best.fill(Infinity);
    const cx = ci[i * 3]!, cy = ci[i * 3 + 1]!, cz = ci[i * 3 + 2]!;
    for (let r = 0; r <= maxR; r++) {
      // visit the shell of cells at Chebyshev distance r
      for (let x = cx - r; x <= cx + r; x++) {
        if (x < 0 || x >= dims[0]!) continue;
        for (let y = cy - r; y <= cy + r; y++) {
          if (y < 0 || y >= dims[1]!) continue;
          for (let z = cz - r; z <= cz + r; z++) {
            if (z < 0 || z >= dims[2]!) continue;
            if (Math.max(Math.abs(x - cx), Math.abs(y - cy), Math.abs(z - cz)) !== r) continue;
            const list = cells.get(key(x, y, z));
            if (!list) continue;
            for (const j of list) {
              if (j === i) continue;
              const dx = xyz[i * 3]! - xyz[j * 3]!, dy = xyz[i * 3 + 1]! - xyz[j * 3 + 1]!, dz = xyz[i * 3 + 2]! - xyz[j * 3 + 2]!;
              const d = dx * dx + dy * dy + dz * dz;
              if (d < best[k - 1]!) {
                let p = k - 1;
                while (p > 0 && best[p - 1]! > d) { best[p] = best[p - 1]!; p--; }
                best[p] = d;
              }
            }
          }
        }
      }
      // every unvisited point is at least r·cell away
      if (best[k - 1]! <= (r * cell) ** 2) break;
    }
    let s = 0, m = 0;
    for (let j = 0; j < k; j++) if (Number.isFinite(best[j]!)) { s += best[j]!; m++; }
    out[i] = m > 0 ? s / m : 0.01;
  }
  return out;
}
