/**
 * Base-colour texture baked from the renders the mesh was fused from (the splats rendered at the
 * orbit and capture viewpoints, ViewRender): every texel of the atlas (atlas.ts) is a point on the
 * surface; it takes the colour of the views that see it — the point projects inside the view and
 * the view's depth there agrees within `tolerance` (visibility) — weighted by how squarely the view
 * faces the surface (cos of the angle to the normal; sharper weightings, cos³ and cos⁸, measured
 * 0.3 and 0.7 dB worse on the textured-box test: averaging views beats picking one) and by the
 * view's resolution at the point (pixels per scene unit, squared). The colour may come from a finer
 * render of the same view (`colour`, bakeScale in index.ts).
 * Colours are sampled bilinearly and un-premultiplied by alpha (the renders are over black).
 * Texels no view sees take the interpolated vertex colour; empty texels next to charts are filled
 * from their neighbours (gutter dilation), so filtering across a chart border stays on colour.
 */
import sharp from 'sharp';
import type { RasterCamera } from '../../core/raster.js';
import type { ViewRender } from './render.js';
import type { MeshTexture, TriMesh } from './types.js';
import { vertexNormals } from './colors.js';

export interface BakeOptions {
  /** texture side in texels (the atlas' size) */
  size: number;
  /** depth agreement, scene units */
  tolerance: number;
  /** gutter dilation passes (default 4) */
  dilate: number;
}

/** A colour render of a view at a finer resolution (same pose, intrinsics scaled). */
export interface ColourRender {
  cam: RasterCamera;
  rgb: Float32Array;
  alpha: Float32Array;
}

/**
 * Bake `m` (with `uvs`) from the views; returns the texture, `m` is unchanged. `colour[k]`, when
 * given, is view k rendered finer: visibility still comes from view k's depth, the colour from it.
 */
export function bakeTexture(m: TriMesh, views: ViewRender[], o: Pick<BakeOptions, 'size' | 'tolerance'> & Partial<BakeOptions>, colour?: (ColourRender | undefined)[]): MeshTexture {
  const uvs = m.uvs;
  if (!uvs) throw new Error('bakeTexture: the mesh has no uvs (run buildAtlas first)');
  const S = o.size, dil = o.dilate ?? 4;
  const P = m.positions, I = m.indices, N = vertexNormals(m);
  const acc = new Float32Array(S * S * 4);
  const set = new Uint8Array(S * S); // 0 empty, 1 fallback colour, 2 baked
  const fallback = new Float32Array(S * S * 3);
  const cams = views.map((v, k) => {
    const R = v.cam.R, t = v.cam.t;
    const C = [0, 1, 2].map((a) => -(R[a]! * t[0]! + R[3 + a]! * t[1]! + R[6 + a]! * t[2]!));
    const fine = colour?.[k];
    return { v, R, t, C, src: fine ?? v, k: fine ? fine.cam.fx / v.cam.fx : 1 };
  });
  const p = [0, 0, 0], n = [0, 0, 0];
  for (let tri = 0; tri < I.length / 3; tri++) {
    const ia = I[3 * tri]!, ib = I[3 * tri + 1]!, ic = I[3 * tri + 2]!;
    const ax = uvs[2 * ia]! * S, ay = uvs[2 * ia + 1]! * S, bx = uvs[2 * ib]! * S, by = uvs[2 * ib + 1]! * S, cx = uvs[2 * ic]! * S, cy = uvs[2 * ic + 1]! * S;
    const den = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy);
    if (!(Math.abs(den) > 1e-12)) continue;
    // texels whose centre lies within half a texel of the triangle (edges fully covered)
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx, cx) - 0.5)), x1 = Math.min(S - 1, Math.ceil(Math.max(ax, bx, cx) + 0.5));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by, cy) - 0.5)), y1 = Math.min(S - 1, Math.ceil(Math.max(ay, by, cy) + 0.5));
    const eps = 0.75 / Math.max(1e-9, Math.sqrt(Math.abs(den)));
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
      const px = x + 0.5, py = y + 0.5;
      let wa = ((by - cy) * (px - cx) + (cx - bx) * (py - cy)) / den;
      let wb = ((cy - ay) * (px - cx) + (ax - cx) * (py - cy)) / den;
      let wc = 1 - wa - wb;
      if (wa < -eps || wb < -eps || wc < -eps) continue;
      const texel = y * S + x;
      const inside = wa >= 0 && wb >= 0 && wc >= 0;
      if (set[texel] === 2 && !inside) continue; // a neighbour triangle's interior texel already
      // clamp to the triangle (texels straddling an edge take the edge's point)
      wa = Math.max(0, wa); wb = Math.max(0, wb); wc = Math.max(0, wc);
      const s = wa + wb + wc; wa /= s; wb /= s; wc /= s;
      for (let a = 0; a < 3; a++) {
        p[a] = wa * P[3 * ia + a]! + wb * P[3 * ib + a]! + wc * P[3 * ic + a]!;
        n[a] = wa * N[3 * ia + a]! + wb * N[3 * ib + a]! + wc * N[3 * ic + a]!;
      }
      const nl = Math.hypot(n[0]!, n[1]!, n[2]!) || 1;
      let r = 0, g = 0, b = 0, w = 0;
      for (const { v, R, t, C, src, k } of cams) {
        const cam = v.cam;
        const zc = R[6]! * p[0]! + R[7]! * p[1]! + R[8]! * p[2]! + t[2]!;
        if (!(zc > 0)) continue;
        const u = (cam.fx * (R[0]! * p[0]! + R[1]! * p[1]! + R[2]! * p[2]! + t[0]!)) / zc + cam.cx;
        const q = (cam.fy * (R[3]! * p[0]! + R[4]! * p[1]! + R[5]! * p[2]! + t[1]!)) / zc + cam.cy;
        const ui = Math.floor(u), qi = Math.floor(q);
        if (ui < 0 || qi < 0 || ui >= cam.width || qi >= cam.height) continue;
        const d = v.depth[qi * cam.width + ui]!;
        if (!(Math.abs(d - zc) < o.tolerance)) continue;
        const dx = C[0]! - p[0]!, dy = C[1]! - p[1]!, dz = C[2]! - p[2]!;
        const dist = Math.hypot(dx, dy, dz) || 1;
        const cos = (n[0]! * dx + n[1]! * dy + n[2]! * dz) / (nl * dist);
        if (cos <= 0.1) continue;
        const c = sampleBilinear(src, k * (u - cam.cx) + src.cam.cx - 0.5, k * (q - cam.cy) + src.cam.cy - 0.5);
        if (!c) continue;
        const res = cam.fx / zc; // pixels per scene unit at the point
        const wt = cos * res * res;
        r += wt * c[0]; g += wt * c[1]; b += wt * c[2]; w += wt;
      }
      if (w > 0) {
        acc[4 * texel] = r / w; acc[4 * texel + 1] = g / w; acc[4 * texel + 2] = b / w; acc[4 * texel + 3] = 1;
        set[texel] = 2;
      } else if (set[texel] !== 2 && m.colors) {
        for (let a = 0; a < 3; a++) fallback[3 * texel + a] = wa * m.colors[3 * ia + a]! + wb * m.colors[3 * ib + a]! + wc * m.colors[3 * ic + a]!;
        set[texel] = 1;
      }
    }
  }
  const rgb = new Float32Array(S * S * 3);
  const filled = new Uint8Array(S * S);
  for (let i = 0; i < S * S; i++) {
    if (set[i] === 2) { for (let a = 0; a < 3; a++) rgb[3 * i + a] = acc[4 * i + a]!; filled[i] = 1; }
    else if (set[i] === 1) { for (let a = 0; a < 3; a++) rgb[3 * i + a] = fallback[3 * i + a]!; filled[i] = 1; }
  }
  dilateTexture(rgb, filled, S, dil);
  const out = new Uint8Array(S * S * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(255 * Math.min(1, Math.max(0, rgb[i]!)));
  return { width: S, height: S, rgb: out };
}

/** Colour of view `v` at continuous pixel (x, y) (pixel centres at integers), un-premultiplied; null where alpha is low. */
function sampleBilinear(v: ColourRender, x: number, y: number): [number, number, number] | null {
  const W = v.cam.width, H = v.cam.height;
  const x0 = Math.max(0, Math.min(W - 1, Math.floor(x))), y0 = Math.max(0, Math.min(H - 1, Math.floor(y)));
  const x1 = Math.min(W - 1, x0 + 1), y1 = Math.min(H - 1, y0 + 1);
  const fx = Math.min(1, Math.max(0, x - x0)), fy = Math.min(1, Math.max(0, y - y0));
  let r = 0, g = 0, b = 0, a = 0;
  const taps: [number, number][] = [[y0 * W + x0, (1 - fx) * (1 - fy)], [y0 * W + x1, fx * (1 - fy)], [y1 * W + x0, (1 - fx) * fy], [y1 * W + x1, fx * fy]];
  for (const [i, w] of taps) {
    r += w * v.rgb[3 * i]!; g += w * v.rgb[3 * i + 1]!; b += w * v.rgb[3 * i + 2]!; a += w * v.alpha[i]!;
  }
  if (!(a > 0.5)) return null;
  return [Math.min(1, r / a), Math.min(1, g / a), Math.min(1, b / a)];
}

/** Empty texels next to filled ones take their mean, `passes` rings outward. */
export function dilateTexture(rgb: Float32Array, filled: Uint8Array, S: number, passes: number): void {
  for (let p = 0; p < passes; p++) {
    const add: number[] = [];
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const i = y * S + x;
      if (filled[i]) continue;
      let r = 0, g = 0, b = 0, k = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
        const j = yy * S + xx;
        if (!filled[j]) continue;
        r += rgb[3 * j]!; g += rgb[3 * j + 1]!; b += rgb[3 * j + 2]!; k++;
      }
      if (k > 0) { rgb[3 * i] = r / k; rgb[3 * i + 1] = g / k; rgb[3 * i + 2] = b / k; add.push(i); }
    }
    if (add.length === 0) break;
    for (const i of add) filled[i] = 1;
  }
}

/** The texture as PNG bytes (what mesh.glb embeds and a USD exporter writes beside the layer). */
export async function texturePng(t: MeshTexture): Promise<Uint8Array> {
  const buf = await sharp(Buffer.from(t.rgb.buffer, t.rgb.byteOffset, t.rgb.byteLength), { raw: { width: t.width, height: t.height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
