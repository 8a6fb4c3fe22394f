/**
 * Reprojection with analytic Jacobians for the bundle adjuster: pixel of a world point and its
 * derivatives with respect to the pose (left-multiplied rotation update), the point and the
 * camera's intrinsic parameters, for each camera model.
 */
import type { CameraModelName } from '../core/camera.js';
import { distortNormalized, intrinsicIndices } from '../geometry/camera-model.js';

/** Parameters (after the 2 values) in the Jacobian rows written by projectWithJacobian. */
// JAC_POSE = 0: dω (3), dt (3) come first
export const JAC_POINT = 6; // dX (3)
export const JAC_INTR = 9; // d params (model's count)
export const MAX_PARAMS = 12;
export const JAC_STRIDE = JAC_INTR + MAX_PARAMS;

/**
 * Projects world point X with pose (R, t) and camera (model, params), writing
 * out[0..1] = pixel (u, v), out[2 .. 2+JAC_STRIDE) = ∂u/∂(ω, t, X, params), and the next JAC_STRIDE = ∂v/∂(…).
 * Returns false when the point is (numerically) on the camera plane.
 */
export function projectWithJacobian(model: CameraModelName, params: ArrayLike<number>, R: ArrayLike<number>, t: ArrayLike<number>, X: ArrayLike<number>, xo: number, out: Float64Array, ro = 0, to = 0): boolean {
  const X0 = X[xo]!, X1 = X[xo + 1]!, X2 = X[xo + 2]!;
  const R0 = R[ro]!, R1 = R[ro + 1]!, R2 = R[ro + 2]!, R3 = R[ro + 3]!, R4 = R[ro + 4]!, R5 = R[ro + 5]!, R6 = R[ro + 6]!, R7 = R[ro + 7]!, R8 = R[ro + 8]!;
  const r0 = R0 * X0 + R1 * X1 + R2 * X2, r1 = R3 * X0 + R4 * X1 + R5 * X2, r2 = R6 * X0 + R7 * X1 + R8 * X2;
  const c0 = r0 + t[to]!, c1 = r1 + t[to + 1]!, z = r2 + t[to + 2]!;
  if (!(Math.abs(z) > 1e-12)) return false;
  const iz = 1 / z, x = c0 * iz, y = c1 * iz;
  // d(u, v)/d(x, y): a b / c d; and parameter derivatives written directly.
  let a: number, b: number, c: number, d: number, u: number, v: number;
  const U = 2 + JAC_INTR, V = 2 + JAC_STRIDE + JAC_INTR;
  for (let k = 0; k < MAX_PARAMS; k++) { out[U + k] = 0; out[V + k] = 0; }
  const p = params;
  switch (model) {
    case 'SIMPLE_PINHOLE': case 'PINHOLE': {
      const fx = p[0]!, fy = model === 'PINHOLE' ? p[1]! : fx, cx = model === 'PINHOLE' ? p[2]! : p[1]!, cy = model === 'PINHOLE' ? p[3]! : p[2]!;
      u = fx * x + cx; v = fy * y + cy; a = fx; b = 0; c = 0; d = fy;
      if (model === 'PINHOLE') { out[U] = x; out[V + 1] = y; out[U + 2] = 1; out[V + 3] = 1; }
      else { out[U] = x; out[V] = y; out[U + 1] = 1; out[V + 2] = 1; }
      break;
    }
    case 'SIMPLE_RADIAL': case 'RADIAL': {
      const f = p[0]!, k1 = p[3]!, k2 = model === 'RADIAL' ? p[4]! : 0;
      const r2 = x * x + y * y, s = 1 + r2 * (k1 + k2 * r2), sp = k1 + 2 * k2 * r2;
      const xd = x * s, yd = y * s;
      u = f * xd + p[1]!; v = f * yd + p[2]!;
      a = f * (s + 2 * x * x * sp); b = f * 2 * x * y * sp; c = b; d = f * (s + 2 * y * y * sp);
      out[U] = xd; out[V] = yd; out[U + 1] = 1; out[V + 2] = 1;
      out[U + 3] = f * x * r2; out[V + 3] = f * y * r2;
      if (model === 'RADIAL') { out[U + 4] = f * x * r2 * r2; out[V + 4] = f * y * r2 * r2; }
      break;
    }
    case 'OPENCV': {
      const fx = p[0]!, fy = p[1]!, k1 = p[4]!, k2 = p[5]!, p1 = p[6]!, p2 = p[7]!;
      const xx = x * x, yy = y * y, xy = x * y, r2 = xx + yy, s = 1 + r2 * (k1 + k2 * r2), sp = k1 + 2 * k2 * r2;
      const xd = x * s + 2 * p1 * xy + p2 * (r2 + 2 * xx), yd = y * s + p1 * (r2 + 2 * yy) + 2 * p2 * xy;
      u = fx * xd + p[2]!; v = fy * yd + p[3]!;
      a = fx * (s + 2 * xx * sp + 2 * p1 * y + 6 * p2 * x);
      b = fx * (2 * xy * sp + 2 * p1 * x + 2 * p2 * y);
      c = fy * (2 * xy * sp + 2 * p1 * x + 2 * p2 * y);
      d = fy * (s + 2 * yy * sp + 6 * p1 * y + 2 * p2 * x);
      out[U] = xd; out[V + 1] = yd; out[U + 2] = 1; out[V + 3] = 1;
      out[U + 4] = fx * x * r2; out[V + 4] = fy * y * r2;
      out[U + 5] = fx * x * r2 * r2; out[V + 5] = fy * y * r2 * r2;
      out[U + 6] = fx * 2 * xy; out[V + 6] = fy * (r2 + 2 * yy);
      out[U + 7] = fx * (r2 + 2 * xx); out[V + 7] = fy * 2 * xy;
      break;
    }
    default: {
      // Other models: numeric derivatives of the distortion (rarely refined).
      const ix = intrinsicIndices(model), fx = p[ix.fx]!, fy = p[ix.fy]!;
      const dd = [0, 0], d1 = [0, 0], d2 = [0, 0];
      distortNormalized(model, p, x, y, dd);
      u = fx * dd[0]! + p[ix.cx]!; v = fy * dd[1]! + p[ix.cy]!;
      const h = 1e-7;
      distortNormalized(model, p, x + h, y, d1);
      distortNormalized(model, p, x, y + h, d2);
      a = (fx * (d1[0]! - dd[0]!)) / h; b = (fx * (d2[0]! - dd[0]!)) / h;
      c = (fy * (d1[1]! - dd[1]!)) / h; d = (fy * (d2[1]! - dd[1]!)) / h;
      out[U + ix.fx] = dd[0]!; out[V + ix.fy] = dd[1]!; out[U + ix.cx] = 1; out[V + ix.cy] = 1;
      const pp = Array.from(p);
      for (const e of ix.extra) {
        const old = pp[e]!, he = 1e-7 * Math.max(1, Math.abs(old));
        pp[e] = old + he;
        distortNormalized(model, pp, x, y, d1);
        pp[e] = old;
        out[U + e] = (fx * (d1[0]! - dd[0]!)) / he; out[V + e] = (fy * (d1[1]! - dd[1]!)) / he;
      }
    }
  }
  out[0] = u; out[1] = v;
  // d(u, v)/dXc = M · [[iz, 0, −x iz], [0, iz, −y iz]].
  const gu0 = a * iz, gu1 = b * iz, gu2 = -(a * x + b * y) * iz;
  const gv0 = c * iz, gv1 = d * iz, gv2 = -(c * x + d * y) * iz;
  // dXc/dω = −[r]× = [[0, r2, −r1], [−r2, 0, r0], [r1, −r0, 0]].
  out[2] = -gu1 * r2 + gu2 * r1; out[3] = gu0 * r2 - gu2 * r0; out[4] = -gu0 * r1 + gu1 * r0;
  out[5] = gu0; out[6] = gu1; out[7] = gu2;
  out[8] = gu0 * R0 + gu1 * R3 + gu2 * R6; out[9] = gu0 * R1 + gu1 * R4 + gu2 * R7; out[10] = gu0 * R2 + gu1 * R5 + gu2 * R8;
  const o = 2 + JAC_STRIDE;
  out[o] = -gv1 * r2 + gv2 * r1; out[o + 1] = gv0 * r2 - gv2 * r0; out[o + 2] = -gv0 * r1 + gv1 * r0;
  out[o + 3] = gv0; out[o + 4] = gv1; out[o + 5] = gv2;
  out[o + 6] = gv0 * R0 + gv1 * R3 + gv2 * R6; out[o + 7] = gv0 * R1 + gv1 * R4 + gv2 * R7; out[o + 8] = gv0 * R2 + gv1 * R5 + gv2 * R8;
  return true;
}

/** Indices of the refined intrinsic parameters of a camera. */
export function refinedParams(cam: { model: CameraModelName; refineFocal: boolean; refinePrincipalPoint: boolean; refineDistortion: boolean }): number[] {
  const ix = intrinsicIndices(cam.model), out: number[] = [];
  if (cam.refineFocal) { out.push(ix.fx); if (ix.fy !== ix.fx) out.push(ix.fy); }
  if (cam.refinePrincipalPoint) out.push(ix.cx, ix.cy);
  if (cam.refineDistortion) out.push(...ix.extra);
  return out;
}
