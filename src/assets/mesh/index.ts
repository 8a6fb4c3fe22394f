/**
 * Gaussians (already in the asset frame: metres or scene units, +Y up, ground at y = 0) → a clean,
 * coloured surface mesh with LODs: render depth from views around the asset, fuse into a TSDF,
 * marching cubes, clean, colour, simplify; then every LOD gets a UV atlas (atlas.ts) and a
 * base-colour texture baked from the same renders (texture.ts). Vertex colours stay on every LOD
 * as the fallback colouring (`TriMesh.colors`); the texture is `TriMesh.uvs` + `TriMesh.texture`.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import { defaultRasterOptions, type RasterCamera } from '../../core/raster.js';
import { cleanMesh, defaultCleanOptions, type CleanOptions } from './clean.js';
import { colorVertices } from './colors.js';
import { COARSEN_SIGMA_PX, coarsenForRender, finestPixel } from './coarsen.js';
import { buildAtlas } from './atlas.js';
import { marchingCubes } from './marching-cubes.js';
import { bakeTexture, type ColourRender } from './texture.js';
import { renderView, type RasterBackend, type ViewRender } from './render.js';
import { buildLods, defaultSimplifyOptions, type SimplifyOptions } from './simplify.js';
import { createGrid, defaultTsdfOptions, finalizeField, integrate, type Bounds, type TsdfOptions } from './tsdf.js';
import { captureViews, defaultViewOptions, orbitViews, type ViewOptions } from './views.js';
import type { TriMesh } from './types.js';

export type { TriMesh } from './types.js';
export { texturePng } from './texture.js';

/** The baked texture of each LOD (see texturedLod). */
export interface TextureOptions {
  /** bake textures at all (default true; false = vertex colours only, as before) */
  enabled: boolean;
  /** LOD0's texture side in texels (default 1024); each further LOD's side shrinks with √(its triangles / LOD0's), at least 128 */
  size: number;
  /**
   * the bake's colour comes from the views rendered again this many times finer (default 1: the
   * fused renders themselves; visibility always comes from their depth). Measured on
   * test/assets-texture's box at 8k triangles: 2 gains 0.13 dB on held-out views at 320 px and
   * loses 0.5 dB at 160 px, for a second render of every view
   */
  bakeScale: number;
}

export const defaultTextureOptions: TextureOptions = { enabled: true, size: 1024, bakeScale: 1 };

export interface MeshOptions {
  views: ViewOptions;
  tsdf: TsdfOptions;
  clean: CleanOptions;
  simplify: SimplifyOptions;
  depth: DepthOptions;
  texture: TextureOptions;
  /** SH degree used when rendering (default 0: colour only, and depth does not depend on it) */
  shDegree: number;
  /**
   * Most Gaussians rendered (default 600000): the GPU rasterizer uploads all 48 SH floats per
   * Gaussian, and 1M of them exceed the 128 MiB storage-buffer limit of lavapipe and many GPUs.
   * Above it an even subsample is rendered with footprints widened to keep the surface covered.
   */
  maxRenderGaussians: number;
  /**
   * Gaussians under this many pixels (σ) of the finest view are thinned and widened to it before
   * rendering (coarsen.ts; default ½; 0 = off)
   */
  coarsenSigmaPx: number;
}

/** How the depth maps fused into the TSDF are rendered (see renderView). */
export interface DepthOptions {
  /** depth only where the view's alpha reaches this (default 0.95) */
  minAlpha: number;
  /** each splat's depth where the pixel's ray meets it, not at its centre (default true) */
  planar: boolean;
  /**
   * depth from the front layer only: splats more than this many voxels behind the front surface
   * at their pixel are left out of the depth render (default 16, four truncation bands; 0 = off)
   */
  frontMarginVoxels: number;
}

export const defaultDepthOptions: DepthOptions = { minAlpha: 0.95, planar: true, frontMarginVoxels: 16 };

export const defaultMeshOptions: MeshOptions = {
  views: defaultViewOptions,
  depth: defaultDepthOptions,
  texture: defaultTextureOptions,
  tsdf: defaultTsdfOptions,
  clean: defaultCleanOptions,
  simplify: defaultSimplifyOptions,
  shDegree: 0,
  maxRenderGaussians: 600_000,
  coarsenSigmaPx: COARSEN_SIGMA_PX,
};

/** Every k-th Gaussian, areas scaled by N/M so the subsample still covers the surface. */
export function subsampleForRender(p: GaussianParams, max: number): GaussianParams {
  if (p.count <= max) return p;
  const step = p.count / max, m = Math.floor(p.count / step);
  const pick = Int32Array.from({ length: m }, (_, k) => Math.floor(k * step));
  const grow = 0.5 * Math.log(p.count / m);
  const out: GaussianParams = { count: m, means: new Float32Array(3 * m), logScales: new Float32Array(3 * m), quats: new Float32Array(4 * m), opacityLogits: new Float32Array(m), sh: new Float32Array(48 * m) };
  pick.forEach((i, k) => {
    out.means.set(p.means.subarray(3 * i, 3 * i + 3), 3 * k);
    for (let a = 0; a < 3; a++) out.logScales[3 * k + a] = p.logScales[3 * i + a]! + grow;
    out.quats.set(p.quats.subarray(4 * i, 4 * i + 4), 4 * k);
    out.opacityLogits[k] = p.opacityLogits[i]!;
    out.sh.set(p.sh.subarray(48 * i, 48 * i + 3), 48 * k); // DC only: rendered at SH degree 0
  });
  return out;
}

export interface MeshResult {
  /** the cleaned full-resolution mesh */
  full: TriMesh;
  /** LOD0 (at the triangle budget), LOD1, ...: with `uvs` + `texture` when textures are on, `colors` always */
  lods: TriMesh[];
  /** the renders fused (the thumbnail and colour steps reuse them) */
  views: ViewRender[];
  voxel: number;
  /** Gaussians drawn in each view (after coarsenForRender and the subsample cap) */
  renderedGaussians: number;
  timings: Record<string, number>;
}

/** Bounds of the Gaussian means, padded by three median standard deviations. */
export function gaussianBounds(p: GaussianParams): Bounds {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < p.count; i++) for (let a = 0; a < 3; a++) {
    const x = p.means[3 * i + a]!;
    if (x < min[a]!) min[a] = x;
    if (x > max[a]!) max[a] = x;
  }
  const s: number[] = [];
  const step = Math.max(1, Math.floor(p.count / 2000));
  for (let i = 0; i < p.count; i += step) s.push(Math.exp(Math.max(p.logScales[3 * i]!, p.logScales[3 * i + 1]!, p.logScales[3 * i + 2]!)));
  s.sort((a, b) => a - b);
  const pad = 3 * (s[s.length >> 1] ?? 0);
  return { min: [min[0] - pad, min[1] - pad, min[2] - pad], max: [max[0] + pad, max[1] + pad, max[2] + pad] };
}

export async function meshFromGaussians(
  params: GaussianParams,
  backend: RasterBackend,
  captureCams: RasterCamera[] = [],
  opts: Partial<MeshOptions> = {},
): Promise<MeshResult> {
  const o = { ...defaultMeshOptions, ...opts };
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (k: string) => { const t = performance.now(); timings[k] = (t - t0) / 1000; t0 = t; };
  const b = gaussianBounds(params);
  if (o.tsdf.groundY !== null) b.min[1] = Math.min(b.min[1], o.tsdf.groundY);
  const center: [number, number, number] = [0, 1, 2].map((a) => (b.min[a]! + b.max[a]!) / 2) as [number, number, number];
  const radius = 0.5 * Math.hypot(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]);
  const cams = [...orbitViews(center, radius, o.views, b.min[1]), ...captureViews(captureCams, center, radius, o.views)];
  const views: ViewRender[] = [];
  const coarse = o.coarsenSigmaPx > 0 ? coarsenForRender(params, finestPixel(cams, center), o.coarsenSigmaPx) : params;
  const shown = subsampleForRender(coarse, o.maxRenderGaussians);
  const grid = createGrid(b, o.tsdf);
  const depth = { minAlpha: o.depth.minAlpha, planar: o.depth.planar, frontMargin: o.depth.frontMarginVoxels * grid.voxel };
  for (const cam of cams) views.push(await renderView(backend, shown, cam, shown === coarse ? o.shDegree : 0, depth));
  lap('render');
  for (const v of views) integrate(grid, v, o.tsdf);
  lap('tsdf');
  const raw = marchingCubes(finalizeField(grid, o.tsdf));
  lap('marchingCubes');
  const full = cleanMesh(raw, o.clean);
  full.colors = colorVertices(full, views, 2 * grid.voxel);
  lap('cleanColor');
  let lods = await buildLods(full, o.simplify);
  lap('simplify');
  if (o.texture.enabled) {
    const colour = o.texture.bakeScale > 1 ? await fineColour(backend, shown, views, o.texture.bakeScale, shown === coarse ? o.shDegree : 0) : undefined;
    lap('textureRender');
    const t0 = lods[0] ? lods[0].indices.length : 1;
    lods = lods.map((l) => texturedLod(l, views, textureSide(o.texture.size, l.indices.length / Math.max(1, t0)), 2 * grid.voxel, colour));
    lap('texture');
  }
  return { full, lods, views, voxel: grid.voxel, renderedGaussians: shown.count, timings };
}

/** Texture side for a LOD with `ratio` of LOD0's triangles: size·√ratio, a power of two, at least 128. */
export function textureSide(size: number, ratio: number): number {
  const s = size * Math.sqrt(Math.min(1, Math.max(0, ratio)));
  return Math.max(Math.min(128, size), 2 ** Math.round(Math.log2(Math.max(1, s))));
}

/** `m` with a UV atlas of side `size` and the texture baked from `views` (depth agreement `tolerance`; colour from `colour` when given). */
export function texturedLod(m: TriMesh, views: ViewRender[], size: number, tolerance: number, colour?: ColourRender[]): TriMesh {
  const atlas = buildAtlas(m, { size });
  return { ...atlas.mesh, texture: bakeTexture(atlas.mesh, views, { size, tolerance }, colour) };
}

/** Every view's colour rendered `scale` times finer (same pose). */
export async function fineColour(backend: RasterBackend, params: GaussianParams, views: ViewRender[], scale: number, shDegree: number): Promise<ColourRender[]> {
  const out: ColourRender[] = [];
  for (const v of views) {
    const c = v.cam;
    const cam: RasterCamera = { ...c, width: Math.round(c.width * scale), height: Math.round(c.height * scale), fx: c.fx * scale, fy: c.fy * scale, cx: c.cx * scale, cy: c.cy * scale };
    const pass = await backend.render(params, cam, { ...defaultRasterOptions, shDegree, background: [0, 0, 0] });
    try {
      out.push({ cam, rgb: Float32Array.from(pass.out.rgb), alpha: Float32Array.from(pass.out.alpha) });
    } finally {
      pass.dispose();
    }
  }
  return out;
}
