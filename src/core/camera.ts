/**
 * Camera intrinsics as every layer sees them: COLMAP camera models with their parameter order, the
 * camera record, and the pinhole view of any model. Conventions (as COLMAP): camera axes x right,
 * y down, z forward; pixel centres at +0.5.
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

/** Pinhole intrinsics of an image of known size (distortion ignored or already removed). */
export interface Pinhole {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/** Pinhole intrinsics of any model (distortion ignored): fx, fy, cx, cy. */
export function pinholeOf(cam: Camera): Omit<Pinhole, 'width' | 'height'> {
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
