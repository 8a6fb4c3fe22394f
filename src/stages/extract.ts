/**
 * The `extract` stage: cut an object out of the trained scene into the asset library
 * (`<library>/<id>/` + `<library>/catalog.json`, see src/assets/extract.ts). What the object is:
 *   --box FILE|SPEC   an oriented box (a viewer selection file, or cx,cy,cz,sx,sy,sz[,yawDeg])
 *   --masks DIR       2D masks of any subset of the images, lifted to the Gaussians
 *   --auto            the objects standing on the ground; alone it lists them, --pick N / --all extract
 * The scene frame comes from sparse/frame.json (up, metric or not and how), overridden by the
 * viewer's user-frame.json (a measured scale). The stage reads the workspace and writes there only
 * its own record; the library has its own lock (the catalog's). So it runs without the workspace
 * lock (`lock: 'none'`), and two extracts from one workspace at once both succeed. An `--auto`
 * listing writes nothing, not even the record.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { hashFile } from '../util/fsx.js';
import { bool, defineStage, int, num, pathOpt, str } from '../pipeline/stage.js';
import type { Workspace } from '../pipeline/workspace.js';
import { readGaussianPly } from '../io/ply.js';
import { readColmapModel } from '../io/colmap.js';
import { readUserFrame } from '../io/user-frame.js';
import { pinholeOf } from '../core/camera.js';
import type { GaussianParams } from '../core/gaussians.js';
import { defaultRasterOptions, type RasterCamera, type RasterOptions } from '../core/raster.js';
import type { SparseModel } from '../core/sparse-model.js';
import { quatToMat, type Vec3 } from '../geometry/rotation.js';
import { gatherGaussians } from '../scene/gaussians.js';
import { createBackend, type RasterBackend } from '../scene/backend-factory.js';
import {
  cleanCut, findObjectsAuto, gaussianCentres, groundPlane, heightOf, liftMasks, readFrameUp, readObjectMasks, resolveBoxArg, selectByBox, uprightBox,
  type AutoObject, type GroundPlane, type MaskView,
} from '../assets/select/index.js';
import { ensureWritable, extractAsset } from '../assets/extract.js';
import { assetFrame } from '../assets/export/frame.js';
import type { AssetRecord, ScaleMethod } from '../assets/library/record.js';
import { readCatalog } from '../assets/library/catalog.js';

/** The default library: `./assets`, relative to the current directory. */
export const DEFAULT_LIBRARY = 'assets';

const options = z.object({
  box: str('oriented box: a selection file saved by the viewer, or cx,cy,cz,sx,sy,sz[,yawDeg] in the scene frame (z = up)', { placeholder: 'FILE|SPEC' }),
  masks: pathOpt('folder of object masks named like the images (white = object), any subset of the views', { placeholder: 'DIR' }),
  auto: bool('find the objects standing on the ground; alone it lists them (add --pick N or --all to extract)', { default: false }),
  pick: int('with --auto: extract the object of this rank', { min: 1, max: 1_000_000, placeholder: 'N' }),
  all: bool('with --auto: extract every object found', { default: false }),
  library: pathOpt('asset library folder (relative to the current directory)', { placeholder: 'DIR', default: './assets', volatile: true }),
  name: str('asset name', { placeholder: 'NAME', defaultText: 'the workspace folder name; with --auto, plus "-<rank>"' }),
  mesh: bool('mesh.glb, its LODs and collision.glb', { negate: 'only', default: true }),
  splatsGlb: bool('splats.glb (KHR_gaussian_splatting)', { negate: 'only', default: true }),
  clean: bool('drop floaters from the cut (faint, oversized and detached Gaussians)', { negate: 'only', default: true }),
  maskThreshold: num('with --masks: a Gaussian is the object when this share of its weight falls inside the masks', { min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, default: 0.5, placeholder: 'F' }),
  metric: bool('the scene is in metres though sparse/frame.json does not say so (cameras imported in metres)', { default: false }),
});

type Options = z.infer<typeof options>;

export interface ExtractCandidate {
  rank: number;
  /**
   * the extents `--pick` / `--all` writes to asset.json (`extentsM`): x (the upright box's side the
   * asset's +X follows), height (+Y), z — metres when metric, else scene units. Computed by the same
   * steps as the extraction (floaters cleaned, the same asset frame), so listing and asset agree.
   */
  extents: [number, number, number];
  /** centre of its upright box, scene frame */
  centre: [number, number, number];
  yawDeg: number;
  score: number;
  gaussians: number;
}

export interface ExtractedAsset {
  id: string;
  name: string;
  dir: string;
  gaussians: number;
  triangles: number;
  extentsM: [number, number, number];
  quality: AssetRecord['quality'];
  removed?: { faint: number; oversized: number; isolated: number };
}

export interface ExtractSummary {
  mode: 'box' | 'masks' | 'auto';
  /** --auto without --pick / --all: the candidates were listed, nothing was written */
  listed: boolean;
  units: 'm' | 'scene';
  scale: { kind: 'metric' | 'arbitrary'; method: ScaleMethod; factor: number };
  ground: { normal: Vec3; offset: number; threshold: number; inliers: number; method: string } | null;
  candidates: ExtractCandidate[];
  library: string;
  assets: ExtractedAsset[];
}

function modeOf(o: Options): 'box' | 'masks' | 'auto' {
  const given = [o.box !== undefined && '--box', o.masks !== undefined && '--masks', o.auto && '--auto'].filter(Boolean) as string[];
  const fix = 'pass one of --box FILE|SPEC, --masks DIR or --auto [--pick N | --all]';
  if (given.length === 0) throw new UserError('say what to extract', { fix });
  if (given.length > 1) throw new UserError(`${given.join(' and ')} do not go together`, { fix });
  if ((o.pick !== undefined || o.all) && !o.auto) throw new UserError(`--${o.all ? 'all' : 'pick'} goes with --auto`, { fix: 'r2s extract -w WS --auto [--pick N | --all]' });
  if (o.pick !== undefined && o.all) throw new UserError('--pick and --all do not go together', { fix: 'pass --pick N for one object or --all for every one' });
  return given[0]!.slice(2) as 'box' | 'masks' | 'auto';
}

/** The workspace's scene frame: up, scale and how it was known (user-frame.json overrides). */
export function sceneFrame(ws: Workspace, metric: boolean): { up: Vec3 | null; scale: 'metric' | 'arbitrary'; method: ScaleMethod; factor: number } {
  let scale: 'metric' | 'arbitrary' = 'arbitrary', method: ScaleMethod = 'none', factor = 1;
  const file = path.join(ws.sparseDir, 'frame.json');
  if (existsSync(file)) {
    try {
      const f = JSON.parse(readFileSync(file, 'utf8')) as { scale?: string; method?: string };
      if (f.scale === 'metric') {
        scale = 'metric';
        // the model was scaled to metres by sfm; 'none' on a metric frame = exact given cameras (synth)
        method = f.method === 'gps' || f.method === 'camera-height' ? f.method : 'given-cameras';
      }
    } catch {
      // unreadable: the scale stays arbitrary (readFrameUp drops the up the same way)
    }
  }
  if (metric && scale !== 'metric') { scale = 'metric'; method = 'given-cameras'; }
  let up = readFrameUp(ws.root);
  const user = readUserFrame(ws.userFramePath);
  if (user?.scale) { scale = 'metric'; method = 'user-measurement'; factor = user.scale.factor; }
  if (user?.up) up = user.up;
  return { up, scale, method, factor };
}

/** The cameras training ended with (scene/sparse-refined when it refined them), else sparse/. */
function modelDir(ws: Workspace): string {
  return existsSync(ws.sparseRefinedDir) ? ws.sparseRefinedDir : ws.sparseModelDir();
}

function namedCameras(model: SparseModel): { name: string; camera: RasterCamera }[] {
  const out: { name: string; camera: RasterCamera }[] = [];
  for (const im of [...model.images.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const cam = model.cameras.get(im.cameraId);
    if (cam) out.push({ name: im.name, camera: { width: cam.width, height: cam.height, ...pinholeOf(cam), R: quatToMat(im.qvec), t: im.tvec } });
  }
  return out;
}

/** Where the capture came from: the ingest input, the imported model, or the workspace. */
function captureOf(ws: Workspace): string {
  try {
    const p = JSON.parse(readFileSync(ws.priorsPath, 'utf8')) as { input?: { path?: string } };
    if (p.input?.path && !p.input.path.startsWith('synthetic')) return p.input.path;
  } catch {
    // no priors (import, synth)
  }
  const src = ws.readStage('import')?.options?.source;
  return typeof src === 'string' ? src : ws.root;
}

/** Licence / provenance text: SOURCE.md or LICENSE* in the capture's folder (or the one above). */
export function licenceOf(capture: string): { licence?: string; text?: string } {
  const start = existsSync(capture) && statSync(capture).isFile() ? path.dirname(capture) : capture;
  for (const dir of [start, path.dirname(start)]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const hit = names.find((n) => n === 'SOURCE.md') ?? names.find((n) => /^LICEN[CS]E/i.test(n));
    if (hit) {
      const text = readFileSync(path.join(dir, hit), 'utf8').trim();
      return { licence: path.join(dir, hit), text: text.length > 8000 ? text.slice(0, 8000) + ' …' : text };
    }
  }
  return {};
}

function rasterOptions(ws: Workspace): RasterOptions {
  const aa = ws.readTrainRecord()?.options?.antialiased;
  return { ...defaultRasterOptions, shDegree: 0, background: [0, 0, 0], antialiased: aa === true };
}

/** Use the ground plane as the asset's bottom when the cut stands on it (its lowest 0.5 % within 3 thresholds). */
function standsOn(params: GaussianParams, idx: ArrayLike<number>, g: GroundPlane): boolean {
  const h = Float64Array.from({ length: idx.length }, (_, k) => heightOf(g, params.means, idx[k]!)).sort();
  const low = h[Math.floor(0.005 * (h.length - 1))] ?? Infinity;
  return Math.abs(low) <= 3 * g.threshold;
}

/**
 * The plane a cut stands on, as the asset frame takes it (n·x + d = 0): the ground plane, but with
 * the scene's up as its normal when the scene has one (z-up GPS/ENU and y-up frames alike), through
 * the ground's point under the cut's centre. The ground's refit may tilt by a few degrees; the
 * asset's +Y is the scene's up all the same, so placed assets stand as the scene does.
 */
export function levelPlane(g: GroundPlane, up: Vec3 | null, xyz: ArrayLike<number>, idx: ArrayLike<number>): { normal: [number, number, number]; d: number } {
  const n = g.normal;
  if (!up) return { normal: [n[0], n[1], n[2]], d: g.offset };
  const l = Math.hypot(up[0], up[1], up[2]);
  const u: [number, number, number] = [up[0] / l, up[1] / l, up[2] / l];
  const nu = n[0] * u[0] + n[1] * u[1] + n[2] * u[2];
  if (!(nu > 0.5)) return { normal: [n[0], n[1], n[2]], d: g.offset };
  const c = [0, 0, 0];
  for (let k = 0; k < idx.length; k++) for (let a = 0; a < 3; a++) c[a]! += xyz[3 * idx[k]! + a]! / idx.length;
  // the ground point under c along u: n·(c − h·u) + offset = 0
  const h = (n[0] * c[0]! + n[1] * c[1]! + n[2] * c[2]! + g.offset) / nu;
  const p0 = [0, 1, 2].map((a) => c[a]! - h * u[a]!);
  return { normal: u, d: -(u[0] * p0[0]! + u[1] * p0[1]! + u[2] * p0[2]!) };
}

/**
 * asset.json's provenance without the maker's file system: the capture as a path relative to the
 * workspace (or its name when it is a URL-like or synthetic source), the licence file as a path
 * relative to the capture, and the licence file's hash.
 */
function portableProvenance(ws: Workspace, capture: string): { capture: string; licence?: string; licenceHash?: string; text?: string } {
  const lic = licenceOf(capture);
  const rel = path.isAbsolute(capture) ? path.relative(ws.root, capture).split(path.sep).join('/') || '.' : capture;
  const out: { capture: string; licence?: string; licenceHash?: string; text?: string } = { capture: rel };
  if (lic.licence) {
    const base = existsSync(capture) && statSync(capture).isFile() ? path.dirname(capture) : capture;
    out.licence = path.relative(base, lic.licence).split(path.sep).join('/');
    out.licenceHash = `sha256:${createHash('sha256').update(readFileSync(lic.licence)).digest('hex')}`;
  }
  if (lic.text) out.text = lic.text;
  return out;
}

/** x axis of an oriented box (its first rotation column), scene frame. */
function headingOf(rotation: readonly number[] | [number, number, number, number]): [number, number, number] {
  const R = quatToMat(rotation as [number, number, number, number]);
  return [R[0]!, R[3]!, R[6]!];
}

/** Mask IoU (threshold 0.5) of the cut's rendered alpha against each given mask. */
async function maskIoU(backend: RasterBackend, cut: GaussianParams, views: MaskView[], opts: RasterOptions): Promise<{ mean: number; min: number }> {
  const ious: number[] = [];
  for (const v of views) {
    const pass = await backend.render(cut, v.camera, opts);
    try {
      const a = pass.out.alpha;
      let i = 0, u = 0;
      for (let p = 0; p < a.length; p++) {
        const x = a[p]! > 0.5, y = v.mask[p]! > 0.5;
        if (x && y) i++;
        if (x || y) u++;
      }
      ious.push(u ? i / u : 1);
    } finally {
      pass.dispose();
    }
  }
  return { mean: ious.reduce((s, x) => s + x, 0) / Math.max(1, ious.length), min: Math.min(...ious) };
}

export const extractStage = defineStage({
  name: 'extract',
  summary: 'cut an object out of the trained scene into the asset library (--box, --masks or --auto)',
  reads: ['scene/', 'sparse/', 'images/', 'user-frame.json'],
  writes: [],
  after: ['train'],
  options,
  lock: 'none',
  recorded: (s: ExtractSummary) => !s.listed,
  plan(ws, o) {
    modeOf(o);
    if (!ws.hasTrainedScene()) throw new UserError(`${ws.root}: no trained scene (${ws.relative(ws.splatsPlyPath)})`, { file: ws.root, fix: `run \`r2s train -w ${ws.root}\` first` });
    if (o.masks !== undefined && !existsSync(o.masks)) throw new UserError(`${o.masks}: no such folder`, { file: o.masks, fix: 'pass --masks <folder of object masks named like the images>' });
    const inputs = ['scene/splats.ply', 'scene/sparse-refined', 'sparse', 'user-frame.json'].filter((p) => existsSync(ws.resolve(p)));
    const { library: _l, ...recorded } = o;
    // the outputs are in the library (outside the workspace), which may have changed since: always run
    return { inputs, options: { ...recorded, masks: o.masks ? path.resolve(o.masks) : undefined }, outputs: [], force: true };
  },
  async run(ws, o, ctx): Promise<ExtractSummary> {
    const mode = modeOf(o);
    const library = path.resolve(o.library);
    const listing = mode === 'auto' && o.pick === undefined && !o.all;
    // a library that cannot take the asset, or whose catalog is damaged, fails before any work
    if (!listing) {
      await ensureWritable(library);
      await readCatalog(library);
    }
    const { params, shDegree } = await readGaussianPly(ws.splatsPlyPath);
    const frame = sceneFrame(ws, o.metric);
    const factor = frame.scale === 'metric' ? frame.factor : 1;
    const units = frame.scale === 'metric' ? 'm' : 'scene';
    const model = await readColmapModel(modelDir(ws));
    const cams = namedCameras(model);

    // ground: from the scene's up when known, else RANSAC oriented towards the cameras
    const centres = gaussianCentres(params);
    const towards = cams.flatMap(({ camera: c }) => {
      const R = c.R, t = c.t; // centre = −Rᵀt
      return [0, 1, 2].map((a) => -(R[a]! * t[0]! + R[3 + a]! * t[1]! + R[6 + a]! * t[2]!));
    });
    let ground: GroundPlane | null = null;
    try {
      ground = groundPlane(centres.xyz, { up: frame.up, towards });
      // inliers index the opaque centres; heights are what the selection needs
    } catch (e) {
      if (mode === 'auto') throw e;
    }
    const up: Vec3 = frame.up ?? ground?.normal ?? [0, 0, 1];
    const summary: ExtractSummary = {
      mode, listed: false, units, scale: { kind: frame.scale, method: frame.scale === 'metric' ? frame.method : 'none', factor },
      ground: ground ? { normal: ground.normal, offset: ground.offset, threshold: ground.threshold, inliers: ground.inliers.length, method: ground.method } : null,
      candidates: [], library, assets: [],
    };
    const raster = rasterOptions(ws);

    // --- what to cut -------------------------------------------------------------------------
    interface Cut { indices: Int32Array; name: string; heading?: [number, number, number]; onGround: boolean; views?: MaskView[]; cleaned?: Cleaned }
    type Cleaned = { indices: Int32Array; removed: { faint: number; oversized: number; isolated: number } };
    const clean = (idx: Int32Array): Cleaned => (o.clean ? cleanCut(params, idx) : { indices: idx, removed: { faint: 0, oversized: 0, isolated: 0 } });
    const base = o.name ?? path.basename(ws.root);
    const cuts: Cut[] = [];
    if (mode === 'auto') {
      const objs: AutoObject[] = findObjectsAuto(params, ground!);
      // the listing goes through the extraction's own steps (clean, stand plane, asset frame): its
      // extents are the ones asset.json will hold
      const prepared = objs.map((x) => ({ x, cleaned: clean(x.indices), heading: headingOf(x.box.rotation) }));
      summary.candidates = prepared.map(({ x, cleaned, heading }) => {
        const plane = levelPlane(ground!, frame.up, params.means, cleaned.indices.length ? cleaned.indices : x.indices);
        const extents: [number, number, number] = cleaned.indices.length ? assetFrame(params, cleaned.indices, plane.normal, factor, plane, undefined, heading).extents : [0, 0, 0];
        return { rank: x.rank, extents, centre: [...x.box.center] as [number, number, number], yawDeg: x.box.yawDeg, score: x.score, gaussians: cleaned.indices.length };
      });
      if (listing) { summary.listed = true; return summary; }
      if (objs.length === 0) throw new UserError(`${ws.root}: --auto found no object standing on the ground`, { file: ws.root, fix: 'select the object with --box (draw it in r2s view) or --masks' });
      const chosen = o.all ? objs : objs.filter((x) => x.rank === o.pick);
      if (chosen.length === 0) throw new UserError(`--pick ${o.pick}: --auto found ${objs.length} object(s)`, { fix: `pick a rank in 1..${objs.length} (run \`r2s extract -w ${ws.root} --auto\` to list them)` });
      for (const p of prepared.filter(({ x }) => chosen.includes(x))) cuts.push({ indices: p.x.indices, name: `${base}-${p.x.rank}`, heading: p.heading, onGround: true, cleaned: p.cleaned });
    } else if (mode === 'box') {
      const sel = resolveBoxArg(o.box!, up);
      const indices = selectByBox(params, sel.box, { origin: sel.origin });
      cuts.push({ indices, name: base, heading: headingOf(sel.box.rotation), onGround: false });
    } else {
      const masks = await readObjectMasks(o.masks!, cams.map((c) => ({ name: c.name, width: c.camera.width, height: c.camera.height })), { resize: true });
      const views: MaskView[] = cams.filter((c) => masks.has(c.name)).map((c) => ({ name: c.name, camera: c.camera, mask: masks.get(c.name)! }));
      ctx.log.info(`extract: lifting the masks of ${views.length} of ${cams.length} views to ${params.count} Gaussians`);
      const gpu = await maskWeightsGpu();
      let lift;
      try {
        lift = await liftMasks(params, views, { raster, threshold: o.maskThreshold, gpu: gpu ?? undefined });
      } finally {
        gpu?.destroy();
      }
      if (lift.indices.length === 0) {
        throw new UserError(`${o.masks}: no Gaussian falls mostly inside the masks (${views.length} masked view(s))`, { file: o.masks, fix: 'check the masks are white on the object and belong to this workspace\'s images' });
      }
      cuts.push({ indices: lift.indices, name: base, onGround: false, views });
    }

    // --- clean, frame, quality, write ---------------------------------------------------------
    const backend = await createBackend('auto');
    const contentHash = `sha256:${await hashFile(ws.splatsPlyPath)}`;
    const capture = captureOf(ws);
    const provenance = portableProvenance(ws, capture);
    for (const c of cuts) {
      const cleaned = c.cleaned ?? clean(c.indices);
      if (cleaned.indices.length === 0) throw new UserError(`the cut of ${c.name} is empty after removing floaters`, { fix: 'pass --no-clean, or widen the selection' });
      const heading = c.heading ?? headingOf(uprightBox(params.means, cleaned.indices, up, ground ?? { offset: 0 }).rotation);
      const onGround = ground !== null && (c.onGround || standsOn(params, cleaned.indices, ground));
      const plane = onGround ? levelPlane(ground!, frame.up, params.means, cleaned.indices) : undefined;
      const quality: AssetRecord['quality'] = {};
      if (c.views) {
        const iou = await maskIoU(backend, gatherGaussians(params, cleaned.indices), c.views, raster);
        quality.maskIoU = round(iou.mean, 4);
        quality.maskIoUMin = round(iou.min, 4);
        quality.maskedViews = c.views.length;
      }
      const res = await extractAsset({
        params, shDegree, indices: cleaned.indices, model,
        frame: { up: (plane ? plane.normal : up) as [number, number, number], scale: frame.scale, method: frame.method, factor },
        ground: plane,
        heading,
        library, name: o.name && cuts.length === 1 ? o.name : c.name,
        source: { capture: provenance.capture!, contentHash },
        provenance, quality,
        options: { mesh: o.mesh, splatsGlb: o.splatsGlb, backend },
      });
      summary.assets.push({
        id: res.record.id, name: res.record.name, dir: res.dir, gaussians: res.record.counts.gaussians, triangles: res.record.counts.triangles,
        extentsM: res.record.extentsM, quality, removed: cleaned.removed,
      });
    }
    return summary;
  },
});

/** GPU per-Gaussian mask weights when the GPU rasterizer is in use (R2S_RASTER=reference: the CPU reference). */
async function maskWeightsGpu() {
  if (process.env.R2S_RASTER === 'reference') return null;
  const { getDevice } = await import('../gpu/device.js');
  const ctx = await getDevice();
  if (!ctx) return null;
  const { GpuMaskWeights } = await import('../gpu/assets/mask-weights.js');
  return GpuMaskWeights.create(ctx);
}

function round(x: number, d: number): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}
