/**
 * Vertex colours from the renders the mesh was fused from: each vertex takes the mean colour of
 * the views that see it (depth agrees within a tolerance), weighted by how squarely the view faces
 * the surface. Cheaper than a texture bake and enough for simulation proxies.
 */
import type { ViewRender } from './render.js';
import type { TriMesh } from './types.js';

export function vertexNormals(m: TriMesh): Float32Array {
  const p = m.positions, I = m.indices, n = new Float32Array(p.length);
  for (let t = 0; t < I.length; t += 3) {
    const a = 3 * I[t]!, b = 3 * I[t + 1]!, c = 3 * I[t + 2]!;
    const ux = p[b]! - p[a]!, uy = p[b + 1]! - p[a + 1]!, uz = p[b + 2]! - p[a + 2]!;
    const vx = p[c]! - p[a]!, vy = p[c + 1]! - p[a + 1]!, vz = p[c + 2]! - p[a + 2]!;
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx; // area-weighted
    for (const v of [a, b, c]) { n[v] += nx; n[v + 1] += ny; n[v + 2] += nz; }
  }
  for (let v = 0; v < n.length; v += 3) {
    const l = Math.hypot(n[v]!, n[v + 1]!, n[v + 2]!) || 1;
    n[v] /= l; n[v + 1] /= l; n[v + 2] /= l;
  }
  return n;
}

/** Colour every vertex; `tolerance` is the depth agreement in world units. */
export function colorVertices(m: TriMesh, views: ViewRender[], tolerance: number): Float32Array {
  const p = m.positions, nrm = vertexNormals(m);
  const nv = p.length / 3;
  const acc = new Float64Array(nv * 4);
  for (const view of views) {
    const { cam, rgb, depth } = view;
    const R = cam.R, t = cam.t;
    const C = [-(R[0]! * t[0]! + R[3]! * t[1]! + R[6]! * t[2]!), -(R[1]! * t[0]! + R[4]! * t[1]! + R[7]! * t[2]!), -(R[2]! * t[0]! + R[5]! * t[1]! + R[8]! * t[2]!)];
    for (let v = 0; v < nv; v++) {
      const x = p[3 * v]!, y = p[3 * v + 1]!, z = p[3 * v + 2]!;
      const zc = R[6]! * x + R[7]! * y + R[8]! * z + t[2]!;
      if (zc <= 0) continue;
      const u = Math.floor((cam.fx * (R[0]! * x + R[1]! * y + R[2]! * z + t[0]!)) / zc + cam.cx);
      const w = Math.floor((cam.fy * (R[3]! * x + R[4]! * y + R[5]! * z + t[1]!)) / zc + cam.cy);
      if (u < 0 || w < 0 || u >= cam.width || w >= cam.height) continue;
      const pix = w * cam.width + u;
      const d = depth[pix]!;
      if (!(Math.abs(d - zc) < tolerance)) continue;
      const dx = C[0]! - x, dy = C[1]! - y, dz = C[2]! - z;
      const cos = (nrm[3 * v]! * dx + nrm[3 * v + 1]! * dy + nrm[3 * v + 2]! * dz) / (Math.hypot(dx, dy, dz) || 1);
      if (cos <= 0.05) continue;
      const a = view.alpha[pix]!;
      // the render is over black: un-premultiply by alpha
      acc[4 * v] += (cos * rgb[3 * pix]!) / a;
      acc[4 * v + 1] += (cos * rgb[3 * pix + 1]!) / a;
      acc[4 * v + 2] += (cos * rgb[3 * pix + 2]!) / a;
      acc[4 * v + 3] += cos;
    }
  }
  const out = new Float32Array(nv * 3).fill(0.5);
  for (let v = 0; v < nv; v++) {
    const w = acc[4 * v + 3]!;
    if (w > 0) for (let c = 0; c < 3; c++) out[3 * v + c] = Math.min(1, Math.max(0, acc[4 * v + c]! / w));
  }
  return out;
}
