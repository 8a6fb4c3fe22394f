/**
 * Stage 2a: which image pairs to match — exhaustive, sequential + loop offsets, GPS neighbours.
 */
import type { ImagePair } from './types.js';

export type MatcherKind = 'exhaustive' | 'sequential' | 'gps' | 'auto';

export interface PairSelection {
  kind: Exclude<MatcherKind, 'auto'>;
  pairs: ImagePair[];
}

/**
 * Pairs to match. `auto`: exhaustive up to 40 images, GPS neighbours when most images have ENU
 * positions, sequential otherwise. Sequential uses a window of `overlap` neighbours plus
 * power-of-two offsets (cheap loop candidates for a drive or a walk that comes back).
 */
export function selectPairs(n: number, kind: MatcherKind, opts: { enu?: Array<[number, number, number] | undefined>; overlap?: number; gpsNeighbours?: number } = {}): PairSelection {
  const enuCount = opts.enu ? opts.enu.filter(Boolean).length : 0;
  let k = kind;
  if (k === 'auto') k = n <= 40 ? 'exhaustive' : enuCount >= n * 0.8 ? 'gps' : 'sequential';
  const set = new Set<number>();
  const add = (i: number, j: number) => {
    if (i === j || i < 0 || j < 0 || i >= n || j >= n) return;
    const a = Math.min(i, j), b = Math.max(i, j);
    set.add(a * n + b);
  };
  if (k === 'exhaustive') {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) add(i, j);
  } else {
    const overlap = opts.overlap ?? 10;
    for (let i = 0; i < n; i++) {
      for (let d = 1; d <= overlap; d++) add(i, i + d);
      for (let d = overlap * 2; d < n; d *= 2) add(i, i + d);
    }
    if (k === 'gps') {
      const enu = opts.enu ?? [];
      const kn = opts.gpsNeighbours ?? 12;
      for (let i = 0; i < n; i++) {
        const p = enu[i];
        if (!p) continue;
        const near: Array<[number, number]> = [];
        for (let j = 0; j < n; j++) {
          const q = enu[j];
          if (j !== i && q) near.push([Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]), j]);
        }
        near.sort((a, b) => a[0] - b[0]);
        for (const [, j] of near.slice(0, kn)) add(i, j);
      }
    }
  }
  const pairs = [...set].sort((a, b) => a - b).map((v) => ({ i: Math.floor(v / n), j: v % n }));
  return { kind: k, pairs };
}
