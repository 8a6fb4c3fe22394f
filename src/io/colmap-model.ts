/**
 * In-memory COLMAP sparse model, shared by every stage (sfm writes it, import reads it, train and
 * the viewer consume it). Conventions as COLMAP: world-to-camera rotation as a unit quaternion
 * (w, x, y, z) and translation, x_cam = R·X_world + t; camera axes x right, y down, z forward;
 * pixel centres at +0.5 (COLMAP's convention too).
 */

/** COLMAP camera model names, with their parameter order. */
export const CAMERA_MODELS = {
  SIMPLE_PINHOLE: { id: 0, params: ['f', 'cx', 'cy'] },
  PINHOLE: { id: 1, params: ['fx', 'fy', 'cx', 'cy'] },
  SIMPLE_RADIAL: { id: 2, params: ['f', 'cx', 'cy', 'k'] },
  RADIAL: { id: 3, params: ['f', 'cx', 'cy', 'k1', 'k2'] },
  OPENCV: { id: 4, params: ['fx', 'fy', 'cx', 'cy', 'k1', 'k2', 'p1', 'p2'] },
  OPENCV_FISHEYE: { id: 5, params: ['fx', 'fy', 'cx', 'cy', 'k1', 'k2', 'k3', 'k4'] },
  FULL_OPENCV: { id: 6, params: ['fx', 'fy', 'cx', 'cy', 'k1', 'k2', 'p1', 'p2', 'k3', 'k4', 'k5', 'k6'] },
} as const;

export type CameraModelName = keyof typeof CAMERA_MODELS;

export interface Camera {
  id: number;
  model: CameraModelName;
  width: number;
  height: number;
  params: number[];
}

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

/** Pinhole intrinsics of any model (distortion ignored): fx, fy, cx, cy. */
export function pinholeOf(cam: Camera): { fx: number; fy: number; cx: number; cy: number } {
  const p = cam.params;
  switch (cam.model) {
    case 'SIMPLE_PINHOLE':
    case 'SIMPLE_RADIAL':
    case 'RADIAL':
      return { fx: p[0]!, fy: p[0]!, cx: p[1]!, cy: p[2]! };
    default:
      return { fx: p[0]!, fy: p[1]!, cx: p[2]!, cy: p[3]! };
  }
}
