/**
 * What the viewer page fetches from `r2s view`'s server. Shared by the server (Node) and the page
 * (viewer/, bundled by Vite), so both sides agree on one shape.
 */
import type { Pinhole } from '../core/camera.js';

export type SplatFormat = 'ply' | 'spz' | 'splat';

/** GET /api/manifest.json: what this server has to show. */
export interface ViewerManifest {
  title: string;
  kind: 'workspace' | 'file' | 'asset' | 'library';
  /** main splat scene, or null when there is none yet (e.g. a workspace before training) */
  splats: { url: string; name: string; format: SplatFormat; bytes: number } | null;
  /** GET /api/cameras.json is available */
  cameras: boolean;
  /** GET /api/points.json is available */
  points: boolean;
  /** GET /api/catalog.json is available */
  catalog: boolean;
  /** scene up direction in world coordinates (the viewer rotates it to +y) */
  up: [number, number, number];
  /** problems found while preparing (e.g. an unreadable sparse model), shown in the page */
  warnings: string[];
  /**
   * The reconstruction's frame (sparse/frame.json from sfm): metric when GPS (ENU, up = +z) or a
   * camera height set the scale; null when unknown.
   */
  frame: ViewerFrame | null;
  /** `<workspace>/user-frame.json` (scale / up / origin set in the viewer), when present and valid */
  userFrame: ViewerUserFrame | null;
  /** absolute path of the workspace (to print commands such as `r2s extract -w <ws>`), or null */
  workspacePath: string | null;
  /** an asset folder's mesh and collider (GLB) and asset.json, when present */
  assetFiles: { mesh: string | null; collision: string | null; info: string | null } | null;
}

export interface ViewerFrame {
  scale: 'metric' | 'arbitrary';
  method: 'gps' | 'camera-height' | 'none';
  /** unit up in the scene frame */
  up: [number, number, number];
  /** camera height above the ground (scene units = metres) for method camera-height */
  cameraHeight?: number;
}

/** user-frame.json as sent to the page (see src/io/user-frame.ts) */
export interface ViewerUserFrame {
  kind: 'r2s.user-frame';
  version: 1;
  scale?: { factor: number; from: 'measured'; distance: number; points: [[number, number, number], [number, number, number]] };
  up?: [number, number, number];
  origin?: [number, number, number];
}

/** One capture camera, with COLMAP pose and pinhole intrinsics. */
export interface ViewerCamera extends Pinhole {
  id: number;
  name: string;
  /** world-to-camera rotation, quaternion (w, x, y, z) */
  qvec: [number, number, number, number];
  /** world-to-camera translation */
  tvec: [number, number, number];
  /** URL of the photo when the workspace has it */
  photo: string | null;
}

/** GET /api/cameras.json: capture cameras in capture order (by image name). */
export interface ViewerCameras {
  cameras: ViewerCamera[];
}

/** GET /api/points.json: the sparse point cloud, flattened. */
export interface ViewerPoints {
  count: number;
  /** count×3 positions */
  xyz: number[];
  /** count×3 colours, 0..255 */
  rgb: number[];
}

/** One placeable asset from assets/catalog.json. */
export interface ViewerAsset {
  id: string;
  name: string;
  url: string;
  format: SplatFormat;
  /** from an r2s.catalog entry, when given */
  meshUrl?: string;
  collisionUrl?: string;
  thumbnailUrl?: string;
  extentsM?: [number, number, number];
  scale?: 'metric' | 'arbitrary';
  gaussians?: number;
}

/** GET /api/catalog.json */
export interface ViewerCatalog {
  assets: ViewerAsset[];
}

/** The arrangement file the page saves and loads (asset placements in world coordinates). */
/**
 * The box selection the viewer saves for `r2s extract --box FILE`. Scene (COLMAP world) frame;
 * `rotation` (w, x, y, z) maps box-local axes to scene axes, local y is the box's height axis;
 * `size` is the full edge length along local x, y, z; `splats` how many were inside when saved.
 */
export interface BoxSelection {
  kind: 'r2s.box-selection';
  version: 1;
  center: [number, number, number];
  size: [number, number, number];
  rotation: [number, number, number, number];
  up: [number, number, number];
  splats: number;
  source: string;
}

export interface Arrangement {
  version: 1;
  items: Array<{
    assetId: string;
    position: [number, number, number];
    /** three.js quaternion (x, y, z, w) */
    quaternion: [number, number, number, number];
    scale: [number, number, number];
  }>;
}

export function splatFormatOf(name: string): SplatFormat | null {
  const m = /\.(ply|spz|splat)$/i.exec(name);
  return m ? (m[1]!.toLowerCase() as SplatFormat) : null;
}
