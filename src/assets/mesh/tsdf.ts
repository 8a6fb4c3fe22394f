/**
 * Truncated signed distance fusion of rendered depth maps (Curless & Levoy; as 2DGS / Open3D
 * extract meshes from Gaussian scenes), with space carving: the renders hold the asset alone, so a
 * pixel the asset does not cover is known-empty along its whole ray.
 */
import type { Grid } from './marching-cubes.js';
import type { ViewRender } from './render.js';

export interface TsdfOptions {
  /** voxels along the longest side of the bounds (default 160) */
  resolution: number;
  /** truncation distance in voxels (default 4) */
  truncVoxels: number;
  /**
   * alpha below which a pixel is empty and carves its ray (default 0.5: a pixel is covered where
   * the splats make it at least half opaque, as a mask would be drawn; their soft rims beyond carve)
   */
  emptyAlpha: number;
  /**
   * Voxels no view observed (behind the surface from every view) count as inside, which closes
   * the object; the views must then surround it (default true).
   */
  fillUnknown: boolean;
  /** cut the solid at y = groundY (asset frame, +Y up): a flat bottom at the pivot; null = no cap (default 0) */
  groundY: number | null;
}

export const defaultTsdfOptions: TsdfOptions = { resolution: 160, truncVoxels: 4, emptyAlpha: 0.5, fillUnknown: true, groundY: 0 };

export interface Bounds {
  min: [number, number, number];
  max: [number, number, number];
}

/** An empty volume over `bounds` padded by the truncation band (plus one voxel). */
export function createGrid(bounds: Bounds, o: TsdfOptions): Grid & { weights: Float32Array } {
  const ext = [0, 1, 2].map((a) => bounds.max[a]! - bounds.min[a]!);
  const voxel = Math.max(...ext, 1e-9) / o.resolution;
  const pad = (o.truncVoxels + 2) * voxel;
  const origin: [number, number, number] = [bounds.min[0] - pad, bounds.min[1] - pad, bounds.min[2] - pad];
  const n = ext.map((e) => Math.ceil((e + 2 * pad) / voxel) + 1);
  const size = n[0]! * n[1]! * n[2]!;
  return { nx: n[0]!, ny: n[1]!, nz: n[2]!, origin, voxel, values: new Float32Array(size), weights: new Float32Array(size) };
}

/** Fuse one view into the grid (running weighted mean of the truncated SDF, weight 1 per view). */
export function integrate(g: Grid & { weights: Float32Array }, view: ViewRender, o: TsdfOptions): void {
  const { cam, depth, alpha } = view;
  const facing = facingWeights(view);
  const R = cam.R, t = cam.t;
  const W = cam.width, H = cam.height;
  const trunc = o.truncVoxels * g.voxel;
  const { nx, ny, nz, values, weights } = g;
  for (let z = 0; z < nz; z++) {
    const wz = g.origin[2] + z * g.voxel;
    for (let y = 0; y < ny; y++) {
      const wy = g.origin[1] + y * g.voxel;
      // camera coordinates at x = 0 of this row, then step along x
      let cx = R[1]! * wy + R[2]! * wz + t[0]! + R[0]! * g.origin[0];
      let cy = R[4]! * wy + R[5]! * wz + t[1]! + R[3]! * g.origin[0];
      let cz = R[7]! * wy + R[8]! * wz + t[2]! + R[6]! * g.origin[0];
      const dx = R[0]! * g.voxel, dy = R[3]! * g.voxel, dz = R[6]! * g.voxel;
      let idx = nx * (y + ny * z);
      for (let x = 0; x < nx; x++, idx++, cx += dx, cy += dy, cz += dz) {
        if (cz <= 1e-6) continue;
        const u = Math.floor((cam.fx * cx) / cz + cam.cx), v = Math.floor((cam.fy * cy) / cz + cam.cy);
        if (u < 0 || v < 0 || u >= W || v >= H) continue;
        const pix = v * W + u;
        let s: number;
        let ws = 1;
        const d = depth[pix]!;
        if (d === d) {
          const sdf = d - cz;
          if (sdf < -trunc) continue; // occluded: behind the surface, unknown
          s = sdf >= trunc ? 1 : sdf / trunc;
          ws = facing[pix]!;
          if (ws === 0) continue;
        } else if (alpha[pix]! < o.emptyAlpha) {
          s = 1;
        } else {
          continue; // a soft silhouette pixel: neither surface nor empty
        }
        const w = weights[idx]!;
        values[idx] = (values[idx]! * w + s * ws) / (w + ws);
        weights[idx] = w + ws;
      }
    }
  }
}

/**
 * Final field for marching cubes: unknown voxels filled (inside) or left unknown, and the solid
 * cut by the ground plane so the bottom closes flat exactly at groundY.
 */
export function finalizeField(g: Grid & { weights: Float32Array }, o: TsdfOptions): Grid {
  const trunc = o.truncVoxels * g.voxel;
  const values = new Float32Array(g.values.length);
  const weights = o.fillUnknown ? undefined : g.weights;
  for (let z = 0, idx = 0; z < g.nz; z++) {
    for (let y = 0; y < g.ny; y++) {
      const wy = g.origin[1] + y * g.voxel;
      const cut = o.groundY === null ? -Infinity : (o.groundY - wy) / trunc;
      for (let x = 0; x < g.nx; x++, idx++) {
        const v = g.weights[idx] === 0 ? (o.fillUnknown ? -1 : 1) : g.values[idx]!;
        values[idx] = Math.max(v, cut);
      }
    }
  }
  // Keep the outermost shell outside so the surface closes inside the volume.
  for (let z = 0, idx = 0; z < g.nz; z++) for (let y = 0; y < g.ny; y++) for (let x = 0; x < g.nx; x++, idx++) {
    if (x === 0 || y === 0 || z === 0 || x === g.nx - 1 || y === g.ny - 1 || z === g.nz - 1) values[idx] = Math.max(values[idx]!, 1);
  }
  return { ...g, values, weights };
}

/**
 * Per-pixel weight cos⁴θ between the view ray and the surface normal (from the depth map's
 * gradient); 0 below cos 0.5 (60°). Expected depth of splats seen obliquely is pulled towards the camera
 * (the nearer splats over a pixel composite first), so head-on views should dominate the fusion.
 */
export function facingWeights(view: ViewRender): Float32Array {
  const { cam, depth } = view;
  const W = cam.width, H = cam.height;
  const out = new Float32Array(W * H);
  const P = (u: number, v: number, d: number): [number, number, number] => [((u + 0.5 - cam.cx) / cam.fx) * d, ((v + 0.5 - cam.cy) / cam.fy) * d, d];
  for (let v = 1; v < H - 1; v++) for (let u = 1; u < W - 1; u++) {
    const i = v * W + u;
    const d = depth[i]!, dl = depth[i - 1]!, dr = depth[i + 1]!, du = depth[i - W]!, dd = depth[i + W]!;
    if (d !== d) continue;
    const a = dr === dr ? P(u + 1, v, dr) : P(u, v, d), b = dl === dl ? P(u - 1, v, dl) : P(u, v, d);
    const c = dd === dd ? P(u, v + 1, dd) : P(u, v, d), e = du === du ? P(u, v - 1, du) : P(u, v, d);
    const gx = [a[0] - b[0], a[1] - b[1], a[2] - b[2]], gy = [c[0] - e[0], c[1] - e[1], c[2] - e[2]];
    const n = [gx[1]! * gy[2]! - gx[2]! * gy[1]!, gx[2]! * gy[0]! - gx[0]! * gy[2]!, gx[0]! * gy[1]! - gx[1]! * gy[0]!];
    const p = P(u, v, d);
    const cos = Math.abs(n[0]! * p[0] + n[1]! * p[1] + n[2]! * p[2]) / ((Math.hypot(n[0]!, n[1]!, n[2]!) * Math.hypot(...p)) || 1);
    out[i] = cos < 0.5 ? 0 : cos ** 4;
  }
  return out;
}
