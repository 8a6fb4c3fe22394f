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
   * Depth of the front layer only (default 0 = off): after a first render, the Gaussians whose
   * centre lies more than this far (scene units) behind the front surface seen at their pixel are
   * dropped and the view rendered again for depth. Expected depth Σwz/α mixes every layer a ray
   * crosses; where the front surface is not fully opaque (gaps between sparse splats, their soft
   * rims) the back of the object pulls the depth far inside it, and the TSDF would carve a cavity
   * there. Coverage (alpha) and colour stay those of the full render.
   */
  frontMargin: number;
}

export async function renderView(backend: RasterBackend, params: GaussianParams, cam: RasterCamera, shDegree: number, opts: Partial<RenderViewOptions> = {}): Promise<ViewRender> {
  const o: RenderViewOptions = { minAlpha: 0.95, frontMargin: 0, ...opts };
  const ro = { ...defaultRasterOptions, shDegree, background: [0, 0, 0] as [number, number, number] };
  const pass = await backend.render(params, cam, ro);
  let rgb: Float32Array, alpha: Float32Array, sum: Float32Array;
  try {
    rgb = Float32Array.from(pass.out.rgb);
    alpha = Float32Array.from(pass.out.alpha);
    sum = Float32Array.from(pass.out.depth);
  } finally {
    pass.dispose();
  }
  const W = cam.width, H = cam.height;
  let frontAlpha = alpha, frontSum = sum;
  if (o.frontMargin > 0) {
    const front = frontLayer(params, cam, alpha, sum, o.frontMargin);
    if (front.count < params.count) {
      const p2 = await backend.render(front, cam, { ...ro, shDegree: 0 });
      try {
        frontAlpha = Float32Array.from(p2.out.alpha);
        frontSum = Float32Array.from(p2.out.depth);
      } finally {
        p2.dispose();
      }
    }
  }
  const depth = new Float32Array(alpha.length);
  for (let i = 0; i < alpha.length; i++) depth[i] = alpha[i]! >= o.minAlpha && frontAlpha[i]! >= 0.5 ? frontSum[i]! / frontAlpha[i]! : NaN;
  return { cam, rgb, alpha, depth: medianDepth(erodeDepth(depth, W, H), W, H) };
}

/**
 * The Gaussians not hidden behind the front surface: those whose centre projects outside the
 * covered pixels, or lies at most `margin` behind the nearest front depth around its pixel (3×3
 * minimum of the expected depth where alpha ≥ 0.5 — expected depth errs towards the back, the
 * minimum finds the front layer).
 */
export function frontLayer(p: GaussianParams, cam: RasterCamera, alpha: Float32Array, sum: Float32Array, margin: number): GaussianParams {
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
  return gather(p, keep);
}

function gather(p: GaussianParams, idx: number[]): GaussianParams {
  const m = idx.length, S = p.sh.length / Math.max(1, p.count);
  const out: GaussianParams = { count: m, means: new Float32Array(3 * m), logScales: new Float32Array(3 * m), quats: new Float32Array(4 * m), opacityLogits: new Float32Array(m), sh: new Float32Array(S * m) };
  idx.forEach((i, k) => {
    out.means.set(p.means.subarray(3 * i, 3 * i + 3), 3 * k);
    out.logScales.set(p.logScales.subarray(3 * i, 3 * i + 3), 3 * k);
    out.quats.set(p.quats.subarray(4 * i, 4 * i + 4), 4 * k);
    out.opacityLogits[k] = p.opacityLogits[i]!;
    out.sh.set(p.sh.subarray(S * i, S * i + S), S * k);
  });
  return out;
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
