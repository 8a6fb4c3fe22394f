/** What the incremental mapper (mapper.ts) takes: its input and options, and what it returns. */
import type { Camera } from '../core/camera.js';
import type { SparseModel } from '../core/sparse-model.js';
import { defaultParallaxOptions, type CaptureParallax, type ParallaxOptions } from './low-parallax.js';
import { defaultSelfCalOptions, type IntrinsicsReport, type SelfCalOptions } from './selfcal.js';
import type { FeatureSet, ImagePair, TwoViewGeometry } from './types.js';

export interface CameraRefine {
  focal: boolean;
  principalPoint: boolean;
  distortion: boolean;
}

export interface MapperInput {
  feats: FeatureSet[];
  cameras: Camera[];
  /** camera index of each image */
  imageCamera: number[];
  /** what self-calibration may refine, per camera */
  refine: CameraRefine[];
  /** focals known or measured (EXIF), not guessed: a flat scene without parallax can still be posed (default: none is refined) */
  trustedFocal?: boolean;
  pairs: ImagePair[];
  geoms: TwoViewGeometry[];
}

export interface MapperOptions {
  /** reprojection threshold (px) for PnP, triangulation and filtering */
  maxError: number;
  minTriAngleDeg: number;
  minPnPInliers: number;
  /**
   * PnP RANSAC threshold as a multiple of maxError. Wider than the triangulation threshold (COLMAP
   * uses 12 px): a new image is posed against points that may still carry the error of a short
   * baseline and of not yet refined intrinsics; the local BA and the filter tighten it afterwards.
   */
  pnpErrorFactor: number;
  /**
   * Reprojection threshold of the final filters and adjustments (before the self-calibration and
   * after it), as a multiple of maxError. maxError (4 px at ≤ 1600 px) has to admit observations of
   * a model still growing; at the final poses good keypoints reproject to 0.25–0.7 px, and the
   * 1–4 px ones left bend the poses. Mean rotation error on cached databases, factor 1 → 0.25:
   * templeRing 0.259° → 0.213°, moldGoldCape 0.346° → 0.321°, fountain-P11 0.031° → 0.029°
   * (self-calibrated 0.051° → 0.037°), Herz-Jesu-P8 0.0535° → 0.048°, kitti_odom06 0.132 → 0.130 %
   * of the path. 0.375 and 0.5 gain less everywhere; 0.18 loses on fountain and Herz-Jesu (0.058°);
   * a trivial loss instead of the 1 px Cauchy loses on Herz-Jesu.
   */
  finalErrorFactor: number;
  /**
   * BA weight 1/σ² per observation, σ ∝ keypoint size^exponent (0: unweighted), the σ ratio to the
   * median observation's clamped to maxRatio. Mean rotation error (mapper on cached databases),
   * exponent 0 → 0.3 → 0.5: templeRing 0.211° → 0.196° → 0.189°, Herz-Jesu-P8 0.046° → 0.045° → 0.045°,
   * fountain-P11 0.0287° → 0.0298° → 0.0304°, moldGoldCape 0.150° → 0.151° → 0.157°, kitti_odom06 0.152°.
   */
  keypointScaleWeight: { exponent: number; maxRatio: number };
  /**
   * Complete and merge tracks (map-tracks.ts; default on): after each new image's local adjustment for the
   * points it sees, and over the whole model before each global and the final adjustment. Mean
   * rotation error (mapper on cached databases), off → on: moldGoldCape 0.1248° → 0.1215°, with
   * shuffled names 0.148° → 0.127° (IMG_5917 2.2° → 0.26°), templeRing 0.196° → 0.189°,
   * Herz-Jesu-P8 0.0453° → 0.0445°, fountain-P11 0.0298° → 0.0304°, kitti_odom06 0.1517° → 0.1522°;
   * 1–1.7 s of mapping on the larger ones (kitti_odom06 mapping ~16 → ~19 s with the adjustments).
   */
  completeTracks: boolean;
  /** images in a local bundle adjustment besides the new one */
  localBAImages: number;
  /** when the principal point and distortion may be refined (self-calibration) */
  selfCal: SelfCalOptions;
  /** depth evidence and the lowered minimum angle of low-parallax captures */
  parallax: ParallaxOptions;
  seed: number;
  silent?: boolean;
}

// minTriAngleDeg 1° (OpenSfM's default; COLMAP uses 1.5°): a walk or drive looking forward gives
// consecutive pairs median angles of only 0.5–2°, and at 1.5° too few points survive at the front of
// the model for the next image's PnP. samples/lund (800 px): 15/29 registered at 1.5° and 1× PnP
// threshold, 24/29 at 1°, 21/29 with a 2× PnP threshold alone, 29/29 with both; fountain-P11 unchanged
export const defaultMapperOptions: MapperOptions = { maxError: 4, minTriAngleDeg: 1, minPnPInliers: 20, pnpErrorFactor: 2, finalErrorFactor: 0.25, keypointScaleWeight: { exponent: 0.3, maxRatio: 4 }, completeTracks: true, localBAImages: 8, selfCal: defaultSelfCalOptions, parallax: defaultParallaxOptions, seed: 1 };

export interface MapperResult {
  model: SparseModel;
  registered: number[];
  failed: Array<{ name: string; reason: string }>;
  stats: { registered: number; total: number; points: number; meanTrackLength: number; meanReprojError: number; initialPair: [string, string] | null; groups: number[]; minTriAngleDeg: number; parallax: CaptureParallax };
  /** per self-calibrated camera: what was refined and how well constrained it is */
  intrinsics: IntrinsicsReport[];
}
