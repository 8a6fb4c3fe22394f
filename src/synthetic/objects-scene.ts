/**
 * The synthetic three-object scene for asset extraction: a box, a sphere and a cylinder (exact
 * analytic shapes, object-shapes.ts) standing on a textured ground at z = 0 (z up, metres), as
 * Gaussians, rendered with the reference rasterizer from known hemisphere cameras, with exact
 * per-view, per-object masks of two kinds:
 *  - visible (modal): pixels where the object's own compositing weight Σ αT exceeds 0.5 in the
 *    full scene — what a person would paint, and the input to mask lifting;
 *  - amodal: alpha > 0.5 of the object's Gaussians rendered alone — what the extracted asset's own
 *    rendered alpha should reproduce (the IoU truth).
 * Gaussians are ordered ground first, then each object's contiguous range (truth labels).
 */
import type { GaussianParams } from '../core/gaussians.js';
import { SH_COEFFS } from '../core/gaussians.js';
import { defaultRasterOptions, type RasterCamera, type RasterOptions } from '../core/raster.js';
import { matToQuat, type Vec3 } from '../geometry/rotation.js';
import { rasterizeReference } from '../scene/raster/reference.js';
import { allocGaussians, gatherGaussians, logit, rgbToShDc } from '../scene/gaussians.js';
import { Rng } from '../util/rng.js';
import { hemisphereViews, synthIntrinsics, type SynthIntrinsics, type SynthView } from './cameras.js';
import { sampleSurface, shapeCentre, shapeExtents, type ShapeSpec } from './object-shapes.js';

export interface ObjectsSceneOptions {
  /** number of views (hemisphere, azimuth order) — default 40 */
  views: number;
  /** image long side, pixels — default 160 */
  size: number;
  /** surface sample spacing on the objects, metres — default 0.025 */
  step: number;
  /** ground Gaussians per side — default 48 */
  groundResolution: number;
  /** camera distance to the target, metres — default 3.2 */
  radius: number;
  seed: number;
}

export const defaultObjectsSceneOptions: ObjectsSceneOptions = { views: 40, size: 160, step: 0.025, groundResolution: 48, radius: 3.2, seed: 1 };

/** Half size of the square ground, metres. */
export const OBJECTS_GROUND_HALF = 1.6;

/** The three objects: sizes differ per axis so extent checks see swapped axes. */
export const OBJECT_SPECS: readonly ShapeSpec[] = [
  { name: 'box', kind: 'box', at: [0.55, -0.35], size: [0.5, 0.36, 0.42], yawDeg: 25, colour: [0.2, 0.35, 0.85] },
  { name: 'sphere', kind: 'sphere', at: [-0.55, -0.45], radius: 0.25, colour: [0.85, 0.25, 0.2] },
  { name: 'cylinder', kind: 'cylinder', at: [-0.1, 0.6], radius: 0.18, height: 0.55, colour: [0.95, 0.8, 0.2] },
];

export interface ObjectTruth {
  name: string;
  kind: ShapeSpec['kind'];
  /** bounding-box centre, world */
  centre: Vec3;
  /** extents along the object's own axes (x, y after yaw; z up), metres */
  extents: Vec3;
  yawDeg: number;
  /** Gaussian index range [start, end) in the scene */
  gaussians: [number, number];
  spec: ShapeSpec;
}

export interface ObjectsScene {
  params: GaussianParams;
  /** Gaussians [0, groundCount) are the ground */
  groundCount: number;
  objects: ObjectTruth[];
}

export interface ObjectsView {
  name: string;
  view: SynthView;
  camera: RasterCamera;
  /** H×W×3 in [0, 1] (empty when not rendered) */
  rgb: Float32Array;
  /** H×W expected depth along the camera z (0 where nothing was hit) */
  depth: Float32Array;
  /** per object (scene order), H×W in {0, 1} (empty lists when not rendered) */
  visible: Uint8Array[];
  amodal: Uint8Array[];
}

export interface ObjectsCapture {
  options: ObjectsSceneOptions;
  scene: ObjectsScene;
  intrinsics: SynthIntrinsics;
  views: ObjectsView[];
}

/** Render options of the capture (and of IoU checks against its masks). */
export const OBJECTS_RASTER: RasterOptions = { ...defaultRasterOptions, shDegree: 0, background: [0, 0, 0] };

export function buildObjectsScene(partial: Partial<ObjectsSceneOptions> = {}): ObjectsScene {
  const o = { ...defaultObjectsSceneOptions, ...partial };
  const rng = new Rng(o.seed);
  const P: number[] = [], S: number[] = [], Q: number[] = [], C: number[] = [], A: number[] = [];
  const add = (p: Vec3, s: Vec3, q: number[], c: Vec3, a: number) => (P.push(...p), S.push(...s), Q.push(...q), C.push(...c), A.push(a));
  // Ground: flat discs on a grid, 0.4 m checks with smooth variation and per-splat noise.
  const res = o.groundResolution, half = OBJECTS_GROUND_HALF, g = (2 * half) / res;
  for (let i = 0; i < res; i++) {
    for (let j = 0; j < res; j++) {
      const x = -half + (i + 0.5) * g, y = -half + (j + 0.5) * g;
      const chk = (Math.floor((x + half) / 0.4) + Math.floor((y + half) / 0.4)) % 2;
      const wave = 0.12 * Math.sin(4 * x) * Math.cos(3 * y);
      const c = [0.45, 0.4, 0.3].map((b) => clamp01(b + (chk ? 0.3 : 0) + wave + rng.uniform(-0.06, 0.06))) as Vec3;
      add([x, y, 0], [g * 0.7, g * 0.7, g * 0.05], [1, 0, 0, 0], c, 0.98);
    }
  }
  const groundCount = A.length;
  const objects: ObjectTruth[] = [];
  for (const spec of OBJECT_SPECS) {
    const start = A.length;
    // Flat discs tangent to the surface: an opaque shell whose silhouette follows the shape.
    for (const smp of sampleSurface(spec, o.step)) {
      const shade = smp.pattern ? 1 : 0.6;
      add(smp.p, [o.step * 0.6, o.step * 0.6, o.step * 0.1], matToQuat(frameFromNormal(smp.n)), spec.colour.map((c) => c * shade) as Vec3, 0.97);
    }
    objects.push({ name: spec.name, kind: spec.kind, centre: shapeCentre(spec), extents: shapeExtents(spec), yawDeg: spec.yawDeg ?? 0, gaussians: [start, A.length], spec });
  }
  const params = allocGaussians(A.length);
  params.means.set(P);
  params.logScales.set(S.map(Math.log));
  params.quats.set(Q);
  for (let i = 0; i < A.length; i++) {
    params.opacityLogits[i] = logit(A[i]!);
    for (let k = 0; k < 3; k++) params.sh[i * SH_COEFFS * 3 + k] = rgbToShDc(C[i * 3 + k]! * 0.8);
  }
  return { params, groundCount, objects };
}

/** Cameras of the capture: hemisphere views in azimuth order looking at the objects. */
export function objectsCameras(o: ObjectsSceneOptions): { intrinsics: SynthIntrinsics; views: SynthView[] } {
  const intrinsics = synthIntrinsics(o.size);
  const target: Vec3 = [0, 0, 0.2];
  const views = hemisphereViews(o.views, o.seed, o.radius, target);
  return { intrinsics, views };
}

/** What to render per view (tests skip what they do not check: the CPU rasterizer is slow). */
export interface ObjectsRenderParts {
  /** colour image and depth — default true */
  rgb: boolean;
  /** visible (modal) masks — default true */
  visible: boolean;
  /** amodal masks — default true */
  amodal: boolean;
}

export function renderObjectsCapture(partial: Partial<ObjectsSceneOptions> = {}, parts: Partial<ObjectsRenderParts> = {}): ObjectsCapture {
  const options = { ...defaultObjectsSceneOptions, ...partial };
  const scene = buildObjectsScene(options);
  const { intrinsics: k, views } = objectsCameras(options);
  const r = objectsRenderer(scene);
  const out = views.map((view, i) => r.render(`view_${String(i).padStart(3, '0')}.png`, view, k, parts));
  return { options, scene, intrinsics: k, views: out };
}

/** Renders views of a scene (the label scene and the objects alone are built once). */
export function objectsRenderer(scene: ObjectsScene): { render: (name: string, view: SynthView, k: SynthIntrinsics, parts?: Partial<ObjectsRenderParts>) => ObjectsView } {
  // Label scene: same geometry, colour = one-hot object id, so one render gives each object's
  // compositing weight per pixel (exactly 3 objects → 3 channels).
  const labels = { ...scene.params, sh: new Float32Array(scene.params.sh.length) };
  for (let i = 0; i < scene.params.count; i++) for (const c of [0, 1, 2]) labels.sh[i * SH_COEFFS * 3 + c] = rgbToShDc(0);
  scene.objects.forEach((ob, j) => {
    for (let i = ob.gaussians[0]; i < ob.gaussians[1]; i++) labels.sh[i * SH_COEFFS * 3 + j] = rgbToShDc(1);
  });
  const alone = scene.objects.map((ob) => gatherGaussians(scene.params, range(ob.gaussians[0], ob.gaussians[1])));
  const render = (name: string, view: SynthView, k: SynthIntrinsics, parts: Partial<ObjectsRenderParts> = {}): ObjectsView => {
    const want = { rgb: true, visible: true, amodal: true, ...parts };
    const camera: RasterCamera = { width: k.width, height: k.height, fx: k.fx, fy: k.fy, cx: k.cx, cy: k.cy, R: view.R, t: view.t };
    const P = k.width * k.height;
    let rgb: Float32Array = new Float32Array(0), depth: Float32Array = new Float32Array(0);
    if (want.rgb) {
      const full = rasterizeReference(scene.params, camera, OBJECTS_RASTER);
      rgb = full.rgb;
      depth = new Float32Array(P);
      for (let p = 0; p < P; p++) depth[p] = full.alpha[p]! > 1e-3 ? full.depth[p]! / full.alpha[p]! : 0;
    }
    let visible: Uint8Array[] = [];
    if (want.visible) {
      const lab = rasterizeReference(labels, camera, OBJECTS_RASTER).rgb;
      visible = scene.objects.map((_, j) => {
        const m = new Uint8Array(P);
        for (let p = 0; p < P; p++) m[p] = lab[3 * p + j]! > 0.5 ? 1 : 0;
        return m;
      });
    }
    const amodal = want.amodal ? alone.map((g) => thresholdAlpha(rasterizeReference(g, camera, OBJECTS_RASTER).alpha)) : [];
    return { name, view, camera, rgb, depth, visible, amodal };
  };
  return { render };
}

/** alpha > 0.5 → 1 */
export function thresholdAlpha(alpha: ArrayLike<number>, t = 0.5): Uint8Array {
  const m = new Uint8Array(alpha.length);
  for (let p = 0; p < alpha.length; p++) m[p] = alpha[p]! > t ? 1 : 0;
  return m;
}

/** Intersection over union of two binary masks (1 when both are empty). */
export function maskIoU(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let i = 0, u = 0;
  for (let p = 0; p < a.length; p++) {
    const x = a[p]! > 0, y = b[p]! > 0;
    if (x && y) i++;
    if (x || y) u++;
  }
  return u === 0 ? 1 : i / u;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

/** Rotation (row-major, local → world) whose local z is the normal n. */
function frameFromNormal(n: Vec3): number[] {
  const a: Vec3 = Math.abs(n[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  const x = norm(cross(a, n));
  const y = cross(n, x);
  return [x[0], y[0], n[0], x[1], y[1], n[1], x[2], y[2], n[2]];
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function norm(a: Vec3): Vec3 {
  const l = Math.hypot(...a) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
