/**
 * Radius graphs on point sets through a uniform hash grid (cell = radius, so neighbours lie in the
 * 27 surrounding cells): connected components (union–find) and neighbour counts. Used to split
 * the non-ground Gaussians into objects and to find isolated floaters in a cut.
 */

export interface PointSubset {
  /** N×3 positions (all points) */
  xyz: ArrayLike<number>;
  /** which points take part (indices into xyz) */
  idx: ArrayLike<number>;
}

/** Cells of the grid: key → positions in idx. */
/** Numeric cell key (cells within ±2^17 of the origin per axis: exact in a double). */
function cellKey(cx: number, cy: number, cz: number): number {
  return ((cx + 131072) * 262144 + (cy + 131072)) * 262144 + (cz + 131072);
}

function buildGrid(s: PointSubset, r: number): Map<number, number[]> {
  const grid = new Map<number, number[]>();
  for (let k = 0; k < s.idx.length; k++) {
    const i = s.idx[k]!;
    const key = cellKey(Math.floor(s.xyz[3 * i]! / r), Math.floor(s.xyz[3 * i + 1]! / r), Math.floor(s.xyz[3 * i + 2]! / r));
    let cell = grid.get(key);
    if (!cell) grid.set(key, (cell = []));
    cell.push(k);
  }
  return grid;
}

/** Calls visit(k, m) for every pair k < m (positions in idx) closer than r. */
export function forEachPair(s: PointSubset, r: number, visit: (k: number, m: number) => void): void {
  const grid = buildGrid(s, r);
  const r2 = r * r;
  for (let k = 0; k < s.idx.length; k++) {
    const i = s.idx[k]!;
    const x = s.xyz[3 * i]!, y = s.xyz[3 * i + 1]!, z = s.xyz[3 * i + 2]!;
    const cx = Math.floor(x / r), cy = Math.floor(y / r), cz = Math.floor(z / r);
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) {
      const cell = grid.get(cellKey(cx + dx, cy + dy, cz + dz));
      if (!cell) continue;
      for (const m of cell) {
        if (m <= k) continue;
        const j = s.idx[m]!;
        const ex = s.xyz[3 * j]! - x, ey = s.xyz[3 * j + 1]! - y, ez = s.xyz[3 * j + 2]! - z;
        if (ex * ex + ey * ey + ez * ez <= r2) visit(k, m);
      }
    }
  }
}

/** Connected components of the radius-r graph: label per position in idx (0..count-1, by first appearance). */
export function radiusComponents(s: PointSubset, r: number): { labels: Int32Array; count: number } {
  const n = s.idx.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]!]!;
    return a;
  };
  forEachPair(s, r, (k, m) => {
    const a = find(k), b = find(m);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  });
  const labels = new Int32Array(n);
  const ids = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const root = find(k);
    let id = ids.get(root);
    if (id === undefined) ids.set(root, (id = ids.size));
    labels[k] = id;
  }
  return { labels, count: ids.size };
}

/**
 * Median nearest-neighbour distance over up to `sample` points (evenly strided), searched within
 * `maxR` (points with no neighbour that close count as maxR).
 */
export function medianSpacing(s: PointSubset, maxR: number, sample = 2000): number {
  const grid = buildGrid(s, maxR);
  const step = Math.max(1, Math.floor(s.idx.length / sample));
  const d: number[] = [];
  for (let k = 0; k < s.idx.length; k += step) {
    const i = s.idx[k]!;
    const x = s.xyz[3 * i]!, y = s.xyz[3 * i + 1]!, z = s.xyz[3 * i + 2]!;
    const cx = Math.floor(x / maxR), cy = Math.floor(y / maxR), cz = Math.floor(z / maxR);
    let best = maxR * maxR;
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) {
      for (const m of grid.get(cellKey(cx + dx, cy + dy, cz + dz)) ?? []) {
        if (m === k) continue;
        const j = s.idx[m]!;
        const ex = s.xyz[3 * j]! - x, ey = s.xyz[3 * j + 1]! - y, ez = s.xyz[3 * j + 2]! - z;
        const q = ex * ex + ey * ey + ez * ez;
        if (q > 0 && q < best) best = q;
      }
    }
    d.push(Math.sqrt(best));
  }
  d.sort((a, b) => a - b);
  return d.length ? d[d.length >> 1]! : maxR;
}
