/**
 * Small dense linear algebra in double precision, row-major Float64Array / number[]:
 * one-sided Jacobi SVD, Jacobi eigen-decomposition of symmetric matrices, Cholesky, 3×3 helpers,
 * and real roots of polynomials (Sturm sequences). Sizes here are tiny (≤ ~20) except Cholesky,
 * which solves the reduced camera system of bundle adjustment. (Just over 400 lines: a toolbox of
 * independent routines that share small helpers; splitting it would only scatter them.)
 */

export interface SVDResult {
  /** m×k left singular vectors (k = min(m, n) after padding: k = n), row-major */
  U: Float64Array;
  /** singular values, descending, length n */
  S: Float64Array;
  /** n×n right singular vectors as columns, row-major */
  V: Float64Array;
}

/**
 * SVD of an m×n row-major matrix by Hestenes' one-sided Jacobi rotations (accurate to the last
 * digits for small singular values, which is what null-space solvers need). When m < n the matrix is
 * padded with zero rows, so U is max(m,n)×n.
 */
export function svd(A: ArrayLike<number>, m: number, n: number): SVDResult {
  const rows = Math.max(m, n);
  // Work on columns: store transposed (n columns of length rows) for contiguous access.
  const W = new Float64Array(n * rows);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) W[j * rows + i] = A[i * n + j]!;
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < W.length; i++) total += W[i]! * W[i]!;
  // A column whose norm is negligible next to the whole matrix is already (numerically) null.
  const negligible = 1e-30 * total;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        const op = p * rows, oq = q * rows;
        for (let i = 0; i < rows; i++) {
          const a = W[op + i]!, b = W[oq + i]!;
          alpha += a * a; beta += b * b; gamma += a * b;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || alpha < negligible || beta < negligible) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let i = 0; i < rows; i++) {
          const a = W[op + i]!, b = W[oq + i]!;
          W[op + i] = c * a - s * b; W[oq + i] = s * a + c * b;
        }
        for (let i = 0; i < n; i++) {
          const a = V[i * n + p]!, b = V[i * n + q]!;
          V[i * n + p] = c * a - s * b; V[i * n + q] = s * a + c * b;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += W[j * rows + i]! ** 2;
    norms[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => norms[b]! - norms[a]!);
  const U = new Float64Array(rows * n), S = new Float64Array(n), Vs = new Float64Array(n * n);
  order.forEach((j, k) => {
    S[k] = norms[j]!;
    const inv = norms[j]! > 0 ? 1 / norms[j]! : 0;
    for (let i = 0; i < rows; i++) U[i * n + k] = W[j * rows + i]! * inv;
    for (let i = 0; i < n; i++) Vs[i * n + k] = V[i * n + j]!;
    // Left vectors of (numerically) zero singular values are not determined by W: complete U with an
    // orthonormal vector (Gram–Schmidt on the unit vectors) so that it stays orthonormal.
    if (!(norms[j]! * norms[j]! > negligible)) {
      let bestNorm = 0;
      const cand = new Float64Array(rows), best = new Float64Array(rows);
      for (let e = 0; e < rows; e++) {
        cand.fill(0); cand[e] = 1;
        for (let c = 0; c < k; c++) {
          let d = 0;
          for (let i = 0; i < rows; i++) d += U[i * n + c]! * cand[i]!;
          for (let i = 0; i < rows; i++) cand[i]! -= d * U[i * n + c]!;
        }
        let nn = 0;
        for (let i = 0; i < rows; i++) nn += cand[i]! * cand[i]!;
        if (nn > bestNorm) { bestNorm = nn; best.set(cand); }
      }
      const s = bestNorm > 0 ? 1 / Math.sqrt(bestNorm) : 0;
      for (let i = 0; i < rows; i++) U[i * n + k] = best[i]! * s;
      S[k] = norms[j]!;
    }
  });
  return { U, S, V: Vs };
}

/**
 * Right singular vectors of the k smallest singular values (each length n), smallest last. Tall
 * matrices (m > 4n, e.g. a least-squares refit on hundreds of inliers) go through the eigenvectors
 * of AᵀA instead: n² m work instead of sweeps over all m rows, and the inputs are Hartley-normalised.
 */
export function nullSpace(A: ArrayLike<number>, m: number, n: number, k: number): number[][] {
  if (m < n && k === n - m) return nullSpaceQR(A, m, n);
  if (m > 4 * n) {
    const AtA = new Float64Array(n * n);
    for (let r = 0; r < m; r++) {
      const o = r * n;
      for (let i = 0; i < n; i++) {
        const ai = A[o + i]!;
        if (ai === 0) continue;
        for (let j = i; j < n; j++) AtA[i * n + j]! += ai * A[o + j]!;
      }
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) AtA[i * n + j] = AtA[j * n + i]!;
    const { vectors } = symmetricEigen(AtA, n);
    // Ascending eigenvalues: the first k, reordered so that the smallest comes last.
    return vectors.slice(0, k).reverse();
  }
  const { V } = svd(A, m, n);
  const out: number[][] = [];
  for (let c = n - k; c < n; c++) {
    const v: number[] = [];
    for (let i = 0; i < n; i++) v.push(V[i * n + c]!);
    out.push(v);
  }
  return out;
}

/**
 * Null space of a full-rank m×n matrix with m < n (minimal solvers): Householder QR of Aᵀ; the last
 * n − m columns of Q are an orthonormal basis of the null space. Exact up to rounding, no iterations.
 */
function nullSpaceQR(A: ArrayLike<number>, m: number, n: number): number[][] {
  // B = Aᵀ (n×m), column-major per reflection step for clarity.
  const B = new Float64Array(n * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) B[j * m + i] = A[i * n + j]!;
  const vs: Float64Array[] = [];
  for (let c = 0; c < m; c++) {
    let nrm = 0;
    for (let r = c; r < n; r++) nrm += B[r * m + c]! ** 2;
    nrm = Math.sqrt(nrm);
    const v = new Float64Array(n);
    if (nrm === 0) { vs.push(v); continue; }
    const alpha = B[c * m + c]! > 0 ? -nrm : nrm;
    for (let r = c; r < n; r++) v[r] = B[r * m + c]!;
    v[c]! -= alpha;
    let vn = 0;
    for (let r = c; r < n; r++) vn += v[r]! * v[r]!;
    if (vn > 0) {
      const inv = 1 / Math.sqrt(vn);
      for (let r = c; r < n; r++) v[r]! *= inv;
      // B ← (I − 2vvᵀ) B on the remaining columns.
      for (let j = c; j < m; j++) {
        let d = 0;
        for (let r = c; r < n; r++) d += v[r]! * B[r * m + j]!;
        for (let r = c; r < n; r++) B[r * m + j]! -= 2 * d * v[r]!;
      }
    }
    vs.push(v);
  }
  const out: number[][] = [];
  for (let j = n - 1; j >= m; j--) {
    // Q e_j = H_0 H_1 … H_{m−1} e_j
    const q = new Float64Array(n);
    q[j] = 1;
    for (let c = m - 1; c >= 0; c--) {
      const v = vs[c]!;
      let d = 0;
      for (let r = c; r < n; r++) d += v[r]! * q[r]!;
      for (let r = c; r < n; r++) q[r]! -= 2 * d * v[r]!;
    }
    out.push(Array.from(q));
  }
  return out.reverse();
}

/** Eigen-decomposition of a symmetric n×n matrix (cyclic Jacobi). Values ascending; vectors[k] matches values[k]. */
export function symmetricEigen(A: ArrayLike<number>, n: number): { values: number[]; vectors: number[][] } {
  const a = Float64Array.from({ length: n * n }, (_, i) => A[i]!);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i]! * a[i]!;
  for (let sweep = 0; sweep < 64; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off === 0 || off <= 1e-34 * total) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.abs(theta) > 1e150 ? 1 / (2 * theta) : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const kp = a[k * n + p]!, kq = a[k * n + q]!;
          a[k * n + p] = c * kp - s * kq; a[k * n + q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          const pk = a[p * n + k]!, qk = a[q * n + k]!;
          a[p * n + k] = c * pk - s * qk; a[q * n + k] = s * pk + c * qk;
        }
        for (let k = 0; k < n; k++) {
          const kp = V[k * n + p]!, kq = V[k * n + q]!;
          V[k * n + p] = c * kp - s * kq; V[k * n + q] = s * kp + c * kq;
        }
      }
    }
  }
  const idx = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[x * n + x]! - a[y * n + y]!);
  return {
    values: idx.map((i) => a[i * n + i]!),
    vectors: idx.map((k) => Array.from({ length: n }, (_, r) => V[r * n + k]!)),
  };
}

/**
 * In-place Cholesky factorisation (lower triangle) of a symmetric positive definite n×n matrix and
 * solve of A x = b (b overwritten with x). Returns false when A is not numerically positive definite.
 */
export function choleskySolve(A: Float64Array, n: number, b: Float64Array): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = A[rj + j]!;
    for (let k = 0; k < j; k++) d -= A[rj + k]! * A[rj + k]!;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    A[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = A[ri + j]!;
      for (let k = 0; k < j; k++) s -= A[ri + k]! * A[rj + k]!;
      A[ri + j] = s * inv;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= A[ri + k]! * b[k]!;
    b[i] = s / A[ri + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= A[k * n + i]! * b[k]!;
    b[i] = s / A[i * n + i]!;
  }
  return true;
}

/** Determinant of a 3×3 row-major matrix. */
export function det3(m: ArrayLike<number>): number {
  return m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
}

/** Inverse of a symmetric 3×3 matrix (stored 9 entries) into out; returns false when singular. */
export function invert3(m: ArrayLike<number>, out: Float64Array | number[]): boolean {
  const a = m[0]!, b = m[1]!, c = m[2]!, d = m[3]!, e = m[4]!, f = m[5]!, g = m[6]!, h = m[7]!, i = m[8]!;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!(Math.abs(det) > 1e-300) || !Number.isFinite(det)) return false;
  const r = 1 / det;
  out[0] = A * r; out[1] = -(b * i - c * h) * r; out[2] = (b * f - c * e) * r;
  out[3] = B * r; out[4] = (a * i - c * g) * r; out[5] = -(a * f - c * d) * r;
  out[6] = C * r; out[7] = -(a * h - b * g) * r; out[8] = (a * e - b * d) * r;
  return true;
}

/** Product of m×k and k×n row-major matrices. */
export function matMul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const r = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) for (let l = 0; l < k; l++) {
    const x = a[i * k + l]!;
    if (x === 0) continue;
    for (let j = 0; j < n; j++) r[i * n + j]! += x * b[l * n + j]!;
  }
  return r;
}

// ---------------------------------------------------------------- polynomials (coefficients ascending: c[0] + c[1] x + ...)

export function polyEval(c: ArrayLike<number>, x: number): number {
  let v = 0;
  for (let i = c.length - 1; i >= 0; i--) v = v * x + c[i]!;
  return v;
}

export function polyMul(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const r = new Array<number>(a.length + b.length - 1).fill(0);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) r[i + j]! += a[i]! * b[j]!;
  return r;
}

export function polyAdd(a: ArrayLike<number>, b: ArrayLike<number>, sb = 1): number[] {
  const r = new Array<number>(Math.max(a.length, b.length)).fill(0);
  for (let i = 0; i < a.length; i++) r[i]! += a[i]!;
  for (let i = 0; i < b.length; i++) r[i]! += sb * b[i]!;
  return r;
}

function trim(c: number[], scale: number): number[] {
  const r = c.slice();
  while (r.length > 1 && Math.abs(r[r.length - 1]!) <= 1e-13 * scale) r.pop();
  return r;
}

/** Remainder of a / b (both trimmed, b non-constant leading coefficient non-zero). */
function polyRem(a: number[], b: number[]): number[] {
  const r = a.slice();
  const db = b.length - 1, lb = b[db]!;
  for (let k = r.length - 1; k >= db; k--) {
    const f = r[k]! / lb;
    if (f === 0) continue;
    for (let j = 0; j <= db; j++) r[k - db + j]! -= f * b[j]!;
  }
  return r.slice(0, Math.max(1, db));
}

/**
 * Real roots of a polynomial (ascending coefficients), found by isolating them with a Sturm
 * sequence and polishing by bisection-safeguarded Newton steps. Roots are sorted ascending.
 */
export function realPolyRoots(coeffs: ArrayLike<number>): number[] {
  let maxAbs = 0;
  for (let i = 0; i < coeffs.length; i++) maxAbs = Math.max(maxAbs, Math.abs(coeffs[i]!));
  if (!(maxAbs > 0)) return [];
  // Normalise to max |c| = 1 and drop negligible leading terms.
  const p = trim(Array.from(coeffs, (c) => c / maxAbs), 1);
  const deg = p.length - 1;
  if (deg <= 0) return [];
  if (deg === 1) return [-p[0]! / p[1]!];
  if (deg === 2) {
    const [c, b, a] = p as [number, number, number];
    const disc = b * b - 4 * a * c;
    if (disc < 0) return [];
    const sq = Math.sqrt(disc), qq = -0.5 * (b + (b >= 0 ? sq : -sq));
    const r = qq !== 0 ? [qq / a, c / qq] : [0, 0];
    return r.sort((x, y) => x - y);
  }
  // Cauchy bound on root magnitude.
  const lead = p[deg]!;
  let bound = 0;
  for (let i = 0; i < deg; i++) bound = Math.max(bound, Math.abs(p[i]! / lead));
  bound = 1 + bound;
  // Sturm chain.
  const chain: number[][] = [p];
  const dp: number[] = [];
  for (let i = 1; i <= deg; i++) dp.push(i * p[i]!);
  chain.push(dp);
  while (chain[chain.length - 1]!.length > 1) {
    const a = chain[chain.length - 2]!, b = chain[chain.length - 1]!;
    let r = polyRem(a, b).map((x) => -x);
    let s = 0;
    for (const x of r) s = Math.max(s, Math.abs(x));
    if (s < 1e-300) break;
    r = trim(r.map((x) => x / s), 1);
    if (r.length === 1 && Math.abs(r[0]!) < 1e-14) break;
    chain.push(r);
  }
  const changes = (x: number): number => {
    let n = 0, prev = 0;
    for (const c of chain) {
      const v = polyEval(c, x);
      if (v === 0) continue;
      if (prev !== 0 && (v > 0) !== (prev > 0)) n++;
      prev = v;
    }
    return n;
  };
  const roots: number[] = [];
  const refine = (lo: number, hi: number): number => {
    let flo = polyEval(p, lo);
    let x = 0.5 * (lo + hi);
    for (let it = 0; it < 200; it++) {
      const fx = polyEval(p, x);
      if (fx === 0) return x;
      if ((fx > 0) === (flo > 0)) { lo = x; flo = fx; } else hi = x;
      // Newton step when it stays inside the bracket.
      let d = 0;
      for (let i = deg; i >= 1; i--) d = d * x + i * p[i]!;
      let nx = d !== 0 ? x - fx / d : NaN;
      if (!(nx > lo && nx < hi)) nx = 0.5 * (lo + hi);
      if (Math.abs(nx - x) <= 1e-15 * Math.max(1, Math.abs(x)) || hi - lo <= 1e-15 * Math.max(1, Math.abs(x))) return nx;
      x = nx;
    }
    return x;
  };
  const isolate = (lo: number, hi: number, clo: number, chi: number, depth: number): void => {
    const n = clo - chi;
    if (n <= 0) return;
    if (n === 1 && (polyEval(p, lo) > 0) !== (polyEval(p, hi) > 0)) { roots.push(refine(lo, hi)); return; }
    if (depth > 80 || hi - lo < 1e-14 * Math.max(1, Math.abs(lo))) { roots.push(0.5 * (lo + hi)); return; }
    const mid = 0.5 * (lo + hi);
    const cm = changes(mid);
    isolate(lo, mid, clo, cm, depth + 1);
    isolate(mid, hi, cm, chi, depth + 1);
  };
  // Shift the bracket a little so that a root never sits exactly on an end.
  const lo = -bound * 1.0000001, hi = bound * 1.0000003;
  isolate(lo, hi, changes(lo), changes(hi), 0);
  return roots.sort((a, b) => a - b);
}

/**
 * Envelope ("skyline") storage of the lower triangle of a symmetric matrix: row r holds columns
 * first[r] … r contiguously, element (r, c) at base[r] + c. A dense n×n matrix is the special case
 * first[r] = 0, base[r] = r·n. Cholesky keeps its fill inside the envelope, so a banded matrix
 * (images of a sequence ordered along it) factors in O(n·b²) instead of O(n³).
 */
export interface Envelope { n: number; first: Int32Array; base: Int32Array; size: number }

/** In-place envelope Cholesky (A = L Lᵀ, L written over A's lower triangle); false when not numerically positive definite. */
export function envelopeCholesky(A: Float64Array, env: Envelope): boolean {
  const { n, first, base } = env;
  for (let i = 0; i < n; i++) {
    const fi = first[i]!, bi = base[i]!;
    for (let j = fi; j < i; j++) {
      const bj = base[j]!, k0 = Math.max(fi, first[j]!);
      let s = A[bi + j]!;
      for (let k = k0; k < j; k++) s -= A[bi + k]! * A[bj + k]!;
      A[bi + j] = s / A[bj + j]!;
    }
    let d = A[bi + i]!;
    for (let k = fi; k < i; k++) d -= A[bi + k]! * A[bi + k]!;
    if (!(d > 0)) return false;
    A[bi + i] = Math.sqrt(d);
  }
  return true;
}

/** Solves L Lᵀ x = b with a factor from envelopeCholesky (b overwritten with x). */
export function envelopeSolve(L: Float64Array, env: Envelope, b: Float64Array): void {
  const { n, first, base } = env;
  for (let i = 0; i < n; i++) {
    const bi = base[i]!;
    let s = b[i]!;
    for (let k = first[i]!; k < i; k++) s -= L[bi + k]! * b[k]!;
    b[i] = s / L[bi + i]!;
  }
  // Lᵀ x = y by columns of L (rows of the envelope): subtract row i's contribution once x_i is known.
  for (let i = n - 1; i >= 0; i--) {
    const bi = base[i]!;
    const xi = (b[i] = b[i]! / L[bi + i]!);
    for (let k = first[i]!; k < i; k++) b[k]! -= L[bi + k]! * xi;
  }
}
