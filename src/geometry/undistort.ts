/**
 * Undistortion of photos to a pinhole camera, as training and evaluation need it (the rasterizer
 * is a pinhole): for a camera with lens distortion (any COLMAP model in core/camera.ts), choose the
 * pinhole that keeps the lens's focal length and the largest axis-aligned crop of valid pixels,
 * and a per-pixel map from that pinhole image to positions in the distorted photo.
 *
 * - The map is the forward model (pinhole pixel → ray → distorted pixel), so sampling needs no
 *   inverse; the inverse (Newton, camera-model.ts) only finds the crop from the photo's border.
 * - Valid pixel: its map position lies within the outermost pixel centres of the photo (so
 *   bilinear/bicubic taps interpolate real pixels, never a border extension) and the distortion
 *   is locally one-to-one there (positive Jacobian: no fold-over of a strong radial term).
 * - Crop: as OpenCV's getOptimalNewCameraMatrix(alpha = 0) region of interest, then checked on
 *   every output pixel and shrunk about its centre until all are valid. Focal length kept (as
 *   COLMAP's image_undistorter), then the whole pinhole rescaled so its long side is at most
 *   `maxSide`.
 * Conventions as COLMAP: pixel centres at +0.5, x right, y down. Pure functions; no I/O.
 */
import type { Camera, CameraModelName, Pinhole } from '../core/camera.js';
import { distortNormalized, intrinsicIndices, undistortNormalized } from './camera-model.js';

/** A camera at a given image size: pinhole part in pixels at that size, distortion as the model's. */
export interface Lens extends Pinhole {
  model: CameraModelName;
  /** the model's full COLMAP parameter vector (only the distortion entries are read) */
  params: readonly number[];
}

/** Undistorted pinhole camera and, per output pixel (row-major), its position in the distorted image. */
export interface Undistortion {
  pinhole: Pinhole;
  /** 2 × width × height: distorted-image x, y (pixel coordinates, centres at +0.5) */
  map: Float32Array;
  /** the source (distorted) image size the map samples */
  source: { width: number; height: number };
}

export interface UndistortOptions {
  /** longest side of the undistorted image (pixels); default: the source's longest side */
  maxSide?: number;
  /** bound on the crop's half field of view, as tan(angle) in normalised coordinates (default tan 80°) */
  maxTan?: number;
}

/** True when the camera has any non-zero distortion parameter. */
export function hasDistortion(cam: { model: CameraModelName; params: readonly number[] }): boolean {
  return intrinsicIndices(cam.model).extra.some((i) => (cam.params[i] ?? 0) !== 0);
}

/** The camera resized to width × height: focal lengths and principal point scaled per axis. */
export function lensAt(cam: Camera, width = cam.width, height = cam.height): Lens {
  const ix = intrinsicIndices(cam.model), p = cam.params;
  const sx = width / cam.width, sy = height / cam.height;
  return { model: cam.model, params: [...p], width, height, fx: p[ix.fx]! * sx, fy: p[ix.fy]! * sy, cx: p[ix.cx]! * sx, cy: p[ix.cy]! * sy };
}

/** Normalised undistorted (x, y) → distorted pixel (u, v) into out. */
export function distortToPixel(lens: Lens, x: number, y: number, out: number[] | Float64Array): void {
  distortNormalized(lens.model, lens.params, x, y, out);
  out[0] = lens.fx * out[0]! + lens.cx;
  out[1] = lens.fy * out[1]! + lens.cy;
}

/**
 * Whether (x, y) lies on the lens's main branch: the distorted radius grows steadily along the ray
 * from the principal point to (x, y). A strong radial term folds the image over (barrel k1 < 0:
 * beyond the fold, rays land back inside the photo, even mirrored) — those roots are not the pixel's ray.
 */
export function onMainBranch(lens: Lens, x: number, y: number, samples = 32): boolean {
  const d = [0, 0];
  let prev = 0;
  for (let i = 1; i <= samples; i++) {
    const t = i / samples;
    distortNormalized(lens.model, lens.params, x * t, y * t, d);
    const along = (d[0]! * x + d[1]! * y) / Math.max(1e-300, Math.hypot(x, y));
    if (!(along > prev)) return false;
    prev = along;
  }
  return true;
}

/**
 * Distorted pixel (u, v) → normalised undistorted (x, y); null where the inverse does not converge
 * or converges off the main branch (onMainBranch).
 */
export function pixelToNormalized(lens: Lens, u: number, v: number, tolPx = 1e-6): [number, number] | null {
  const xd = (u - lens.cx) / lens.fx, yd = (v - lens.cy) / lens.fy;
  const [x, y] = undistortNormalized(lens.model, lens.params, xd, yd);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
  const d = [0, 0];
  distortToPixel(lens, x, y, d);
  if (!(Math.hypot(d[0]! - u, d[1]! - v) <= tolPx)) return null;
  return Math.hypot(x, y) < 1e-12 || onMainBranch(lens, x, y) ? [x, y] : null;
}

/** Inner rectangle (normalised coordinates) of the photo's border mapped through the inverse. */
function innerRect(lens: Lens, maxTan: number): { x0: number; x1: number; y0: number; y1: number } {
  const { width: W, height: H } = lens;
  const lo = 0.5, hiX = W - 0.5, hiY = H - 0.5;
  let x0 = -maxTan, x1 = maxTan, y0 = -maxTan, y1 = maxTan;
  const nx = Math.max(2, Math.ceil(2 * W)), ny = Math.max(2, Math.ceil(2 * H));
  for (let i = 0; i <= ny; i++) {
    const v = lo + ((hiY - lo) * i) / ny;
    const l = pixelToNormalized(lens, lo, v), r = pixelToNormalized(lens, hiX, v);
    if (l) x0 = Math.max(x0, l[0]);
    if (r) x1 = Math.min(x1, r[0]);
  }
  for (let i = 0; i <= nx; i++) {
    const u = lo + ((hiX - lo) * i) / nx;
    const t = pixelToNormalized(lens, u, lo), b = pixelToNormalized(lens, u, hiY);
    if (t) y0 = Math.max(y0, t[1]);
    if (b) y1 = Math.min(y1, b[1]);
  }
  return { x0, x1, y0, y1 };
}

/** Pinhole of focal (fx, fy)·scale covering the normalised rectangle, pixel grid centred in it. */
function pinholeFor(lens: Lens, r: { x0: number; x1: number; y0: number; y1: number }, maxSide: number): Pinhole {
  const ew = lens.fx * (r.x1 - r.x0), eh = lens.fy * (r.y1 - r.y0);
  const s = Math.min(1, maxSide / Math.max(ew, eh));
  const fx = lens.fx * s, fy = lens.fy * s;
  const width = Math.max(1, Math.floor(ew * s)), height = Math.max(1, Math.floor(eh * s));
  return { width, height, fx, fy, cx: -fx * r.x0 - (ew * s - width) / 2, cy: -fy * r.y0 - (eh * s - height) / 2 };
}

/** Forward map of a pinhole into the lens's image. */
export function undistortMap(lens: Lens, ph: Pinhole): Float32Array {
  const map = new Float32Array(ph.width * ph.height * 2);
  const d = [0, 0];
  for (let j = 0; j < ph.height; j++) {
    const y = (j + 0.5 - ph.cy) / ph.fy;
    for (let i = 0; i < ph.width; i++) {
      distortToPixel(lens, (i + 0.5 - ph.cx) / ph.fx, y, d);
      const o = (j * ph.width + i) * 2;
      map[o] = d[0]!;
      map[o + 1] = d[1]!;
    }
  }
  return map;
}

/**
 * Output pixels whose map position is invalid: outside the outermost source pixel centres, or
 * where the map folds (distorted x not increasing along a row, or y down a column).
 */
export function invalidPixels(map: Float32Array, ph: { width: number; height: number }, src: { width: number; height: number }): number {
  const { width: W, height: H } = ph, eps = 1e-4;
  let bad = 0;
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const o = (j * W + i) * 2, u = map[o]!, v = map[o + 1]!;
      let ok = u >= 0.5 - eps && u <= src.width - 0.5 + eps && v >= 0.5 - eps && v <= src.height - 0.5 + eps;
      if (ok && i > 0 && !(u > map[o - 2]!)) ok = false;
      if (ok && j > 0 && !(v > map[o - 2 * W + 1]!)) ok = false;
      if (!ok) bad++;
    }
  }
  return bad;
}

/**
 * The undistorted pinhole of a lens and its sampling map. A lens without distortion gets the
 * identity (same size and intrinsics; the map samples pixel centres).
 */
export function undistortion(lens: Lens, o: UndistortOptions = {}): Undistortion {
  const source = { width: lens.width, height: lens.height };
  const maxSide = o.maxSide ?? Math.max(lens.width, lens.height);
  if (!hasDistortion(lens)) {
    const ph: Pinhole = { width: lens.width, height: lens.height, fx: lens.fx, fy: lens.fy, cx: lens.cx, cy: lens.cy };
    return { pinhole: ph, map: undistortMap(lens, ph), source };
  }
  let r = innerRect(lens, o.maxTan ?? Math.tan((80 * Math.PI) / 180));
  if (!(r.x1 > r.x0 && r.y1 > r.y0)) throw new Error(`${lens.model} camera: no valid pixels after undistortion (distortion parameters ${lens.params.join(', ')})`);
  for (let attempt = 0; attempt < 200; attempt++) {
    const ph = pinholeFor(lens, r, maxSide);
    const map = undistortMap(lens, ph);
    if (invalidPixels(map, ph, source) === 0) return { pinhole: ph, map, source };
    // shrink about the rectangle's centre and try again
    const mx = (r.x0 + r.x1) / 2, my = (r.y0 + r.y1) / 2, k = 0.99;
    r = { x0: mx + (r.x0 - mx) * k, x1: mx + (r.x1 - mx) * k, y0: my + (r.y0 - my) * k, y1: my + (r.y1 - my) * k };
  }
  throw new Error(`${lens.model} camera: could not find a crop of valid pixels after undistortion`);
}

/** Keys cubic kernel (a = -0.5, Catmull-Rom). */
function cubicWeights(t: number, w: Float64Array): void {
  const a = -0.5, t2 = t * t, t3 = t2 * t;
  w[0] = a * (t3 - 2 * t2 + t);
  w[1] = (a + 2) * t3 - (a + 3) * t2 + 1;
  const s = 1 - t, s2 = s * s, s3 = s2 * s;
  w[2] = (a + 2) * s3 - (a + 3) * s2 + 1;
  w[3] = a * (s3 - 2 * s2 + s);
}

/**
 * Resample an interleaved float image (channels per pixel) through a map: bicubic (Catmull-Rom,
 * clamped to [lo, hi]) or bilinear. Taps beyond the border repeat the edge pixel.
 */
export function remapImage(
  src: Float32Array, sw: number, sh: number, channels: number,
  map: Float32Array, ow: number, oh: number,
  o: { kernel?: 'bicubic' | 'bilinear'; clamp?: [number, number] } = {},
): Float32Array {
  const out = new Float32Array(ow * oh * channels);
  const [lo, hi] = o.clamp ?? [0, 1];
  const cubic = (o.kernel ?? 'bicubic') === 'bicubic';
  const wx = new Float64Array(4), wy = new Float64Array(4), acc = new Float64Array(channels);
  const cx = (x: number) => (x < 0 ? 0 : x >= sw ? sw - 1 : x), cy = (y: number) => (y < 0 ? 0 : y >= sh ? sh - 1 : y);
  for (let p = 0; p < ow * oh; p++) {
    const fx = map[p * 2]! - 0.5, fy = map[p * 2 + 1]! - 0.5;
    const x0 = Math.floor(fx), y0 = Math.floor(fy), tx = fx - x0, ty = fy - y0;
    acc.fill(0);
    if (cubic) {
      cubicWeights(tx, wx);
      cubicWeights(ty, wy);
      for (let b = 0; b < 4; b++) {
        const row = cy(y0 - 1 + b) * sw;
        for (let a = 0; a < 4; a++) {
          const w = wx[a]! * wy[b]!, s = (row + cx(x0 - 1 + a)) * channels;
          for (let c = 0; c < channels; c++) acc[c] += w * src[s + c]!;
        }
      }
    } else {
      const xa = cx(x0), xb = cx(x0 + 1), ya = cy(y0) * sw, yb = cy(y0 + 1) * sw;
      const w00 = (1 - tx) * (1 - ty), w10 = tx * (1 - ty), w01 = (1 - tx) * ty, w11 = tx * ty;
      for (let c = 0; c < channels; c++) {
        acc[c] = w00 * src[(ya + xa) * channels + c]! + w10 * src[(ya + xb) * channels + c]! + w01 * src[(yb + xa) * channels + c]! + w11 * src[(yb + xb) * channels + c]!;
      }
    }
    for (let c = 0; c < channels; c++) {
      const v = acc[c]!;
      out[p * channels + c] = v < lo ? lo : v > hi ? hi : v;
    }
  }
  return out;
}

/** Resample a one-channel mask (or label image) through a map with nearest-pixel sampling. */
export function remapNearest<T extends Uint8Array | Float32Array>(src: T, sw: number, sh: number, map: Float32Array, ow: number, oh: number): T {
  const out = new (src.constructor as new (n: number) => T)(ow * oh);
  for (let p = 0; p < ow * oh; p++) {
    const x = Math.min(sw - 1, Math.max(0, Math.floor(map[p * 2]!)));
    const y = Math.min(sh - 1, Math.max(0, Math.floor(map[p * 2 + 1]!)));
    out[p] = src[y * sw + x]!;
  }
  return out;
}
