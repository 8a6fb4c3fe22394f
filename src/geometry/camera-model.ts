/**
 * COLMAP camera models: projection of camera-frame points to pixels (with lens distortion) and the
 * inverse, pixel → undistorted normalised image coordinates. Parameter orders as CAMERA_MODELS in
 * src/io/colmap-model.ts; pixel centres at +0.5 like COLMAP (the caller's observations use the same).
 */
import type { Camera, CameraModelName } from '../core/camera.js';

/** Indices of fx, fy, cx, cy in the parameter vector of a model (fx === fy for single-focal models). */
export function intrinsicIndices(model: CameraModelName): { fx: number; fy: number; cx: number; cy: number; extra: number[] } {
  switch (model) {
    case 'SIMPLE_PINHOLE': return { fx: 0, fy: 0, cx: 1, cy: 2, extra: [] };
    case 'SIMPLE_RADIAL': return { fx: 0, fy: 0, cx: 1, cy: 2, extra: [3] };
    case 'RADIAL': return { fx: 0, fy: 0, cx: 1, cy: 2, extra: [3, 4] };
    case 'PINHOLE': return { fx: 0, fy: 1, cx: 2, cy: 3, extra: [] };
    case 'OPENCV': case 'OPENCV_FISHEYE': return { fx: 0, fy: 1, cx: 2, cy: 3, extra: [4, 5, 6, 7] };
    case 'FULL_OPENCV': return { fx: 0, fy: 1, cx: 2, cy: 3, extra: [4, 5, 6, 7, 8, 9, 10, 11] };
  }
}

/**
 * Applies the model's distortion to normalised coordinates (x, y) → distorted normalised (xd, yd).
 * `params` is the full COLMAP vector; only the distortion entries are read.
 */
export function distortNormalized(model: CameraModelName, params: ArrayLike<number>, x: number, y: number, out: Float64Array | number[]): void {
  switch (model) {
    case 'SIMPLE_PINHOLE': case 'PINHOLE':
      out[0] = x; out[1] = y; return;
    case 'SIMPLE_RADIAL': {
      const r2 = x * x + y * y, f = 1 + params[3]! * r2;
      out[0] = x * f; out[1] = y * f; return;
    }
    case 'RADIAL': {
      const r2 = x * x + y * y, f = 1 + r2 * (params[3]! + params[4]! * r2);
      out[0] = x * f; out[1] = y * f; return;
    }
    case 'OPENCV': {
      const k1 = params[4]!, k2 = params[5]!, p1 = params[6]!, p2 = params[7]!;
      const xx = x * x, yy = y * y, xy = x * y, r2 = xx + yy, f = 1 + r2 * (k1 + k2 * r2);
      out[0] = x * f + 2 * p1 * xy + p2 * (r2 + 2 * xx);
      out[1] = y * f + p1 * (r2 + 2 * yy) + 2 * p2 * xy;
      return;
    }
    case 'FULL_OPENCV': {
      const [k1, k2, p1, p2, k3, k4, k5, k6] = [4, 5, 6, 7, 8, 9, 10, 11].map((i) => params[i]!) as number[];
      const xx = x * x, yy = y * y, xy = x * y, r2 = xx + yy, r4 = r2 * r2, r6 = r4 * r2;
      const f = (1 + k1! * r2 + k2! * r4 + k3! * r6) / (1 + k4! * r2 + k5! * r4 + k6! * r6);
      out[0] = x * f + 2 * p1! * xy + p2! * (r2 + 2 * xx);
      out[1] = y * f + p1! * (r2 + 2 * yy) + 2 * p2! * xy;
      return;
    }
    case 'OPENCV_FISHEYE': {
      const r = Math.hypot(x, y);
      if (r < 1e-12) { out[0] = x; out[1] = y; return; }
      const th = Math.atan(r), t2 = th * th;
      const thd = th * (1 + t2 * (params[4]! + t2 * (params[5]! + t2 * (params[6]! + t2 * params[7]!))));
      out[0] = (x * thd) / r; out[1] = (y * thd) / r;
      return;
    }
  }
}

/** Camera-frame point → pixel (with distortion); null when the point is not in front (z ≤ 0). */
export function projectPoint(cam: Camera, Xc: readonly number[]): [number, number] | null {
  const z = Xc[2]!;
  if (!(z > 0)) return null;
  const d = [0, 0];
  distortNormalized(cam.model, cam.params, Xc[0]! / z, Xc[1]! / z, d);
  const ix = intrinsicIndices(cam.model), p = cam.params;
  return [p[ix.fx]! * d[0]! + p[ix.cx]!, p[ix.fy]! * d[1]! + p[ix.cy]!];
}

/** Pixel → undistorted normalised image coordinates (z = 1). Distortion is inverted by Newton steps. */
export function unprojectPixel(cam: Camera, u: number, v: number): [number, number] {
  const ix = intrinsicIndices(cam.model), p = cam.params;
  const xd = (u - p[ix.cx]!) / p[ix.fx]!, yd = (v - p[ix.cy]!) / p[ix.fy]!;
  if (cam.model === 'SIMPLE_PINHOLE' || cam.model === 'PINHOLE') return [xd, yd];
  return undistortNormalized(cam.model, p, xd, yd);
}

/** Inverse of distortNormalized by Newton's method with a numeric 2×2 Jacobian (as COLMAP does). */
export function undistortNormalized(model: CameraModelName, params: ArrayLike<number>, xd: number, yd: number): [number, number] {
  let x = xd, y = yd;
  const d = [0, 0], dx = [0, 0], dy = [0, 0];
  for (let it = 0; it < 100; it++) {
    distortNormalized(model, params, x, y, d);
    const ex = d[0]! - xd, ey = d[1]! - yd;
    if (Math.abs(ex) < 1e-15 && Math.abs(ey) < 1e-15) break;
    const h = 1e-7 * Math.max(1, Math.abs(x), Math.abs(y));
    distortNormalized(model, params, x + h, y, dx);
    distortNormalized(model, params, x, y + h, dy);
    const a = (dx[0]! - d[0]!) / h, b = (dy[0]! - d[0]!) / h, c = (dx[1]! - d[1]!) / h, e = (dy[1]! - d[1]!) / h;
    const det = a * e - b * c;
    if (!(Math.abs(det) > 1e-300)) break;
    const sx = (e * ex - b * ey) / det, sy = (-c * ex + a * ey) / det;
    x -= sx; y -= sy;
    if (Math.abs(sx) < 1e-16 && Math.abs(sy) < 1e-16) break;
  }
  return [x, y];
}

/** Mean focal length in pixels (fx+fy)/2, used to turn pixel thresholds into normalised ones. */
export function meanFocal(cam: Camera): number {
  const ix = intrinsicIndices(cam.model);
  return (cam.params[ix.fx]! + cam.params[ix.fy]!) / 2;
}
