/**
 * Reference Gaussian rasterizer: the same maths as the WGSL kernels, in plain float64 loops.
 * Clear over fast; used by tests (GPU vs reference, finite differences) and as the CPU fallback
 * for small scenes.
 *
 * Compositing: Gaussians sorted by camera depth (ties by index), front to back; per pixel
 * alpha = min(0.99, o·exp(−½ dᵀQd)), skipped when < 1/255; the Gaussian that would bring the
 * transmittance to ≤ 1e-4 is not composited and stops the pixel (as gsplat). Outputs
 * rgb = Σ cᵢαᵢTᵢ + T·background, alpha = 1 − T, depth = Σ zᵢαᵢTᵢ.
 */
import type { GaussianParams } from '../../core/gaussians.js';
import type { RasterCamera, RasterGradients, RasterOptions, RasterOutput, RasterUpstream } from '../../core/raster.js';
import { ALPHA_MAX, ALPHA_MIN, T_MIN, prepareCamera, type PreparedCamera } from '../../core/raster.js';
import { projectBackward, projectGaussian, type ParamsLike, type Projected, type Projected2dGrad } from './projection.js';

export interface ReferenceContext {
  cam: PreparedCamera;
  /** projected Gaussians (null = culled), indexed by Gaussian */
  projected: (Projected | null)[];
  /** visible Gaussian indices in compositing order */
  order: Int32Array;
  tilesX: number;
  tilesY: number;
  tileSize: number;
  /** per tile, Gaussian indices in compositing order whose bounding box touches the tile */
  tileLists: Int32Array[];
  /** per pixel transmittance after compositing */
  finalT: Float64Array;
  /** per pixel number of tile-list entries processed (last contributor + 1) */
  last: Int32Array;
}

export interface RasterOutput64 {
  rgb: Float64Array;
  alpha: Float64Array;
  depth: Float64Array;
  visible: number;
  ctx: ReferenceContext;
}

/** Forward pass in float64 (tests use it for finite differences). */
export function rasterizeReference64(params: ParamsLike, camera: RasterCamera, opts: RasterOptions): RasterOutput64 {
  const cam = prepareCamera(camera);
  const { width: W, height: H } = cam;
  const projected: (Projected | null)[] = new Array(params.count);
  const visibleIdx: number[] = [];
  const basis = new Float64Array(16);
  for (let i = 0; i < params.count; i++) {
    const p = projectGaussian(params, i, cam, opts, basis);
    projected[i] = p;
    if (p) visibleIdx.push(i);
  }
  visibleIdx.sort((a, b) => projected[a]!.depth - projected[b]!.depth || a - b);
  const order = Int32Array.from(visibleIdx);
  const ts = opts.tileSize;
  const tilesX = Math.ceil(W / ts), tilesY = Math.ceil(H / ts);
  const lists: number[][] = Array.from({ length: tilesX * tilesY }, () => []);
  for (const i of order) {
    const p = projected[i]!;
    const x0 = Math.max(0, Math.floor((p.mx - p.hx) / ts)), x1 = Math.min(tilesX - 1, Math.floor((p.mx + p.hx) / ts));
    const y0 = Math.max(0, Math.floor((p.my - p.hy) / ts)), y1 = Math.min(tilesY - 1, Math.floor((p.my + p.hy) / ts));
    for (let ty = y0; ty <= y1; ty++) for (let tx = x0; tx <= x1; tx++) lists[ty * tilesX + tx]!.push(i);
  }
  const tileLists = lists.map((l) => Int32Array.from(l));
  const rgb = new Float64Array(W * H * 3), alpha = new Float64Array(W * H), depth = new Float64Array(W * H);
  const finalT = new Float64Array(W * H), last = new Int32Array(W * H);
  const bg = opts.background;
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const list = tileLists[Math.floor(py / ts) * tilesX + Math.floor(px / ts)]!;
      const pix = py * W + px;
      let T = 1, r = 0, g = 0, b = 0, d = 0, n = 0;
      for (let k = 0; k < list.length; k++) {
        const p = projected[list[k]!]!;
        const a = alphaAt(p, px + 0.5, py + 0.5);
        if (a < ALPHA_MIN) continue;
        const nextT = T * (1 - a);
        if (nextT <= T_MIN) break;
        const vis = a * T;
        r += p.color[0] * vis;
        g += p.color[1] * vis;
        b += p.color[2] * vis;
        d += p.depth * vis;
        T = nextT;
        n = k + 1;
      }
      rgb[3 * pix] = r + T * bg[0];
      rgb[3 * pix + 1] = g + T * bg[1];
      rgb[3 * pix + 2] = b + T * bg[2];
      alpha[pix] = 1 - T;
      depth[pix] = d;
      finalT[pix] = T;
      last[pix] = n;
    }
  }
  return { rgb, alpha, depth, visible: order.length, ctx: { cam, projected, order, tilesX, tilesY, tileSize: ts, tileLists, finalT, last } };
}

/** −½ dᵀQd at a pixel centre, or +∞-safe: returns alpha (0 when the power is positive). */
function alphaAt(p: Projected, x: number, y: number): number {
  const dx = p.mx - x, dy = p.my - y;
  const power = -0.5 * (p.a * dx * dx + p.c * dy * dy) - p.b * dx * dy;
  if (power > 0) return 0;
  return Math.min(ALPHA_MAX, p.opacity * Math.exp(power));
}

export function rasterizeReference(params: GaussianParams, cam: RasterCamera, opts: RasterOptions): RasterOutput & { ctx: ReferenceContext } {
  const o = rasterizeReference64(params, cam, opts);
  return { rgb: Float32Array.from(o.rgb), alpha: Float32Array.from(o.alpha), depth: Float32Array.from(o.depth), visible: o.visible, ctx: o.ctx };
}

export interface RasterGradients64 {
  means: Float64Array;
  logScales: Float64Array;
  quats: Float64Array;
  opacityLogits: Float64Array;
  sh: Float64Array;
  pose: Float64Array;
  means2dGradNorm: Float64Array;
}

/** Backward pass in float64. */
export function rasterizeReferenceBackward64(
  params: ParamsLike,
  _camera: RasterCamera,
  opts: RasterOptions,
  ctx: ReferenceContext,
  up: { rgb: ArrayLike<number>; alpha?: ArrayLike<number>; depth?: ArrayLike<number> },
): RasterGradients64 {
  const { cam, projected, tileLists, tilesX, tileSize: ts } = ctx;
  const { width: W, height: H } = cam;
  const N = params.count;
  // per Gaussian: [mx, my, a, b, c, opacity, r, g, b, depth]
  const g2 = new Float64Array(N * 10);
  const bg = opts.background;
  const contribK: number[] = [], contribT: number[] = [], contribA: number[] = [];
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const pix = py * W + px;
      const n = ctx.last[pix]!;
      if (n === 0) continue;
      const list = tileLists[Math.floor(py / ts) * tilesX + Math.floor(px / ts)]!;
      const x = px + 0.5, y = py + 0.5;
      // Replay the forward pass of this pixel, keeping T before each contribution.
      contribK.length = 0; contribT.length = 0; contribA.length = 0;
      let T = 1;
      for (let k = 0; k < n; k++) {
        const a = alphaAt(projected[list[k]!]!, x, y);
        if (a < ALPHA_MIN) continue;
        contribK.push(k); contribT.push(T); contribA.push(a);
        T *= 1 - a;
      }
      const Tfinal = ctx.finalT[pix]!;
      const dR = up.rgb[3 * pix]!, dG = up.rgb[3 * pix + 1]!, dB = up.rgb[3 * pix + 2]!;
      const dA = up.alpha ? up.alpha[pix]! : 0;
      const dD = up.depth ? up.depth[pix]! : 0;
      // S = what lies behind the current Gaussian: Σ_{j>i} c_j α_j T_j + T_final·bg
      let sr = Tfinal * bg[0], sg = Tfinal * bg[1], sb = Tfinal * bg[2], sd = 0;
      for (let m = contribK.length - 1; m >= 0; m--) {
        const gi = list[contribK[m]!]!;
        const p = projected[gi]!;
        const a = contribA[m]!, Tj = contribT[m]!;
        const w = a * Tj;
        const o = gi * 10;
        g2[o + 6]! += w * dR;
        g2[o + 7]! += w * dG;
        g2[o + 8]! += w * dB;
        g2[o + 9]! += w * dD;
        const inv = 1 / (1 - a);
        const dAlpha =
          dR * (Tj * p.color[0] - sr * inv) +
          dG * (Tj * p.color[1] - sg * inv) +
          dB * (Tj * p.color[2] - sb * inv) +
          dD * (Tj * p.depth - sd * inv) +
          dA * Tfinal * inv;
        sr += p.color[0] * w;
        sg += p.color[1] * w;
        sb += p.color[2] * w;
        sd += p.depth * w;
        const dx = p.mx - x, dy = p.my - y;
        const G = Math.exp(-0.5 * (p.a * dx * dx + p.c * dy * dy) - p.b * dx * dy);
        if (p.opacity * G >= ALPHA_MAX) continue; // clamped alpha: no gradient through it
        g2[o + 5]! += G * dAlpha;
        const dPow = a * dAlpha;
        g2[o + 2]! += -0.5 * dx * dx * dPow;
        g2[o + 3]! += -dx * dy * dPow;
        g2[o + 4]! += -0.5 * dy * dy * dPow;
        g2[o]! += -(p.a * dx + p.b * dy) * dPow;
        g2[o + 1]! += -(p.b * dx + p.c * dy) * dPow;
      }
    }
  }
  const out: RasterGradients64 = {
    means: new Float64Array(N * 3),
    logScales: new Float64Array(N * 3),
    quats: new Float64Array(N * 4),
    opacityLogits: new Float64Array(N),
    sh: new Float64Array(N * 48),
    pose: new Float64Array(6),
    means2dGradNorm: new Float64Array(N),
  };
  for (let i = 0; i < N; i++) {
    if (!projected[i]) continue;
    const o = i * 10;
    const gd: Projected2dGrad = {
      mx: g2[o]!, my: g2[o + 1]!, a: g2[o + 2]!, b: g2[o + 3]!, c: g2[o + 4]!, opacity: g2[o + 5]!,
      color: [g2[o + 6]!, g2[o + 7]!, g2[o + 8]!], depth: g2[o + 9]!,
    };
    out.means2dGradNorm[i] = Math.hypot(gd.mx, gd.my);
    projectBackward(params, i, cam, opts, gd, out);
  }
  return out;
}

export function rasterizeReferenceBackward(
  params: GaussianParams,
  cam: RasterCamera,
  opts: RasterOptions,
  ctx: ReferenceContext,
  upstream: RasterUpstream,
): RasterGradients {
  const g = rasterizeReferenceBackward64(params, cam, opts, ctx, upstream);
  return {
    means: Float32Array.from(g.means),
    logScales: Float32Array.from(g.logScales),
    quats: Float32Array.from(g.quats),
    opacityLogits: Float32Array.from(g.opacityLogits),
    sh: Float32Array.from(g.sh),
    pose: g.pose,
    means2dGradNorm: Float32Array.from(g.means2dGradNorm),
  };
}
