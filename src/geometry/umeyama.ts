/** Similarity between point sets (Umeyama 1991) and its RANSAC wrapper (GPS alignment). */
import { det3, svd } from './linalg.js';
import { loRansac } from './ransac.js';

/** Least-squares dst ≈ s·R·src + t (s = 1 when withScale is false). Needs ≥ 3 non-collinear points for a unique R. */
export function umeyama(src: ArrayLike<number>[], dst: ArrayLike<number>[], withScale = true): { s: number; R: number[]; t: number[] } {
  const n = Math.min(src.length, dst.length);
  const ms = [0, 0, 0], md = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) { ms[k]! += src[i]![k]! / n; md[k]! += dst[i]![k]! / n; }
  const S = new Array<number>(9).fill(0);
  let varSrc = 0;
  for (let i = 0; i < n; i++) {
    const a = [0, 1, 2].map((k) => src[i]![k]! - ms[k]!), b = [0, 1, 2].map((k) => dst[i]![k]! - md[k]!);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) S[r * 3 + c]! += (b[r]! * a[c]!) / n;
    varSrc += (a[0]! ** 2 + a[1]! ** 2 + a[2]! ** 2) / n;
  }
  const { U, S: sv, V } = svd(S, 3, 3);
  const u = Array.from(U), v = Array.from(V);
  // U's last column may be zero for rank-deficient S (coplanar or collinear sets): rebuild it.
  fixThirdColumn(u);
  const d = det3(u) * det3(v) < 0 ? -1 : 1;
  const R = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let cc = 0; cc < 3; cc++) {
    R[r * 3 + cc] = u[r * 3]! * v[cc * 3]! + u[r * 3 + 1]! * v[cc * 3 + 1]! + d * u[r * 3 + 2]! * v[cc * 3 + 2]!;
  }
  const s = withScale ? (varSrc > 0 ? (sv[0]! + sv[1]! + d * sv[2]!) / varSrc : 1) : 1;
  const t = [0, 1, 2].map((k) => md[k]! - s * (R[k * 3]! * ms[0]! + R[k * 3 + 1]! * ms[1]! + R[k * 3 + 2]! * ms[2]!));
  return { s, R, t };
}

function fixThirdColumn(u: number[]): void {
  const n2 = Math.hypot(u[2]!, u[5]!, u[8]!);
  if (n2 > 0.5) return;
  const a = [u[0]!, u[3]!, u[6]!], b = [u[1]!, u[4]!, u[7]!];
  let c = [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
  const nc = Math.hypot(c[0]!, c[1]!, c[2]!);
  if (nc > 0) c = c.map((x) => x / nc);
  u[2] = c[0]!; u[5] = c[1]!; u[8] = c[2]!;
}

/** RANSAC over minimal (3-point) Umeyama fits, then a least-squares fit on the inliers; maxError in dst units. */
export function robustSimilarity(src: ArrayLike<number>[], dst: ArrayLike<number>[], opts: { maxError: number; seed?: number; withScale?: boolean }): { s: number; R: number[]; t: number[]; inliers: Uint8Array } | null {
  const n = Math.min(src.length, dst.length);
  if (n < 3) return null;
  const withScale = opts.withScale ?? true;
  const pick = (idx: ArrayLike<number>) => {
    const a: ArrayLike<number>[] = [], b: ArrayLike<number>[] = [];
    for (let i = 0; i < idx.length; i++) { a.push(src[idx[i]!]!); b.push(dst[idx[i]!]!); }
    return umeyama(a, b, withScale);
  };
  const res = loRansac({
    n,
    sampleSize: 3,
    minimal: (idx) => [pick(idx)],
    nonMinimal: (idx) => [pick(idx)],
    residuals: (m, out) => {
      for (let i = 0; i < n; i++) {
        const p = src[i]!, q = dst[i]!;
        let e = 0;
        for (let k = 0; k < 3; k++) {
          const y = m.s * (m.R[k * 3]! * p[0]! + m.R[k * 3 + 1]! * p[1]! + m.R[k * 3 + 2]! * p[2]!) + m.t[k]!;
          e += (y - q[k]!) ** 2;
        }
        out[i] = e;
      }
    },
  }, opts.maxError * opts.maxError, { maxError: opts.maxError, seed: opts.seed ?? 0, maxIterations: 2000 });
  if (!res) return null;
  return { ...res.model, inliers: res.inliers };
}
