/**
 * Gaussian shapes with exact meshes, for tests and benchmarks of extraction: flat Gaussians
 * (tangent discs) sampled densely on a box's or a sphere's surface, sitting on the ground z = 0 of
 * a Z-up scene (the synthetic scenes' convention), so extraction's frame change is exercised too.
 */
import { SH_COEFFS, type GaussianParams } from '../../core/gaussians.js';
import { Rng } from '../../util/rng.js';
import type { TriMesh } from './types.js';

const C0 = 0.28209479177387814;

export interface Shape {
  params: GaussianParams;
  /** the true surface, scene frame */
  mesh: TriMesh;
}

/** Quaternion (w,x,y,z) that turns +Z onto the unit vector n. */
function quatZTo(n: [number, number, number]): [number, number, number, number] {
  const [x, y, z] = n;
  if (z < -0.999999) return [0, 1, 0, 0];
  const w = 1 + z;
  const l = Math.hypot(w, -y, x);
  return [w / l, -y / l, x / l, 0];
}

function build(points: { p: [number, number, number]; n: [number, number, number]; rgb: [number, number, number] }[], spacing: number): GaussianParams {
  const N = points.length;
  const g: GaussianParams = {
    count: N,
    means: new Float32Array(N * 3),
    logScales: new Float32Array(N * 3),
    quats: new Float32Array(N * 4),
    opacityLogits: new Float32Array(N).fill(4),
    sh: new Float32Array(N * SH_COEFFS * 3),
  };
  points.forEach(({ p, n, rgb }, i) => {
    g.means.set(p, 3 * i);
    g.logScales.set([Math.log(spacing * 0.8), Math.log(spacing * 0.8), Math.log(spacing * 0.05)], 3 * i);
    g.quats.set(quatZTo(n), 4 * i);
    for (let c = 0; c < 3; c++) g.sh[i * SH_COEFFS * 3 + c] = (rgb[c]! - 0.5) / C0;
  });
  return g;
}

/** Colour of a surface point (scene frame) with normal n, RGB in 0..1. */
export type ShapeColour = (p: [number, number, number], n: [number, number, number]) => [number, number, number];

/** A checkerboard of `cell`-sized squares in 3D (two colours), for textures finer than a mesh's vertices. */
export function checkerColour(cell: number, a: [number, number, number] = [0.85, 0.75, 0.2], b: [number, number, number] = [0.15, 0.25, 0.6]): ShapeColour {
  return (p) => ((Math.floor(p[0] / cell + 1e-4) + Math.floor(p[1] / cell + 1e-4) + Math.floor(p[2] / cell + 1e-4)) & 1 ? a : b);
}

/**
 * Axis-aligned box [−w/2, w/2] × [−d/2, d/2] × [0, h] (no Gaussians on the hidden bottom face),
 * coloured by `colour` (default a smooth gradient across each face).
 */
export function boxShape(w: number, d: number, h: number, count: number, seed = 1, colour?: ShapeColour): Shape {
  const rng = new Rng(seed);
  const faces: { o: [number, number, number]; u: [number, number, number]; v: [number, number, number]; n: [number, number, number] }[] = [
    { o: [-w / 2, -d / 2, h], u: [w, 0, 0], v: [0, d, 0], n: [0, 0, 1] },
    { o: [-w / 2, -d / 2, 0], u: [w, 0, 0], v: [0, 0, h], n: [0, -1, 0] },
    { o: [-w / 2, d / 2, 0], u: [w, 0, 0], v: [0, 0, h], n: [0, 1, 0] },
    { o: [-w / 2, -d / 2, 0], u: [0, d, 0], v: [0, 0, h], n: [-1, 0, 0] },
    { o: [w / 2, -d / 2, 0], u: [0, d, 0], v: [0, 0, h], n: [1, 0, 0] },
  ];
  const areas = faces.map((f) => Math.hypot(...f.u) * Math.hypot(...f.v));
  const total = areas.reduce((a, b) => a + b, 0);
  const spacing = Math.sqrt(total / count);
  const pts: Parameters<typeof build>[0] = [];
  faces.forEach((f, k) => {
    const n = Math.round((count * areas[k]!) / total);
    for (let i = 0; i < n; i++) {
      // Centres kept one σ (0.8 spacing) inside the face's border, so the rendered opaque edge
      // (alpha 0.5 lies ~1.2σ from a centre) falls on the true edge, as a trained scene's would;
      // discs centred on the border would render a lip one σ outside the true box.
      const ia = (0.8 * spacing) / Math.hypot(...f.u), ib = (0.8 * spacing) / Math.hypot(...f.v);
      const a = rng.uniform(ia, 1 - ia), b = rng.uniform(f.n[2] === 0 ? 0 : ib, 1 - ib);
      const p: [number, number, number] = [0, 1, 2].map((c) => f.o[c]! + a * f.u[c]! + b * f.v[c]!) as [number, number, number];
      pts.push({ p, n: f.n, rgb: colour ? colour(p, f.n) : [0.3 + 0.4 * a, 0.5, 0.3 + 0.4 * b] });
    }
  });
  const P = new Float32Array([-w / 2, -d / 2, 0, w / 2, -d / 2, 0, w / 2, d / 2, 0, -w / 2, d / 2, 0, -w / 2, -d / 2, h, w / 2, -d / 2, h, w / 2, d / 2, h, -w / 2, d / 2, h]);
  const I = new Uint32Array([0, 2, 1, 0, 3, 2, 4, 5, 6, 4, 6, 7, 0, 1, 5, 0, 5, 4, 2, 3, 7, 2, 7, 6, 1, 2, 6, 1, 6, 5, 0, 4, 7, 0, 7, 3]);
  return { params: build(pts, spacing), mesh: { positions: P, indices: I } };
}

/** Sphere of radius r resting on the ground (centre at z = r); the true mesh is a fine UV sphere. */
export function sphereShape(r: number, count: number, seed = 2): Shape {
  const rng = new Rng(seed);
  const spacing = Math.sqrt((4 * Math.PI * r * r) / count);
  const pts: Parameters<typeof build>[0] = [];
  for (let i = 0; i < count; i++) {
    const z = rng.uniform(-1, 1), phi = rng.uniform(0, 2 * Math.PI), s = Math.sqrt(1 - z * z);
    const n: [number, number, number] = [s * Math.cos(phi), s * Math.sin(phi), z];
    pts.push({ p: [r * n[0], r * n[1], r + r * n[2]], n, rgb: [0.5 + 0.3 * n[0], 0.4, 0.5 + 0.3 * z] });
  }
  const seg = 96, ring = 48, P: number[] = [], I: number[] = [];
  for (let j = 0; j <= ring; j++) for (let i = 0; i < seg; i++) {
    const th = (Math.PI * j) / ring, ph = (2 * Math.PI * i) / seg;
    P.push(r * Math.sin(th) * Math.cos(ph), r * Math.sin(th) * Math.sin(ph), r + r * Math.cos(th));
  }
  for (let j = 0; j < ring; j++) for (let i = 0; i < seg; i++) {
    const a = j * seg + i, b = j * seg + ((i + 1) % seg), c = a + seg, d = b + seg;
    I.push(a, c, b, b, c, d);
  }
  return { params: build(pts, spacing), mesh: { positions: Float32Array.from(P), indices: Uint32Array.from(I) } };
}
