/**
 * What the viewer page fetches from `r2s view`'s server. Shared by the server (Node) and the page
 * (viewer/, bundled by Vite), so both sides agree on one shape.
 */

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
}

/** One capture camera, with COLMAP pose and pinhole intrinsics. */
export interface ViewerCamera {
  id: number;
  name: string;
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
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
}

/** GET /api/catalog.json */
export interface ViewerCatalog {
  assets: ViewerAsset[];
}

/** The arrangement file the page saves and loads (asset placements in world coordinates). */
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
