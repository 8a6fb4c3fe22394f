/**
 * A small z-buffer rasterizer for meshes, to measure what an engine shows of an asset: the mesh
 * drawn unlit at a camera (pixel centres at +½, OpenCV axes like RasterCamera) with its base
 * colour — the texture sampled bilinearly through the perspective-correct `uvs`, or the vertex
 * colours interpolated — over black. Used by the texture tests and benchmarks (held-out views
 * against the splats' render), not by extraction itself.
 */
import type { RasterCamera } from '../../core/raster.js';
import type { MeshTexture, TriMesh } from './types.js';

export interface MeshImage {
  /** H×W×3 colour in 0..1, black where nothing is drawn */
  rgb: Float32Array;
  /** H×W coverage, 0 or 1 */
  alpha: Float32Array;
}

/** Draw `m` with its texture (`colour: 'texture'`, needs uvs + texture) or its vertex colours. */
export function renderMesh(m: TriMesh, cam: RasterCamera, colour: 'texture' | 'vertex'): MeshImage {
  const W = cam.width, H = cam.height, R = cam.R, t = cam.t;
  const P = m.positions, I = m.indices, nv = P.length / 3;
  if (colour === 'texture' && !(m.uvs && m.texture)) throw new Error('renderMesh: no texture on this mesh');
  if (colour === 'vertex' && !m.colors) throw new Error('renderMesh: no vertex colours on this mesh');
  const sx = new Float64Array(nv), sy = new Float64Array(nv), sz = new Float64Array(nv);
  for (let v = 0; v < nv; v++) {
    const x = P[3 * v]!, y = P[3 * v + 1]!, z = P[3 * v + 2]!;
    const zc = R[6]! * x + R[7]! * y + R[8]! * z + t[2]!;
    sz[v] = zc;
    sx[v] = (cam.fx * (R[0]! * x + R[1]! * y + R[2]! * z + t[0]!)) / zc + cam.cx;
    sy[v] = (cam.fy * (R[3]! * x + R[4]! * y + R[5]! * z + t[1]!)) / zc + cam.cy;
  }
  const near = cam.near ?? 1e-6;
  const zbuf = new Float64Array(W * H).fill(Infinity);
  const rgb = new Float32Array(W * H * 3), alpha = new Float32Array(W * H);
  const c = [0, 0, 0];
  for (let k = 0; k < I.length; k += 3) {
    const a = I[k]!, b = I[k + 1]!, d = I[k + 2]!;
    if (!(sz[a]! > near && sz[b]! > near && sz[d]! > near)) continue; // no clipping: the views frame the object
    const ax = sx[a]!, ay = sy[a]!, bx = sx[b]!, by = sy[b]!, cx = sx[d]!, cy = sy[d]!;
    const den = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy);
    if (!(Math.abs(den) > 1e-12)) continue;
    const x0 = Math.max(0, Math.ceil(Math.min(ax, bx, cx) - 0.5)), x1 = Math.min(W - 1, Math.floor(Math.max(ax, bx, cx) - 0.5));
    const y0 = Math.max(0, Math.ceil(Math.min(ay, by, cy) - 0.5)), y1 = Math.min(H - 1, Math.floor(Math.max(ay, by, cy) - 0.5));
    const ia = 1 / sz[a]!, ib = 1 / sz[b]!, ic = 1 / sz[d]!;
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
      const px = x + 0.5, py = y + 0.5;
      const wa = ((by - cy) * (px - cx) + (cx - bx) * (py - cy)) / den;
      const wb = ((cy - ay) * (px - cx) + (ax - cx) * (py - cy)) / den;
      const wc = 1 - wa - wb;
      if (wa < 0 || wb < 0 || wc < 0) continue;
      // perspective-correct weights
      const qa = wa * ia, qb = wb * ib, qc = wc * ic, qs = qa + qb + qc;
      const z = 1 / qs;
      const i = y * W + x;
      if (z >= zbuf[i]!) continue;
      zbuf[i] = z;
      const pa = qa / qs, pb = qb / qs, pc = qc / qs;
      if (colour === 'texture') {
        const uv = m.uvs!;
        sampleTexture(m.texture!, pa * uv[2 * a]! + pb * uv[2 * b]! + pc * uv[2 * d]!, pa * uv[2 * a + 1]! + pb * uv[2 * b + 1]! + pc * uv[2 * d + 1]!, c);
      } else {
        const C = m.colors!;
        for (let q = 0; q < 3; q++) c[q] = pa * C[3 * a + q]! + pb * C[3 * b + q]! + pc * C[3 * d + q]!;
      }
      rgb[3 * i] = c[0]!; rgb[3 * i + 1] = c[1]!; rgb[3 * i + 2] = c[2]!;
      alpha[i] = 1;
    }
  }
  return { rgb, alpha };
}

/** Bilinear texture lookup (clamped to the edge), glTF uv convention, into out[0..2] (0..1). */
export function sampleTexture(tex: MeshTexture, u: number, v: number, out: number[]): void {
  const W = tex.width, H = tex.height;
  const x = u * W - 0.5, y = v * H - 0.5;
  const x0 = Math.max(0, Math.min(W - 1, Math.floor(x))), y0 = Math.max(0, Math.min(H - 1, Math.floor(y)));
  const x1 = Math.min(W - 1, x0 + 1), y1 = Math.min(H - 1, y0 + 1);
  const fx = Math.min(1, Math.max(0, x - x0)), fy = Math.min(1, Math.max(0, y - y0));
  for (let q = 0; q < 3; q++) {
    const t00 = tex.rgb[3 * (y0 * W + x0) + q]!, t10 = tex.rgb[3 * (y0 * W + x1) + q]!, t01 = tex.rgb[3 * (y1 * W + x0) + q]!, t11 = tex.rgb[3 * (y1 * W + x1) + q]!;
    out[q] = ((1 - fy) * ((1 - fx) * t00 + fx * t10) + fy * ((1 - fx) * t01 + fx * t11)) / 255;
  }
}

/** PSNR (dB) of `a` against the reference `ref` (both H×W×3 in 0..1) over the pixels where `mask` > 0.5. */
export function maskedPsnr(a: Float32Array, ref: Float32Array, mask: ArrayLike<number>): number {
  let se = 0, n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!(mask[i]! > 0.5)) continue;
    for (let q = 0; q < 3; q++) se += (a[3 * i + q]! - ref[3 * i + q]!) ** 2;
    n += 3;
  }
  return n ? -10 * Math.log10(Math.max(1e-12, se / n)) : NaN;
}
