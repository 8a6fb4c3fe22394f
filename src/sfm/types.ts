/** Data passed between the SfM stages. */

/** Keypoints and binary descriptors of one image (full-resolution pixels, centres at +0.5). */
export interface FeatureSet {
  name: string;
  /** hash of the image bytes and the extraction options */
  key: string;
  width: number;
  height: number;
  n: number;
  /** x, y, size, angle per keypoint */
  kp: Float32Array;
  /** `words` Uint32 per descriptor, zero-padded */
  desc: Uint32Array;
  words: number;
  /** colour under each keypoint */
  rgb: Uint8Array;
}

export type TwoViewConfig = 'calibrated' | 'uncalibrated' | 'planar' | 'panoramic' | 'degenerate';

/** Verified geometry of one image pair. */
export interface TwoViewGeometry {
  config: TwoViewConfig;
  /** inlier matches, interleaved (index in image 1, index in image 2) */
  inliers: Uint32Array;
  numMatches: number;
  /** essential / fundamental / homography (row-major 3×3) where estimated */
  E?: number[];
  F?: number[];
  H?: number[];
  /** relative pose of image 2 from image 1 (x2 = R x1 + t, |t| = 1) for calibrated pairs */
  R?: number[];
  t?: number[];
  /** median triangulation angle (degrees) of the inliers, calibrated pairs */
  triAngleDeg?: number;
  /**
   * homography residual over epipolar residual (p90, px) on the inliers, calibrated pairs: ~1 for a
   * pure rotation or copies of one photo (no depth to reconstruct), > 2 once there is parallax
   */
  parallaxRatio?: number;
}

/** An image pair by index into the image list (i < j). */
export interface ImagePair {
  i: number;
  j: number;
  /**
   * neighbours in capture order (within the sequential window of a temporal sequence): overlap is
   * expected, so matching spends no overlap pre-check on them
   */
  adjacent?: boolean;
}
