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

export async function renderView(backend: RasterBackend, params: GaussianParams, cam: RasterCamera, shDegree: number, minAlpha = 0.95): Promise<ViewRender> {
  const pass = await backend.render(params, cam, { ...defaultRasterOptions, shDegree, background: [0, 0, 0] });
  try {
    const { rgb, alpha, depth: sum } = pass.out;
    const depth = new Float32Array(alpha.length);
    for (let i = 0; i < alpha.length; i++) depth[i] = alpha[i]! >= minAlpha ? sum[i]! / alpha[i]! : NaN;
    return { cam, rgb: Float32Array.from(rgb), alpha: Float32Array.from(alpha), depth: medianDepth(erodeDepth(depth, cam.width, cam.height), cam.width, cam.height) };
  } finally {
    pass.dispose();
  }
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
