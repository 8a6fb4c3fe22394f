/**
 * Per-Gaussian projection maths of the reference rasterizer, forward and backward, in float64:
 * 3D covariance from scale and rotation, EWA splatting with the perspective Jacobian (tan-space
 * clamped to 1.3× the field of view as gsplat does), screen-space dilation (eps2d) with the
 * optional antialiasing opacity compensation, SH colour for the view direction, and the screen
 * extent of the ellipse inside which alpha can reach 1/255.
 *
 * Culling rules (the WGSL project kernel uses the same ones, so both produce the same set):
 *  - camera depth z outside [near, far];
 *  - zero-length quaternion;
 *  - dilated 2D covariance not positive definite;
 *  - effective opacity o < 1/255 (no pixel could pass the alpha ≥ 1/255 test anyway);
 *  - the ellipse's bounding box misses the image.
 * The extent uses k² = 2·ln(255·o) standard deviations², which is exactly the region where
 * o·exp(−½ dᵀΣ⁻¹d) ≥ 1/255, so tile binning never drops a pixel that would pass the alpha test and
 * the image does not depend on how the binning is done.
 */
import { ALPHA_MIN, prepareCamera, type PreparedCamera, type RasterCamera, type RasterOptions } from '../../core/raster.js';
import { shBasis, shBasisBackward } from './sh.js';


/** Parameters as plain arrays so tests can run the reference in float64. */
export interface ParamsLike {
  count: number;
  means: ArrayLike<number>;
  logScales: ArrayLike<number>;
  quats: ArrayLike<number>;
  opacityLogits: ArrayLike<number>;
  sh: ArrayLike<number>;
}

/** What the compositing step needs of one projected Gaussian. */
export interface Projected {
  mx: number;
  my: number;
  /** conic = inverse dilated 2D covariance [[a, b], [b, c]] */
  a: number;
  b: number;
  c: number;
  opacity: number;
  color: [number, number, number];
  depth: number;
  /** half extents of the bounding box of the alpha ≥ 1/255 ellipse, pixels */
  hx: number;
  hy: number;
  /** dilated covariance entries (for exact ellipse–tile tests) and the level k² */
  sxx: number;
  sxy: number;
  syy: number;
  k2: number;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function quatRot(w: number, x: number, y: number, z: number): number[] {
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/** Intermediate values shared by forward and backward. */
interface Geometry {
  p: [number, number, number];
  qn: [number, number, number, number];
  qnorm: number;
  rot: number[];
  s: [number, number, number];
  /** M = rot·diag(s) */
  M: number[];
  covC: number[]; // 3×3 camera-space covariance
  u: number; // clamped x/z
  v: number; // clamped y/z
  clampX: boolean;
  clampY: boolean;
  J: number[]; // 2×3 row-major
  s2: [number, number, number]; // undilated Σ2 (xx, xy, yy)
}

function geometry(P: ParamsLike, i: number, cam: PreparedCamera): Geometry | null {
  const R = cam.R;
  const mx = P.means[3 * i]!, my = P.means[3 * i + 1]!, mz = P.means[3 * i + 2]!;
  // a Gaussian with any non-finite parameter is culled (the WGSL kernels test the bits)
  for (const [arr, k] of [[P.means, 3], [P.logScales, 3], [P.quats, 4]] as const) {
    for (let c = 0; c < k; c++) if (!Number.isFinite(arr[k * i + c]!)) return null;
  }
  const p: [number, number, number] = [
    R[0]! * mx + R[1]! * my + R[2]! * mz + cam.t[0]!,
    R[3]! * mx + R[4]! * my + R[5]! * mz + cam.t[1]!,
    R[6]! * mx + R[7]! * my + R[8]! * mz + cam.t[2]!,
  ];
  const z = p[2];
  if (!(z >= cam.near && z <= cam.far)) return null;
  const qw = P.quats[4 * i]!, qx = P.quats[4 * i + 1]!, qy = P.quats[4 * i + 2]!, qz = P.quats[4 * i + 3]!;
  const qnorm = Math.hypot(qw, qx, qy, qz);
  if (!(qnorm > 1e-12)) return null;
  const qn: [number, number, number, number] = [qw / qnorm, qx / qnorm, qy / qnorm, qz / qnorm];
  const rot = quatRot(qn[0], qn[1], qn[2], qn[3]);
  const s: [number, number, number] = [Math.exp(P.logScales[3 * i]!), Math.exp(P.logScales[3 * i + 1]!), Math.exp(P.logScales[3 * i + 2]!)];
  const M = new Array<number>(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) M[r * 3 + c] = rot[r * 3 + c]! * s[c]!;
  // Σc = (R M)(R M)ᵀ
  const RM = mul3(R, M);
  const covC = mulABt3(RM, RM);
  const rx = p[0] / z, ry = p[1] / z;
  const u = Math.min(cam.limXPos, Math.max(-cam.limXNeg, rx));
  const v = Math.min(cam.limYPos, Math.max(-cam.limYNeg, ry));
  const clampX = u !== rx, clampY = v !== ry;
  const J = [cam.fx / z, 0, (-cam.fx * u) / z, 0, cam.fy / z, (-cam.fy * v) / z];
  // Σ2 = J Σc Jᵀ
  const JS = [0, 0, 0, 0, 0, 0];
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) JS[r * 3 + c]! += J[r * 3 + k]! * covC[k * 3 + c]!;
  const s2xx = JS[0]! * J[0]! + JS[1]! * J[1]! + JS[2]! * J[2]!;
  const s2xy = JS[0]! * J[3]! + JS[1]! * J[4]! + JS[2]! * J[5]!;
  const s2yy = JS[3]! * J[3]! + JS[4]! * J[4]! + JS[5]! * J[5]!;
  return { p, qn, qnorm, rot, s, M, covC, u, v, clampX, clampY, J, s2: [s2xx, s2xy, s2yy] };
}

/** Project Gaussian i; null when culled. */
export function projectGaussian(P: ParamsLike, i: number, cam: PreparedCamera, opts: RasterOptions, basis = new Float64Array(16)): Projected | null {
  const g = geometry(P, i, cam);
  if (!g) return null;
  const eps = opts.eps2d;
  const sxx = g.s2[0] + eps, sxy = g.s2[1], syy = g.s2[2] + eps;
  const det = sxx * syy - sxy * sxy;
  if (!(Number.isFinite(det) && det > 0)) return null;
  let comp = 1;
  if (opts.antialiased) {
    const det0 = g.s2[0] * g.s2[2] - g.s2[1] * g.s2[1];
    comp = Math.sqrt(Math.max(0, det0 / det));
  }
  if (!Number.isFinite(P.opacityLogits[i]!)) return null;
  const opacity = sigmoid(P.opacityLogits[i]!) * comp;
  if (!(opacity >= ALPHA_MIN)) return null;
  const k2 = 2 * Math.log(255 * opacity);
  const hx = Math.sqrt(k2 * sxx), hy = Math.sqrt(k2 * syy);
  const z = g.p[2];
  const mx = (cam.fx * g.p[0]) / z + cam.cx;
  const my = (cam.fy * g.p[1]) / z + cam.cy;
  if (mx + hx <= 0 || mx - hx >= cam.width || my + hy <= 0 || my - hy >= cam.height) return null;
  const color = shColor(P, i, cam, opts.shDegree, basis);
  if (!(Number.isFinite(color[0]) && Number.isFinite(color[1]) && Number.isFinite(color[2]))) return null;
  return { mx, my, a: syy / det, b: -sxy / det, c: sxx / det, opacity, color, depth: z, hx, hy, sxx, sxy, syy, k2 };
}

function viewDir(P: ParamsLike, i: number, cam: PreparedCamera): { n: [number, number, number]; len: number } {
  const dx = P.means[3 * i]! - cam.campos[0]!, dy = P.means[3 * i + 1]! - cam.campos[1]!, dz = P.means[3 * i + 2]! - cam.campos[2]!;
  const len = Math.hypot(dx, dy, dz) || 1;
  return { n: [dx / len, dy / len, dz / len], len };
}

function shColor(P: ParamsLike, i: number, cam: PreparedCamera, degree: number, basis: Float64Array): [number, number, number] {
  const { n } = viewDir(P, i, cam);
  shBasis(degree, n[0], n[1], n[2], basis);
  const K = (degree + 1) * (degree + 1);
  const out: [number, number, number] = [0.5, 0.5, 0.5];
  for (let k = 0; k < K; k++) for (let c = 0; c < 3; c++) out[c] += P.sh[i * 48 + k * 3 + c]! * basis[k]!;
  // a non-finite raw colour (before the clamp, as the kernel tests it) makes projectGaussian cull
  if (!(Number.isFinite(out[0]) && Number.isFinite(out[1]) && Number.isFinite(out[2]))) return [NaN, NaN, NaN];
  return [Math.max(0, out[0]), Math.max(0, out[1]), Math.max(0, out[2])];
}

/** Gradients of the loss with respect to one projected Gaussian's 2D quantities. */
export interface Projected2dGrad {
  mx: number;
  my: number;
  /** ∂L/∂a, ∂L/∂b (b as the scalar in a·dx² + 2b·dx·dy + c·dy²), ∂L/∂c */
  a: number;
  b: number;
  c: number;
  opacity: number;
  color: [number, number, number];
  depth: number;
}

/** Where projectBackward accumulates. */
export interface GradSink {
  means: Float64Array | Float32Array;
  logScales: Float64Array | Float32Array;
  quats: Float64Array | Float32Array;
  opacityLogits: Float64Array | Float32Array;
  sh: Float64Array | Float32Array;
  /** [dω, dv] accumulated over Gaussians */
  pose: Float64Array;
}

/** Back-propagate 2D gradients of Gaussian i to its parameters and to the camera pose. */
export function projectBackward(P: ParamsLike, i: number, cam: PreparedCamera, opts: RasterOptions, gd: Projected2dGrad, out: GradSink): void {
  const g = geometry(P, i, cam);
  if (!g) return;
  const eps = opts.eps2d;
  const sxx = g.s2[0] + eps, sxy = g.s2[1], syy = g.s2[2] + eps;
  const det = sxx * syy - sxy * sxy;
  const Q = [syy / det, -sxy / det, -sxy / det, sxx / det]; // conic, 2×2 row-major
  const sig = sigmoid(P.opacityLogits[i]!);
  let comp = 1;
  if (opts.antialiased) {
    const det0 = g.s2[0] * g.s2[2] - g.s2[1] * g.s2[1];
    comp = Math.sqrt(Math.max(0, det0 / det));
  }
  // opacity = sigmoid(l)·comp
  out.opacityLogits[i] += gd.opacity * comp * sig * (1 - sig);
  // conic = Σ'⁻¹  ⇒  ∂L/∂Σ' = −Q G Q, with G the symmetric matrix gradient of the conic
  const G = [gd.a, 0.5 * gd.b, 0.5 * gd.b, gd.c];
  const QG = mul2(Q, G);
  const dS = mul2(QG, Q).map((x) => -x);
  if (opts.antialiased && comp > 1e-12) {
    // comp² = det(Σ'−εI)/det(Σ') = 1 − ε·tr(Q) + ε²/det(Σ')  ⇒  ∂comp²/∂Σ' = ε Q² − (ε²/det) Q
    const dComp = gd.opacity * sig;
    const dComp2 = dComp / (2 * comp);
    const Q2 = mul2(Q, Q);
    for (let k = 0; k < 4; k++) dS[k]! += dComp2 * (eps * Q2[k]! - ((eps * eps) / det) * Q[k]!);
  }
  // Σ2 = J Σc Jᵀ: ∂L/∂Σc = Jᵀ dS J, ∂L/∂J = 2 dS J Σc
  const J = g.J;
  const dSJ = [0, 0, 0, 0, 0, 0];
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 2; k++) dSJ[r * 3 + c]! += dS[r * 2 + k]! * J[k * 3 + c]!;
  const dCov = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 2; k++) dCov[r * 3 + c]! += J[k * 3 + r]! * dSJ[k * 3 + c]!;
  const dJ = [0, 0, 0, 0, 0, 0];
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) dJ[r * 3 + c]! += 2 * dSJ[r * 3 + k]! * g.covC[k * 3 + c]!;
  const [x, y, z] = g.p;
  const fx = cam.fx, fy = cam.fy;
  const dp: [number, number, number] = [0, 0, 0];
  // J = [[fx/z, 0, −fx·u/z], [0, fy/z, −fy·v/z]], u = clamp(x/z)
  const dudx = g.clampX ? 0 : 1 / z, dudz = g.clampX ? 0 : -x / (z * z);
  const dvdy = g.clampY ? 0 : 1 / z, dvdz = g.clampY ? 0 : -y / (z * z);
  dp[0] += dJ[2]! * (-fx / z) * dudx;
  dp[1] += dJ[5]! * (-fy / z) * dvdy;
  dp[2] += dJ[0]! * (-fx / (z * z)) + dJ[4]! * (-fy / (z * z));
  dp[2] += dJ[2]! * ((fx * g.u) / (z * z) - (fx / z) * dudz);
  dp[2] += dJ[5]! * ((fy * g.v) / (z * z) - (fy / z) * dvdz);
  // mean2d = (fx·x/z + cx, fy·y/z + cy); depth output = z
  dp[0] += (gd.mx * fx) / z;
  dp[1] += (gd.my * fy) / z;
  dp[2] += (-gd.mx * fx * x) / (z * z) - (gd.my * fy * y) / (z * z) + gd.depth;
  const R = cam.R;
  // mean: p = R m + t
  for (let k = 0; k < 3; k++) out.means[3 * i + k] += R[k]! * dp[0] + R[3 + k]! * dp[1] + R[6 + k]! * dp[2];
  // pose (left perturbation): δp = ω×p + v, δΣc = ω^Σc − Σc ω^
  const Mc = mul3(g.covC, dCov);
  out.pose[0] += y * dp[2] - z * dp[1] + 2 * (Mc[5]! - Mc[7]!);
  out.pose[1] += z * dp[0] - x * dp[2] + 2 * (Mc[6]! - Mc[2]!);
  out.pose[2] += x * dp[1] - y * dp[0] + 2 * (Mc[1]! - Mc[3]!);
  out.pose[3] += dp[0];
  out.pose[4] += dp[1];
  out.pose[5] += dp[2];
  // Σc = R Σ3 Rᵀ ⇒ ∂L/∂Σ3 = Rᵀ dCov R; Σ3 = M Mᵀ ⇒ ∂L/∂M = 2 dΣ3 M
  const dCov3 = mul3(mulAtB3(R, dCov), R);
  const dM = mul3(dCov3, g.M).map((v) => 2 * v);
  const dRot = new Array<number>(9);
  for (let c = 0; c < 3; c++) {
    let ds = 0;
    for (let r = 0; r < 3; r++) {
      ds += dM[r * 3 + c]! * g.rot[r * 3 + c]!;
      dRot[r * 3 + c] = dM[r * 3 + c]! * g.s[c]!;
    }
    out.logScales[3 * i + c] += ds * g.s[c]!;
  }
  const [w, qx, qy, qz] = g.qn;
  const gR = dRot;
  const dqn = [
    2 * (-qz * gR[1]! + qy * gR[2]! + qz * gR[3]! - qx * gR[5]! - qy * gR[6]! + qx * gR[7]!),
    2 * (qy * gR[1]! + qz * gR[2]! + qy * gR[3]! - w * gR[5]! + qz * gR[6]! + w * gR[7]!) - 4 * qx * (gR[4]! + gR[8]!),
    2 * (qx * gR[1]! + w * gR[2]! + qx * gR[3]! + qz * gR[5]! - w * gR[6]! + qz * gR[7]!) - 4 * qy * (gR[0]! + gR[8]!),
    2 * (-w * gR[1]! + qx * gR[2]! + w * gR[3]! + qy * gR[5]! + qx * gR[6]! + qy * gR[7]!) - 4 * qz * (gR[0]! + gR[4]!),
  ];
  const dot = dqn[0]! * w + dqn[1]! * qx + dqn[2]! * qy + dqn[3]! * qz;
  for (let k = 0; k < 4; k++) out.quats[4 * i + k] += (dqn[k]! - g.qn[k]! * dot) / g.qnorm;
  // colour: max(0, 0.5 + Σ sh·Y(dir)), dir = normalise(m − campos)
  const degree = opts.shDegree;
  const K = (degree + 1) * (degree + 1);
  const { n, len } = viewDir(P, i, cam);
  const basis = new Float64Array(16);
  shBasis(degree, n[0], n[1], n[2], basis);
  const dcol = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let v = 0.5;
    for (let k = 0; k < K; k++) v += P.sh[i * 48 + k * 3 + c]! * basis[k]!;
    dcol[c] = v < 0 ? 0 : gd.color[c]!;
  }
  const dY = new Float64Array(16);
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < 3; c++) {
      out.sh[i * 48 + k * 3 + c] += basis[k]! * dcol[c]!;
      dY[k]! += P.sh[i * 48 + k * 3 + c]! * dcol[c]!;
    }
  }
  const dn = shBasisBackward(degree, n[0], n[1], n[2], dY);
  const nd = dn[0] * n[0] + dn[1] * n[1] + dn[2] * n[2];
  const ddir = [(dn[0] - n[0] * nd) / len, (dn[1] - n[1] * nd) / len, (dn[2] - n[2] * nd) / len];
  for (let k = 0; k < 3; k++) out.means[3 * i + k] += ddir[k]!;
  // campos = −Rᵀt moves by −Rᵀv under the perturbation: ∂L/∂v += R·∂L/∂dir
  for (let k = 0; k < 3; k++) out.pose[3 + k] += R[k * 3]! * ddir[0]! + R[k * 3 + 1]! * ddir[1]! + R[k * 3 + 2]! * ddir[2]!;
}

function mul2(a: number[], b: number[]): number[] {
  return [a[0]! * b[0]! + a[1]! * b[2]!, a[0]! * b[1]! + a[1]! * b[3]!, a[2]! * b[0]! + a[3]! * b[2]!, a[2]! * b[1]! + a[3]! * b[3]!];
}

function mul3(a: readonly number[], b: readonly number[]): number[] {
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j]! += a[i * 3 + k]! * b[k * 3 + j]!;
  return r;
}

/** a · bᵀ */
function mulABt3(a: readonly number[], b: readonly number[]): number[] {
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j]! += a[i * 3 + k]! * b[j * 3 + k]!;
  return r;
}

/** aᵀ · b */
function mulAtB3(a: readonly number[], b: readonly number[]): number[] {
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j]! += a[k * 3 + i]! * b[k * 3 + j]!;
  return r;
}
