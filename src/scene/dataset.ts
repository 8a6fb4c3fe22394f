/**
 * What training needs from a workspace: per image its camera (pinhole, resized to --max-size), its
 * pixels as floats, whether it is held out (every 8th image, the 3DGS protocol), plus the SfM points
 * and the scene extent (radius of the camera centres, × 1.1, as 3DGS).
 * Lenses: a camera with distortion (SIMPLE_RADIAL, RADIAL, OPENCV, OPENCV_FISHEYE, FULL_OPENCV with
 * non-zero terms) has its photos undistorted at load to the pinhole of geometry/undistort.ts (same
 * focal length, crop of valid pixels only, long side at most the loaded size); the map is computed
 * once per camera and size. Training and evaluation both load through here, so they see the same
 * images; the view's intrinsics are that pinhole's.
 */
import type { InitPoints } from './gaussians.js';
import { cameraCenter, quatToMat } from '../geometry/rotation.js';
import { pinholeOf, type Camera, type Pinhole } from '../core/camera.js';
import { type SparseModel } from '../core/sparse-model.js';
import { hasDistortion, lensAt, remapImage, undistortion, type Undistortion } from '../geometry/undistort.js';
import { info } from '../util/log.js';
import { UserError } from '../util/errors.js';

export interface TrainView extends Pinhole {
  index: number;
  name: string;
  imageId: number;
  cameraId: number;
  /** index into TrainData.cameraIds */
  camIdx: number;
  R: number[];
  t: number[];
  /** H×W×3 in [0, 1] */
  target: Float32Array;
  holdout: boolean;
}

export interface TrainData {
  views: TrainView[];
  cameraIds: number[];
  points: InitPoints | null;
  extent: number;
  center: [number, number, number];
}

export const HOLDOUT_EVERY = 8;

/** 3DGS protocol: images sorted by name, index % 8 == 0 held out. */
export function isHoldout(indexInSortedOrder: number, every = HOLDOUT_EVERY): boolean {
  return every > 0 && indexInSortedOrder % every === 0;
}

export function sceneExtent(views: { R: number[]; t: number[] }[]): { extent: number; center: [number, number, number] } {
  const cs = views.map((v) => cameraCenter(v.R, v.t));
  const center: [number, number, number] = [0, 1, 2].map((a) => cs.reduce((s, c) => s + c[a]!, 0) / Math.max(1, cs.length)) as [number, number, number];
  const r = Math.max(1e-6, ...cs.map((c) => Math.hypot(c[0] - center[0], c[1] - center[1], c[2] - center[2])));
  return { extent: r * 1.1, center };
}

export interface LoadedImage {
  width: number;
  height: number;
  data: Float32Array;
}

export interface BuildOptions {
  /**
   * undistort photos of cameras with lens distortion (default true); false trains the pinhole
   * part against the distorted photos (what was done before lenses were honoured — kept for
   * comparisons only)
   */
  undistort?: boolean;
}

/** A view's pinhole and pixels: undistorted when its camera has distortion (map cached per camera and size). */
function viewPixels(cam: Camera, px: LoadedImage, cache: Map<string, Undistortion>, undistort: boolean): Pinhole & { target: Float32Array } {
  if (!undistort || !hasDistortion(cam)) {
    const sx = px.width / cam.width, sy = px.height / cam.height;
    const p = pinholeOf(cam);
    return { width: px.width, height: px.height, fx: p.fx * sx, fy: p.fy * sy, cx: p.cx * sx, cy: p.cy * sy, target: px.data };
  }
  const key = `${cam.id} ${px.width}x${px.height}`;
  let u = cache.get(key);
  if (!u) {
    try {
      u = undistortion(lensAt(cam, px.width, px.height), { maxSide: Math.max(px.width, px.height) });
    } catch (e) {
      throw new UserError(`camera ${cam.id}: ${(e as Error).message}`, { fix: 'check the camera model and distortion parameters in sparse/cameras (re-run sfm or import)' });
    }
    cache.set(key, u);
    const ph = u.pinhole;
    info(`camera ${cam.id} (${cam.model}): photos undistorted to a ${ph.width}×${ph.height} pinhole (from ${px.width}×${px.height}, fx ${ph.fx.toFixed(1)})`);
  }
  const ph = u.pinhole;
  return { ...ph, target: remapImage(px.data, px.width, px.height, 3, u.map, ph.width, ph.height) };
}

/**
 * Build TrainData from a sparse model and a function giving each image's pixels at a size.
 * Intrinsics are scaled to the loaded size; photos of distorted cameras are undistorted.
 */
export async function buildTrainData(model: SparseModel, load: (name: string, cam: { width: number; height: number }) => Promise<LoadedImage>, o: BuildOptions = {}): Promise<TrainData> {
  const images = [...model.images.values()].sort((a, b) => a.name.localeCompare(b.name));
  const cameraIds = [...new Set(images.map((i) => i.cameraId))].sort((a, b) => a - b);
  const views: TrainView[] = [];
  const maps = new Map<string, Undistortion>();
  for (let k = 0; k < images.length; k++) {
    const im = images[k]!;
    const cam = model.cameras.get(im.cameraId);
    if (!cam) throw new Error(`image ${im.name} refers to missing camera ${im.cameraId}`);
    const px = await load(im.name, cam);
    const v = viewPixels(cam, px, maps, o.undistort ?? true);
    views.push({
      index: k,
      name: im.name,
      imageId: im.id,
      cameraId: im.cameraId,
      camIdx: cameraIds.indexOf(im.cameraId),
      width: v.width,
      height: v.height,
      fx: v.fx,
      fy: v.fy,
      cx: v.cx,
      cy: v.cy,
      R: quatToMat(im.qvec),
      t: [...im.tvec],
      target: v.target,
      holdout: isHoldout(k),
    });
  }
  let points: InitPoints | null = null;
  if (model.points3D.size > 0) {
    const pts = [...model.points3D.values()];
    points = { xyz: new Float32Array(pts.length * 3), rgb: new Float32Array(pts.length * 3) };
    pts.forEach((p, i) => {
      for (let a = 0; a < 3; a++) {
        (points!.xyz as Float32Array)[i * 3 + a] = p.xyz[a]!;
        (points!.rgb as Float32Array)[i * 3 + a] = p.rgb[a]! / 255;
      }
    });
  }
  return { views, cameraIds, points, ...sceneExtent(views) };
}
