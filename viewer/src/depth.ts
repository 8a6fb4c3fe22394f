// The visible surface under a screen point: the depth of the rendered splats, found as the
// renderer finds colour. Every splat is projected with the camera the page draws with (its 2D
// covariance, Spark's 0.3 px² pre-blur and √8 σ cut-off), the ones covering the pixel are
// composited front to back, and the pixel's depth is where the accumulated opacity reaches one
// half (the median depth of 3DGS), each splat counted at the depth where the pixel's ray passes
// its densest point (not at its centre: a flat ground splat seen at a slant is met well before or
// after its centre). Splats wider than a tenth of their distance are haze, not surface (a
// half-trained scene puts such blobs in front of its cameras): they are drawn but never picked. Faint floaters in front and splats behind the surface do not
// move it, unlike the first or last splat a ray meets. A pick takes the median over a small window
// of pixels around the cursor, so one pixel between splats or on an edge does not decide it.
import * as THREE from 'three';
import type { SplatMesh } from '@sparkjsdev/spark';

/** Spark's defaults: 2D covariance pre-blur (set in app.ts) and the largest σ drawn. */
const PRE_BLUR_PX2 = 0.3;
const MAX_STD2 = 8;
const MIN_ALPHA = 1 / 255;

export interface Window {
  /** client pixels */
  x: number;
  y: number;
}

export interface ProbeOptions {
  /** half size of the window, pixels (default 4) */
  radius?: number;
  /** pixel step inside the window (default 2) */
  step?: number;
  /** fraction of the window's pixels that must see a surface (default 0.3) */
  minCover?: number;
}

export class SurfaceProbe {
  private key: SplatMesh | null = null;
  private n = 0;
  private centres = new Float32Array(0);
  /** 3D covariance (xx, xy, xz, yy, yz, zz) per splat, in the mesh's own frame */
  private cov = new Float32Array(0);
  /** inverse 3D covariance, same layout (thin splats have large entries: kept in float64) */
  private icov = new Float64Array(0);
  private opacity = new Float32Array(0);
  /** largest σ of each splat */
  private size = new Float32Array(0);

  private load(mesh: SplatMesh): void {
    const n = mesh.packedSplats?.numSplats ?? mesh.splats?.getNumSplats() ?? 0;
    if (mesh === this.key && n === this.n) return;
    this.key = mesh;
    this.n = n;
    this.centres = new Float32Array(n * 3);
    this.cov = new Float32Array(n * 6);
    this.icov = new Float64Array(n * 6);
    this.opacity = new Float32Array(n);
    this.size = new Float32Array(n);
    const r = new THREE.Matrix3();
    const q4 = new THREE.Matrix4();
    mesh.forEachSplat((i, c, s, q, o) => {
      if (i >= n) return;
      this.centres[i * 3] = c.x;
      this.centres[i * 3 + 1] = c.y;
      this.centres[i * 3 + 2] = c.z;
      this.opacity[i] = o;
      this.size[i] = Math.max(s.x, s.y, s.z);
      r.setFromMatrix4(q4.makeRotationFromQuaternion(q));
      const e = r.elements; // column-major: e[col*3+row]
      const floor = 1e-12;
      const sx = Math.max(floor, s.x * s.x), sy = Math.max(floor, s.y * s.y), sz = Math.max(floor, s.z * s.z);
      // Σ = R diag(s²) Rᵀ, Σ⁻¹ = R diag(1/s²) Rᵀ
      const R = (row: number, col: number) => e[col * 3 + row]!;
      const cv = (a: number, b: number) => R(a, 0) * R(b, 0) * sx + R(a, 1) * R(b, 1) * sy + R(a, 2) * R(b, 2) * sz;
      const ci = (a: number, b: number) => R(a, 0) * R(b, 0) / sx + R(a, 1) * R(b, 1) / sy + R(a, 2) * R(b, 2) / sz;
      this.cov.set([cv(0, 0), cv(0, 1), cv(0, 2), cv(1, 1), cv(1, 2), cv(2, 2)], i * 6);
      this.icov.set([ci(0, 0), ci(0, 1), ci(0, 2), ci(1, 1), ci(1, 2), ci(2, 2)], i * 6);
    });
  }

  /**
   * Rendered-surface depth (distance along the view axis, viewer units) at each window, or null
   * where too little of the window sees a surface. `rect` is the canvas's client rectangle.
   */
  depths(mesh: SplatMesh, camera: THREE.PerspectiveCamera, rect: DOMRect | { left: number; top: number; width: number; height: number }, windows: Window[], opts: ProbeOptions = {}): Array<number | null> {
    this.load(mesh);
    const rad = opts.radius ?? 4, stepPx = opts.step ?? 2;
    mesh.updateMatrixWorld();
    camera.updateMatrixWorld();
    const mv = new THREE.Matrix4().multiplyMatrices(camera.matrixWorldInverse, mesh.matrixWorld).elements;
    const P = camera.projectionMatrix.elements;
    const W = rect.width, H = rect.height;
    const fx = (W / 2) * P[0]!, fy = (H / 2) * P[5]!;
    const cx = rect.left + (W / 2) * (1 - P[8]!), cy = rect.top + (H / 2) * (1 + P[9]!);
    // the pixels each window samples
    const pix: Array<{ w: number; x: number; y: number; hits: number[] }> = [];
    for (let w = 0; w < windows.length; w++)
      for (let dy = -rad; dy <= rad; dy += stepPx)
        for (let dx = -rad; dx <= rad; dx += stepPx) pix.push({ w, x: windows[w]!.x + dx, y: windows[w]!.y + dy, hits: [] });
    const boxes = windows.map((c) => [c.x - rad, c.x + rad, c.y - rad, c.y + rad] as const);
    const near = camera.near;
    const HAZE = 0.1;
    const scaleOf = new THREE.Vector3().setFromMatrixScale(new THREE.Matrix4().fromArray(mv)).x;
    const { centres: C, cov: S, icov: IS, opacity: O } = this;
    // view → mesh linear part (for the inverse covariance in view coordinates: Mᵀ⁻¹ Σ⁻¹ M⁻¹)
    const Mi = new THREE.Matrix3().setFromMatrix4(new THREE.Matrix4().fromArray(mv)).invert().elements;
    const mi = (r: number, c: number) => Mi[c * 3 + r]!;
    for (let i = 0; i < this.n; i++) {
      const o = O[i]!;
      if (o < MIN_ALPHA) continue;
      const x0 = C[i * 3]!, y0 = C[i * 3 + 1]!, z0 = C[i * 3 + 2]!;
      const x = mv[0]! * x0 + mv[4]! * y0 + mv[8]! * z0 + mv[12]!;
      const y = mv[1]! * x0 + mv[5]! * y0 + mv[9]! * z0 + mv[13]!;
      const z = mv[2]! * x0 + mv[6]! * y0 + mv[10]! * z0 + mv[14]!;
      const d = -z;
      if (d <= near) continue;
      // a splat wider than HAZE × its distance is haze, not a surface (half-trained scenes put
      // such blobs in front of the cameras): drawn, but never picked
      if (this.size[i]! * scaleOf > HAZE * d) continue;
      const u = cx + (fx * x) / d, v = cy - (fy * y) / d;
      // view-frame covariance: M Σ Mᵀ with M the model-view's linear part
      const s = i * 6;
      const a = S[s]!, b = S[s + 1]!, c = S[s + 2]!, e = S[s + 3]!, f = S[s + 4]!, g = S[s + 5]!;
      // J M rows: J = [[fx/d, 0, fx x/d²], [0, -fy/d, -fy y/d²]] in view coordinates (x, y, z)
      const j0 = fx / d, j2 = (fx * x) / (d * d), k1 = -fy / d, k2 = (-fy * y) / (d * d);
      const t0 = j0 * mv[0]! + j2 * mv[2]!, t1 = j0 * mv[4]! + j2 * mv[6]!, t2 = j0 * mv[8]! + j2 * mv[10]!;
      const r0 = k1 * mv[1]! + k2 * mv[2]!, r1 = k1 * mv[5]! + k2 * mv[6]!, r2 = k1 * mv[9]! + k2 * mv[10]!;
      // Σ2 = T Σ Tᵀ with T rows (t, r)
      const st0 = a * t0 + b * t1 + c * t2, st1 = b * t0 + e * t1 + f * t2, st2 = c * t0 + f * t1 + g * t2;
      const sr0 = a * r0 + b * r1 + c * r2, sr1 = b * r0 + e * r1 + f * r2, sr2 = c * r0 + f * r1 + g * r2;
      const A = t0 * st0 + t1 * st1 + t2 * st2 + PRE_BLUR_PX2;
      const B = t0 * sr0 + t1 * sr1 + t2 * sr2;
      const D = r0 * sr0 + r1 * sr1 + r2 * sr2 + PRE_BLUR_PX2;
      const det = A * D - B * B;
      if (!(det > 0)) continue;
      const reach = Math.sqrt(MAX_STD2 * Math.max(A, D));
      let any = false;
      for (const bx of boxes) if (u + reach >= bx[0] && u - reach <= bx[1] && v + reach >= bx[2] && v - reach <= bx[3]) any = true;
      if (!any) continue;
      const ia = D / det, ib = -B / det, id = A / det;
      let Q: number[] | null = null;
      for (const p of pix) {
        const du = p.x - u, dv = p.y - v;
        if (Math.abs(du) > reach || Math.abs(dv) > reach) continue;
        const m2 = ia * du * du + 2 * ib * du * dv + id * dv * dv;
        if (m2 > MAX_STD2) continue;
        const al = Math.min(0.99, o * Math.exp(-0.5 * m2));
        if (al < MIN_ALPHA) continue;
        if (!Q) {
          // Σ⁻¹ in view coordinates, Q = M⁻ᵀ Σ⁻¹ M⁻¹ (symmetric)
          const L = [IS[s]!, IS[s + 1]!, IS[s + 2]!, IS[s + 1]!, IS[s + 3]!, IS[s + 4]!, IS[s + 2]!, IS[s + 4]!, IS[s + 5]!];
          Q = new Array<number>(9).fill(0);
          for (let r = 0; r < 3; r++)
            for (let c = 0; c < 3; c++) {
              let acc = 0;
              for (let k = 0; k < 3; k++) for (let l = 0; l < 3; l++) acc += mi(k, r) * L[k * 3 + l]! * mi(l, c);
              Q[r * 3 + c] = acc;
            }
        }
        // the ray (from the eye) through the pixel, r = (x/d, y/d, −1) per unit depth; its densest
        // point is at depth t = (rᵀQμ)/(rᵀQr)
        const rx = (p.x - cx) / fx, ry = -(p.y - cy) / fy, rz = -1;
        const qr0 = Q[0]! * rx + Q[1]! * ry + Q[2]! * rz, qr1 = Q[3]! * rx + Q[4]! * ry + Q[5]! * rz, qr2 = Q[6]! * rx + Q[7]! * ry + Q[8]! * rz;
        const den = rx * qr0 + ry * qr1 + rz * qr2;
        let t = den > 0 ? (qr0 * x + qr1 * y + qr2 * z) / den : d;
        if (!Number.isFinite(t)) t = d;
        p.hits.push(Math.max(near, t), al);
      }
    }
    const out: Array<number | null> = windows.map(() => null);
    const perWindow: number[][] = windows.map(() => []);
    for (const p of pix) {
      const md = medianDepth(p.hits);
      if (md !== null) perWindow[p.w]!.push(md);
    }
    const per = pix.length / Math.max(1, windows.length);
    for (let w = 0; w < windows.length; w++) {
      const ds = perWindow[w]!;
      if (ds.length >= Math.max(1, (opts.minCover ?? 0.3) * per)) out[w] = median(ds);
    }
    return out;
  }

  /** Viewer-space point on the rendered surface under a client pixel (window median), or null. */
  pointAt(mesh: SplatMesh, camera: THREE.PerspectiveCamera, rect: DOMRect, x: number, y: number, opts?: ProbeOptions): THREE.Vector3 | null {
    const d = this.depths(mesh, camera, rect, [{ x, y }], opts)[0];
    return d == null ? null : pointAtDepth(camera, rect, x, y, d);
  }
}

/** The viewer-space point on the ray through client pixel (x, y) at view-axis depth d. */
export function pointAtDepth(camera: THREE.PerspectiveCamera, rect: { left: number; top: number; width: number; height: number }, x: number, y: number, d: number): THREE.Vector3 {
  const P = camera.projectionMatrix.elements;
  const W = rect.width, H = rect.height;
  const fx = (W / 2) * P[0]!, fy = (H / 2) * P[5]!;
  const cx = rect.left + (W / 2) * (1 - P[8]!), cy = rect.top + (H / 2) * (1 + P[9]!);
  camera.updateMatrixWorld();
  return new THREE.Vector3(((x - cx) / fx) * d, (-(y - cy) / fy) * d, -d).applyMatrix4(camera.matrixWorld);
}

/** Depth where front-to-back compositing of (depth, alpha) pairs reaches half opacity; null if never. */
function medianDepth(hits: number[]): number | null {
  const n = hits.length / 2;
  if (!n) return null;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => hits[a * 2]! - hits[b * 2]!);
  let T = 1;
  for (const i of order) {
    T *= 1 - hits[i * 2 + 1]!;
    if (T <= 0.5) return hits[i * 2]!;
  }
  return null;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
