/**
 * Essential matrix x2ᵀ E x1 = 0 on normalised image coordinates: Nistér's five-point solver and pose
 * recovery by cheirality. Five-point outline: the 4-dimensional null space of the epipolar design
 * matrix gives E = xX + yY + zZ + W; det(E) = 0 and 2EEᵀE − tr(EEᵀ)E = 0 give ten cubics in
 * (x, y, z); Gauss–Jordan elimination on their 10×20 coefficient matrix leaves three polynomials
 * linear in (x, y, 1) with coefficients in z, whose 3×3 determinant is a degree-10 polynomial in z.
 */
import { det3, invert3, matMul, nullSpace, polyAdd, polyMul, realPolyRoots, svd } from './linalg.js';
import { epipolarDesign } from './fundamental.js';
import { normalizeFrobenius } from './normalize.js';
import { triangulateDepths } from './triangulate.js';

// Monomials of degree ≤ 3 in (x, y, z) in Nistér's order; exponents [a, b, c] of x^a y^b z^c.
const MONO: Array<[number, number, number]> = [
  [3, 0, 0], [0, 3, 0], [2, 1, 0], [1, 2, 0], [2, 0, 1], [2, 0, 0], [0, 2, 1], [0, 2, 0], [1, 1, 1], [1, 1, 0],
  [1, 0, 2], [1, 0, 1], [1, 0, 0], [0, 1, 2], [0, 1, 1], [0, 1, 0], [0, 0, 3], [0, 0, 2], [0, 0, 1], [0, 0, 0],
];
const MONO_INDEX = new Int32Array(64).fill(-1);
MONO.forEach(([a, b, c], i) => { MONO_INDEX[a * 16 + b * 4 + c] = i; });

type P3 = Float64Array; // 20 coefficients over MONO

// PROD[i·20 + j]: index of MONO[i]·MONO[j], or −1 above degree 3.
const PROD = new Int8Array(400);
for (let i = 0; i < 20; i++) for (let j = 0; j < 20; j++) {
  const [a, b, c] = MONO[i]!, [d, e, f] = MONO[j]!;
  PROD[i * 20 + j] = a + b + c + d + e + f > 3 ? -1 : MONO_INDEX[(a + d) * 16 + (b + e) * 4 + (c + f)]!;
}

/** r += s · p · q (no allocation; the degrees must add up to ≤ 3). */
function p3MulAdd(r: P3, s: number, p: P3, q: P3): void {
  for (let i = 0; i < 20; i++) {
    const pi = p[i]!;
    if (pi === 0) continue;
    const sp = s * pi, row = i * 20;
    for (let j = 0; j < 20; j++) {
      const qj = q[j]!;
      if (qj === 0) continue;
      r[PROD[row + j]!]! += sp * qj;
    }
  }
}

/**
 * Scratch buffers of essentialFivePoint and polish, which run for every RANSAC sample: reusing
 * them (the solver is not re-entrant, and each thread has its own module instance) spares the
 * garbage collector most of its work. Every use starts by clearing or overwriting what it reads.
 */
const S = {
  E: Array.from({ length: 9 }, () => new Float64Array(20)),
  EEt: Array.from({ length: 9 }, () => new Float64Array(20)),
  M: new Float64Array(200), M0: new Float64Array(200), minor: new Float64Array(20), tr: new Float64Array(20),
  f: new Float64Array(10), J: new Float64Array(30), mono: new Float64Array(20), dm: new Float64Array(60),
  px: new Float64Array(4), py: new Float64Array(4), pz: new Float64Array(4), H: new Float64Array(9), g: new Float64Array(3), Hi: new Float64Array(9),
};

/** Candidate essential matrices (Frobenius-normalised) from ≥ 5 correspondences in normalised coordinates. */
export function essentialFivePoint(x1: Float64Array, x2: Float64Array): number[][] {
  const n = x1.length / 2;
  if (n < 5 || x1.length !== x2.length) return [];
  const [X, Y, Z, W] = nullSpace(epipolarDesign(x1, x2), n, 9, 4) as [number[], number[], number[], number[]];
  // E entries as linear polynomials.
  const E = S.E;
  for (let k = 0; k < 9; k++) {
    const p = E[k]!.fill(0);
    p[12] = X[k]!; p[15] = Y[k]!; p[18] = Z[k]!; p[19] = W[k]!;
  }
  const e = (i: number, j: number) => E[i * 3 + j]!;
  const M = S.M.fill(0);
  // det(E) by cofactors of the first row.
  const det = M.subarray(0, 20), minor = S.minor;
  const addCofactor = (s: number, a: P3, b: P3, c: P3, d: P3, top: P3) => {
    minor.fill(0); p3MulAdd(minor, 1, a, b); p3MulAdd(minor, -1, c, d); p3MulAdd(det, s, top, minor);
  };
  addCofactor(1, e(1, 1), e(2, 2), e(1, 2), e(2, 1), e(0, 0));
  addCofactor(-1, e(1, 0), e(2, 2), e(1, 2), e(2, 0), e(0, 1));
  addCofactor(1, e(1, 0), e(2, 1), e(1, 1), e(2, 0), e(0, 2));
  // EEᵀ (symmetric) and its trace.
  const EEt: P3[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    if (j < i) { EEt.push(EEt[j * 3 + i]!); continue; }
    const r = S.EEt[i * 3 + j]!.fill(0);
    for (let k = 0; k < 3; k++) p3MulAdd(r, 1, e(i, k), e(j, k));
    EEt.push(r);
  }
  const tr = S.tr.fill(0);
  for (let i = 0; i < 3; i++) { const d = EEt[i * 4]!; for (let k = 0; k < 20; k++) tr[k]! += d[k]!; }
  // 2 EEᵀE − tr(EEᵀ) E
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    const r = M.subarray((1 + i * 3 + j) * 20, (2 + i * 3 + j) * 20);
    for (let k = 0; k < 3; k++) p3MulAdd(r, 2, EEt[i * 3 + k]!, e(k, j));
    p3MulAdd(r, -1, tr, e(i, j));
  }
  const M0 = S.M0;
  M0.set(M);
  // Gauss–Jordan on the first 10 columns with partial pivoting.
  for (let c = 0; c < 10; c++) {
    let piv = c, best = Math.abs(M[c * 20 + c]!);
    for (let r = c + 1; r < 10; r++) if (Math.abs(M[r * 20 + c]!) > best) { best = Math.abs(M[r * 20 + c]!); piv = r; }
    if (!(best > 1e-300)) return [];
    if (piv !== c) for (let j = 0; j < 20; j++) { const t = M[c * 20 + j]!; M[c * 20 + j] = M[piv * 20 + j]!; M[piv * 20 + j] = t; }
    const inv = 1 / M[c * 20 + c]!;
    for (let j = c; j < 20; j++) M[c * 20 + j]! *= inv;
    for (let r = 0; r < 10; r++) {
      if (r === c) continue;
      const f = M[r * 20 + c]!;
      if (f === 0) continue;
      for (let j = c; j < 20; j++) M[r * 20 + j]! -= f * M[c * 20 + j]!;
    }
  }
  // ⟨k⟩ = ⟨e⟩ − z⟨f⟩, ⟨l⟩ = ⟨g⟩ − z⟨h⟩, ⟨m⟩ = ⟨i⟩ − z⟨j⟩ (rows 4..9): polynomials in z for columns x, y, 1.
  const B: number[][][] = [];
  for (let r = 0; r < 3; r++) {
    const top = 4 + 2 * r, bot = 5 + 2 * r;
    const row = [new Array<number>(5).fill(0), new Array<number>(5).fill(0), new Array<number>(5).fill(0)];
    for (let col = 10; col < 20; col++) {
      const [a, b, c] = MONO[col]!;
      const v = a === 1 ? 0 : b === 1 ? 1 : 2;
      row[v]![c]! += M[top * 20 + col]!;
      row[v]![c + 1]! -= M[bot * 20 + col]!;
    }
    B.push(row);
  }
  const b = (i: number, j: number) => B[i]![j]!;
  const cof = (a: number[], d: number[], c: number[], e2: number[]) => polyAdd(polyMul(a, d), polyMul(c, e2), -1);
  let detz = polyMul(b(0, 0), cof(b(1, 1), b(2, 2), b(1, 2), b(2, 1)));
  detz = polyAdd(detz, polyMul(b(0, 1), cof(b(1, 0), b(2, 2), b(1, 2), b(2, 0))), -1);
  detz = polyAdd(detz, polyMul(b(0, 2), cof(b(1, 0), b(2, 1), b(1, 1), b(2, 0))));
  const out: number[][] = [];
  for (const z of realPolyRoots(detz)) {
    const Bz = B.map((row) => row.map((p) => evalAsc(p, z)));
    // Null vector of Bz: best-conditioned cross product of two rows.
    let best: number[] | null = null, bestN = 0;
    for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) {
      const c = cross(Bz[i]!, Bz[j]!);
      const nn = Math.hypot(c[0]!, c[1]!, c[2]!);
      if (nn > bestN) { bestN = nn; best = c; }
    }
    if (!best || !(Math.abs(best[2]!) > 1e-14 * bestN)) continue;
    const xyz = polish(M0, [best[0]! / best[2]!, best[1]! / best[2]!, z]);
    const x = xyz[0]!, y = xyz[1]!;
    const Em = X.map((v, k) => x * v + y * Y[k]! + xyz[2]! * Z[k]! + W[k]!);
    if (Em.every(Number.isFinite)) out.push(normalizeFrobenius(Em));
  }
  return out;
}

// Exponents of MONO as flat arrays: polish reads them in its inner loop.
const EXP_X = Int8Array.from(MONO, (m) => m[0]), EXP_Y = Int8Array.from(MONO, (m) => m[1]), EXP_Z = Int8Array.from(MONO, (m) => m[2]);

/**
 * Gauss–Newton on the ten original cubics in (x, y, z): the degree-10 polynomial loses digits when
 * two solutions are close, and a few steps here recover them to full precision. Runs for every root
 * of every RANSAC sample, so it allocates nothing and reads powers from small tables (the
 * products are formed in the same order as x^a·y^b·z^c written out, so the result is the same).
 */
function polish(M0: Float64Array, v: number[]): number[] {
  const { f, J, mono, dm, px, py, pz, H, g, Hi } = S;
  px[0] = py[0] = pz[0] = 1;
  let cur = v.slice(), curNorm = Infinity;
  v = cur;
  for (let it = 0; it < 5; it++) {
    const x = cur[0]!, y = cur[1]!, z = cur[2]!;
    px[1] = x; px[2] = x * x; px[3] = x * x * x;
    py[1] = y; py[2] = y * y; py[3] = y * y * y;
    pz[1] = z; pz[2] = z * z; pz[3] = z * z * z;
    for (let j = 0; j < 20; j++) {
      const a = EXP_X[j]!, b = EXP_Y[j]!, c = EXP_Z[j]!;
      mono[j] = px[a]! * py[b]! * pz[c]!;
      dm[j * 3] = a ? a * px[a - 1]! * py[b]! * pz[c]! : 0;
      dm[j * 3 + 1] = b ? b * px[a]! * py[b - 1]! * pz[c]! : 0;
      dm[j * 3 + 2] = c ? c * px[a]! * py[b]! * pz[c - 1]! : 0;
    }
    let nrm = 0;
    for (let r = 0; r < 10; r++) {
      let s = 0, s0 = 0, s1 = 0, s2 = 0;
      for (let j = 0; j < 20; j++) { const m = M0[r * 20 + j]!; s += m * mono[j]!; s0 += m * dm[j * 3]!; s1 += m * dm[j * 3 + 1]!; s2 += m * dm[j * 3 + 2]!; }
      f[r] = s; J[r * 3] = s0; J[r * 3 + 1] = s1; J[r * 3 + 2] = s2; nrm += s * s;
    }
    if (!(nrm < curNorm)) { cur = v; break; }
    curNorm = nrm;
    H.fill(0); g.fill(0);
    for (let r = 0; r < 10; r++) for (let i = 0; i < 3; i++) {
      g[i]! -= J[r * 3 + i]! * f[r]!;
      for (let k = 0; k < 3; k++) H[i * 3 + k]! += J[r * 3 + i]! * J[r * 3 + k]!;
    }
    if (!invert3(H, Hi)) break;
    const next = [
      cur[0]! + (Hi[0]! * g[0]! + Hi[1]! * g[1]! + Hi[2]! * g[2]!),
      cur[1]! + (Hi[3]! * g[0]! + Hi[4]! * g[1]! + Hi[5]! * g[2]!),
      cur[2]! + (Hi[6]! * g[0]! + Hi[7]! * g[1]! + Hi[8]! * g[2]!),
    ];
    if (!next.every(Number.isFinite)) break;
    v = cur; cur = next;
  }
  return cur;
}

function evalAsc(c: number[], x: number): number { let v = 0; for (let i = c.length - 1; i >= 0; i--) v = v * x + c[i]!; return v; }
function cross(a: number[], b: number[]): number[] { return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!]; }

/** The four (R, t) decompositions of E (t unit). */
export function decomposeEssential(E: readonly number[]): Array<{ R: number[]; t: number[] }> {
  const { U, V } = svd(E, 3, 3);
  const u = Array.from(U), v = Array.from(V);
  // The third left singular vector of a rank-2 matrix is not defined by the column norms: rebuild it.
  const c = cross([u[0]!, u[3]!, u[6]!], [u[1]!, u[4]!, u[7]!]);
  u[2] = c[0]!; u[5] = c[1]!; u[8] = c[2]!;
  if (det3(u) < 0) for (let i = 0; i < 3; i++) u[i * 3 + 2] = -u[i * 3 + 2]!;
  if (det3(v) < 0) for (let i = 0; i < 3; i++) v[i * 3 + 2] = -v[i * 3 + 2]!;
  const Vt = [v[0]!, v[3]!, v[6]!, v[1]!, v[4]!, v[7]!, v[2]!, v[5]!, v[8]!];
  const Wm = [0, -1, 0, 1, 0, 0, 0, 0, 1], Wt = [0, 1, 0, -1, 0, 0, 0, 0, 1];
  const R1 = matMul(matMul(u, Wm, 3, 3, 3), Vt, 3, 3, 3), R2 = matMul(matMul(u, Wt, 3, 3, 3), Vt, 3, 3, 3);
  const t = [u[2]!, u[5]!, u[8]!], tn = [-t[0]!, -t[1]!, -t[2]!];
  return [{ R: R1, t }, { R: R1, t: tn }, { R: R2, t }, { R: R2, t: tn }];
}

/**
 * Relative pose (x_cam2 = R x_cam1 + t, |t| = 1) from E: the decomposition with the most points in
 * front of both cameras (among `inliers` when given). `points` holds the triangulated points in the
 * camera-1 frame (NaN for points not in front or not inliers).
 */
export function recoverPose(E: number[], x1: Float64Array, x2: Float64Array, inliers?: Uint8Array): { R: number[]; t: number[]; nGood: number; points?: Float64Array } {
  const n = x1.length / 2;
  const X = new Float64Array(4);
  let best = { R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 1], nGood: -1 };
  for (const cand of decomposeEssential(E)) {
    let good = 0;
    for (let i = 0; i < n; i++) {
      if (inliers && !inliers[i]) continue;
      if (inFront(cand.R, cand.t, x1[2 * i]!, x1[2 * i + 1]!, x2[2 * i]!, x2[2 * i + 1]!, X)) good++;
    }
    if (good > best.nGood) best = { ...cand, nGood: good };
  }
  const points = new Float64Array(3 * n).fill(NaN);
  for (let i = 0; i < n; i++) {
    if (inliers && !inliers[i]) continue;
    if (inFront(best.R, best.t, x1[2 * i]!, x1[2 * i + 1]!, x2[2 * i]!, x2[2 * i + 1]!, X)) points.set(X.subarray(0, 3), 3 * i);
  }
  return { ...best, nGood: Math.max(0, best.nGood), points };
}

function inFront(R: number[], t: number[], u1: number, v1: number, u2: number, v2: number, X: Float64Array): boolean {
  if (!triangulateDepths(R, t, u1, v1, u2, v2, X)) return false;
  // Depth limit as COLMAP: points very far away (≈ parallel rays) say nothing about cheirality.
  return X[2]! > 1e-12 && X[3]! > 1e-12 && X[2]! < 1e6 && X[3]! < 1e6;
}
