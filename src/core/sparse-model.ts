/**
 * In-memory COLMAP sparse model, shared by every stage (sfm writes it, import reads it, train and
 * the viewer consume it). Conventions as COLMAP: world-to-camera rotation as a unit quaternion
 * (w, x, y, z) and translation, x_cam = R·X_world + t.
 */
import type { Camera } from './camera.js';

export interface Image {
  id: number;
  cameraId: number;
  name: string;
  /** world-to-camera rotation, unit quaternion (w, x, y, z) */
  qvec: [number, number, number, number];
  /** world-to-camera translation */
  tvec: [number, number, number];
  /** 2D observations, interleaved x, y (pixels) */
  xys: Float64Array;
  /** point3D id per observation, -1 when none */
  point3DIds: number[];
}

export interface TrackElement {
  imageId: number;
  point2DIdx: number;
}

export interface Point3D {
  id: number;
  xyz: [number, number, number];
  rgb: [number, number, number];
  error: number;
  track: TrackElement[];
}

export interface SparseModel {
  cameras: Map<number, Camera>;
  images: Map<number, Image>;
  points3D: Map<number, Point3D>;
}

export function emptyModel(): SparseModel {
  return { cameras: new Map(), images: new Map(), points3D: new Map() };
}

