/**
 * Rendering for asset extraction, through the scene layer's public backend interface (the GPU
 * rasterizer on any WebGPU adapter, lavapipe included; the reference rasterizer otherwise).
 * Depth comes back as Σ wᵢzᵢ (not normalised); we divide by alpha.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { defaultRasterOptions, type RasterCamera, type RasterOptions, type RasterOutput } from '../../core/raster.js';

/**
 * What extraction needs of a rasterizer backend: the forward pass only. Any src/scene
 * `RasterBackend` fits (structurally), so this file does not follow that interface's other fields.
 */
export interface RasterBackend {
  readonly name: string;
  render(params: GaussianParams, cam: RasterCamera, opts: RasterOptions): Promise<{ out: RasterOutput; dispose(): void }>;
}

export interface ViewRender {
  cam: RasterCamera;
  /** H×W×3 colour on a black background */
  rgb: Float32Array;
  alpha: Float32Array;
  /** H×W z-depth (alpha-normalised), NaN where alpha is below `minAlpha` */
  depth: Float32Array;
}

/**
 * The default backend. The factory's module has moved during a refactor of src/scene; look it up
 * by name at run time so this file keeps compiling whichever module holds it.
 */
export async function defaultBackend(): Promise<RasterBackend> {
  for (const mod of ['../../scene/backend-factory.js', '../../scene/backend.js']) {
    try {
      const m = (await import(mod)) as { createBackend?: (c?: string) => Promise<RasterBackend> };
      if (m.createBackend) return await m.createBackend('auto');
    } catch {
      // try the next location
    }
  }
  throw new Error('no rasterizer backend factory found in src/scene');
}

export interface RenderViewOptions {
  /** depth only where alpha reaches this (default 0.95) */
  minAlpha: number;
  /**
   * Depth of the front layer only (scene units; default 0 = off): after the first render, the
   * splats whose centre lies more than this far behind the front surface seen at their pixel are
   * left out of the depth render. Expected depth Σwz/α mixes every layer a ray crosses; where the
   * front surface is not fully opaque (gaps between sparse splats, their soft rims) the back of
   * the object pulls the depth deep inside it, and the TSDF would carve a cavity there. Coverage
   * (alpha) and colour stay those of the full render.
   */
  frontMargin: number;
  /** depth where each pixel's ray meets the splats (planarDepthParams), not at their centres (default false) */
  planar: boolean;
}

export async function renderView(backend: RasterBackend, params: GaussianParams, cam: RasterCamera, shDegree: number, opts: Partial<RenderViewOptions> = {}): Promise<ViewRender> {
  const o: RenderViewOptions = { minAlpha: 0.95, frontMargin: 0, planar: false, ...opts };
  const ro: RasterOptions = { ...defaultRasterOptions, shDegree, background: [0, 0, 0] };
  const W = cam.width, H = cam.height;
  const first = await renderOnce(backend, params, cam, ro);
  const { rgb, alpha, depth: sum } = first;
  // depth: Σwz/α of the full render, or of a second render of the front layer / planar depths
  let frontAlpha = alpha;
  let frontDepth: Float32Array = Float32Array.from(sum, (d, i) => d / alpha[i]!);
  const keep = o.frontMargin > 0 ? frontLayer(params, cam, alpha, sum, o.frontMargin) : null;
  if (o.planar) {
    const enc = planarDepthParams(params, cam, keep ?? undefined);
    const second = await renderOnce(backend, enc.params, cam, { ...ro, shDegree: 0 });
    frontAlpha = second.alpha;
    frontDepth = enc.decode(second.rgb, second.alpha);
  } else if (keep && keep.length < params.count) {
    const second = await renderOnce(backend, gather(params, keep), cam, { ...ro, shDegree: 0 });
    frontAlpha = second.alpha;
    frontDepth = Float32Array.from(second.depth, (d, i) => d / second.alpha[i]!);
  }
  const depth = new Float32Array(W * H);
  for (let i = 0; i < depth.length; i++) depth[i] = alpha[i]! >= o.minAlpha && frontAlpha[i]! >= 0.5 ? frontDepth[i]! : NaN;
  return { cam, rgb, alpha, depth: medianDepth(erodeDepth(depth, W, H), W, H) };
}

async function renderOnce(backend: RasterBackend, params: GaussianParams, cam: RasterCamera, ro: RasterOptions): Promise<{ rgb: Float32Array; alpha: Float32Array; depth: Float32Array }> {
  const pass = await backend.render(params, cam, ro);
  try {
    return { rgb: Float32Array.from(pass.out.rgb), alpha: Float32Array.from(pass.out.alpha), depth: Float32Array.from(pass.out.depth) };
  } finally {
    pass.dispose();
  }
}

const SH_C0 = 0.28209479177387814;

/**
 * Depth of each Gaussian where the pixel's ray meets it, not at its centre. The rasterizer
 * composites one depth per Gaussian (its centre's z), so an oblique surface reads too near: the
 * splats nearer the camera composite first. Along a pixel ray the density of a Gaussian peaks at
 * z(r) = rᵀΣ⁻¹μ / rᵀΣ⁻¹r (r = (x̂, ŷ, 1), camera frame) — for a flat splat, the ray's intersection
 * with its plane. Linearised at the centre's ray, z(x̂, ŷ) = z + g·(x̂ − x̂ᵢ, ŷ − ŷᵢ) with
 * g = −(Σ⁻¹μ)ₓᵧ z²/μᵀΣ⁻¹μ, which is linear in the pixel: the three colour channels carry its
 * coefficients (scaled by a reference depth, offset to stay positive), and one render gives the
 * compositing-weighted mean of every splat's own depth at the pixel. The slope is capped at that
 * of a plane seen 72° off its normal (edge-on splats).
 */
export function planarDepthParams(all: GaussianParams, cam: RasterCamera, keep?: Int32Array): { params: GaussianParams; decode(rgb: ArrayLike<number>, alpha: ArrayLike<number>): Float32Array } {
  const R = cam.R, t = cam.t;
  const Pall = inverseCovariances(all);
  const p = keep ? gather(all, keep) : all;
  const n = p.count;
  const Pw = keep ? new Float64Array(6 * n) : Pall;
  if (keep) for (let k = 0; k < n; k++) for (let j = 0, i = keep[k]!; j < 6; j++) Pw[6 * k + j] = Pall[6 * i + j]!;
  // camera centre C = −Rᵀt: μ − C is the camera-frame mean rotated back to the world
  const C = [0, 1, 2].map((a) => -(R[a]! * t[0]! + R[3 + a]! * t[1]! + R[6 + a]! * t[2]!));
  const zs = new Float64Array(n);
  for (let i = 0; i < n; i++) zs[i] = R[6]! * p.means[3 * i]! + R[7]! * p.means[3 * i + 1]! + R[8]! * p.means[3 * i + 2]! + t[2]!;
  const z0 = Math.max(1e-9, median(zs.filter((z) => z > 0)));
  const GMAX = 3;
  const coef = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const z = zs[i]!;
    if (!(z > 0)) { coef[3 * i + 2] = 1; continue; }
    const vx = p.means[3 * i]! - C[0]!, vy = p.means[3 * i + 1]! - C[1]!, vz = p.means[3 * i + 2]! - C[2]!;
    const P = Pw.subarray(6 * i, 6 * i + 6); // xx xy xz yy yz zz
    const wx = P[0]! * vx + P[1]! * vy + P[2]! * vz, wy = P[1]! * vx + P[3]! * vy + P[4]! * vz, wz = P[2]! * vx + P[4]! * vy + P[5]! * vz;
    const q = vx * wx + vy * wy + vz * wz; // μᵀΣ⁻¹μ (camera frame)
    // (Σ⁻¹μ) in the camera frame: R·w
    const px = R[0]! * wx + R[1]! * wy + R[2]! * wz, py = R[3]! * wx + R[4]! * wy + R[5]! * wz;
    let gx = q > 0 ? (-px * z * z) / q : 0, gy = q > 0 ? (-py * z * z) / q : 0;
    const gl = Math.hypot(gx, gy), cap = GMAX * z;
    if (gl > cap) { gx *= cap / gl; gy *= cap / gl; }
    const xc = R[0]! * vx + R[1]! * vy + R[2]! * vz, yc = R[3]! * vx + R[4]! * vy + R[5]! * vz;
    coef[3 * i] = gx / z0;
    coef[3 * i + 1] = gy / z0;
    coef[3 * i + 2] = (z - gx * (xc / z) - gy * (yc / z)) / z0;
  }
  let off = 0;
  for (let k = 0; k < coef.length; k++) off = Math.max(off, -coef[k]!);
  off = Math.ceil(off + 1);
  const sh = new Float32Array(p.sh.length);
  const S = p.sh.length / Math.max(1, n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) sh[S * i + c] = (coef[3 * i + c]! + off - 0.5) / SH_C0;
  const params: GaussianParams = { ...p, sh };
  const decode = (rgb: ArrayLike<number>, alpha: ArrayLike<number>): Float32Array => {
    const W = cam.width, H = cam.height, out = new Float32Array(W * H);
    for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) {
      const i = v * W + u, a = alpha[i]!;
      if (!(a > 0)) { out[i] = NaN; continue; }
      const xh = (u + 0.5 - cam.cx) / cam.fx, yh = (v + 0.5 - cam.cy) / cam.fy;
      out[i] = (z0 * (xh * (rgb[3 * i]! - off * a) + yh * (rgb[3 * i + 1]! - off * a) + (rgb[3 * i + 2]! - off * a))) / a;
    }
    return out;
  };
  return { params, decode };
}

/** The Gaussians `idx` of `p` (colour: the DC term only, all this file renders). */
function gather(p: GaussianParams, idx: Int32Array): GaussianParams {
  const m = idx.length, S = p.sh.length / Math.max(1, p.count);
  const out: GaussianParams = { count: m, means: new Float32Array(3 * m), logScales: new Float32Array(3 * m), quats: new Float32Array(4 * m), opacityLogits: new Float32Array(m), sh: new Float32Array(S * m) };
  // plain index loops: subarray views per Gaussian cost more than the copies (hot: once per view)
  for (let k = 0; k < m; k++) {
    const i = idx[k]!;
    for (let a = 0; a < 3; a++) {
      out.means[3 * k + a] = p.means[3 * i + a]!;
      out.logScales[3 * k + a] = p.logScales[3 * i + a]!;
      out.sh[S * k + a] = p.sh[S * i + a]!;
    }
    for (let a = 0; a < 4; a++) out.quats[4 * k + a] = p.quats[4 * i + a]!;
    out.opacityLogits[k] = p.opacityLogits[i]!;
  }
  return out;
}

const inverseCovCache = new WeakMap<GaussianParams, Float64Array>();

/** Σ⁻¹ = Σₖ aₖaₖᵀ/sₖ² of every Gaussian, world frame, as xx xy xz yy yz zz (cached per params). */
function inverseCovariances(p: GaussianParams): Float64Array {
  const hit = inverseCovCache.get(p);
  if (hit) return hit;
  const out = new Float64Array(6 * p.count);
  for (let i = 0; i < p.count; i++) {
    let w = p.quats[4 * i]!, x = p.quats[4 * i + 1]!, y = p.quats[4 * i + 2]!, z = p.quats[4 * i + 3]!;
    const l = Math.hypot(w, x, y, z) || 1;
    w /= l; x /= l; y /= l; z /= l;
    // rotation columns (the Gaussian's axes), as in the rasterizer's quaternion convention
    const rot = [
      1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
      2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
      2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ];
    for (let k = 0; k < 3; k++) {
      const a0 = rot[k]!, a1 = rot[3 + k]!, a2 = rot[6 + k]!;
      const inv = Math.exp(-2 * p.logScales[3 * i + k]!);
      out[6 * i] += a0 * a0 * inv; out[6 * i + 1] += a0 * a1 * inv; out[6 * i + 2] += a0 * a2 * inv;
      out[6 * i + 3] += a1 * a1 * inv; out[6 * i + 4] += a1 * a2 * inv; out[6 * i + 5] += a2 * a2 * inv;
    }
  }
  inverseCovCache.set(p, out);
  return out;
}

function median(a: Float64Array): number {
  const s = Float64Array.from(a).sort();
  return s.length ? s[s.length >> 1]! : 1;
}

/**
 * Indices of the Gaussians not hidden behind the front surface: those whose centre projects outside the
 * covered pixels, or lies at most `margin` behind the nearest front depth around its pixel (3×3
 * minimum of the expected depth where alpha ≥ 0.5 — expected depth errs towards the back, the
 * minimum finds the front layer).
 */
export function frontLayer(p: GaussianParams, cam: RasterCamera, alpha: Float32Array, sum: Float32Array, margin: number): Int32Array {
  const W = cam.width, H = cam.height;
  const d = new Float32Array(W * H).fill(Infinity);
  for (let i = 0; i < d.length; i++) if (alpha[i]! >= 0.5) d[i] = sum[i]! / alpha[i]!;
  const near = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let m = Infinity;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx, yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < W && yy < H) m = Math.min(m, d[yy * W + xx]!);
    }
    near[y * W + x] = m;
  }
  const R = cam.R, t = cam.t;
  const keep: number[] = [];
  for (let i = 0; i < p.count; i++) {
    const X = p.means[3 * i]!, Y = p.means[3 * i + 1]!, Z = p.means[3 * i + 2]!;
    const z = R[6]! * X + R[7]! * Y + R[8]! * Z + t[2]!;
    if (z > 1e-6) {
      const u = Math.floor((cam.fx * (R[0]! * X + R[1]! * Y + R[2]! * Z + t[0]!)) / z + cam.cx);
      const v = Math.floor((cam.fy * (R[3]! * X + R[4]! * Y + R[5]! * Z + t[1]!)) / z + cam.cy);
      if (u >= 0 && v >= 0 && u < W && v < H && z > near[v * W + u]! + margin) continue;
    }
    keep.push(i);
  }
  return Int32Array.from(keep);
}


/**
 * 3×3 median of the valid depths. Expected depth (Σwz/α) jumps to the far side where a gap
 * between splats lets the back surface contribute, even at full alpha; those isolated spikes would
 * carve holes into the TSDF. 2DGS uses median depth for the same reason; the rasterizer gives
 * only expected depth, so filter it here.
 */
export function medianDepth(d: Float32Array, W: number, H: number): Float32Array {
  const out = new Float32Array(d.length);
  const nb = new Float64Array(9);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      if (d[i] !== d[i]) { out[i] = NaN; continue; }
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
        const v = d[yy * W + xx]!;
        if (v === v) nb[n++] = v;
      }
      const s = nb.subarray(0, n).sort();
      out[i] = s[n >> 1]!;
    }
  }
  return out;
}

/**
 * Drop depth within one pixel of the silhouette. The rasterizer's 2D dilation (eps2d) and the
 * splats' tails bleed about a pixel past the true outline; fused from a grazing view, that rim
 * would pin voxels just outside a face as surface and push the mesh out by most of a pixel.
 */
export function erodeDepth(d: Float32Array, W: number, H: number): Float32Array {
  const out = Float32Array.from(d);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = y * W + x;
    if (d[i] !== d[i]) continue;
    if (x === 0 || y === 0 || x === W - 1 || y === H - 1 || d[i - 1] !== d[i - 1] || d[i + 1] !== d[i + 1] || d[i - W] !== d[i - W] || d[i + W] !== d[i + W]) out[i] = NaN;
  }
  return out;
}
