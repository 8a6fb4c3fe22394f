/** asset.json: everything a simulator or a person needs to know about one asset. */
export type ScaleMethod = 'gps' | 'camera-height' | 'given-cameras' | 'user-measurement' | 'none';

export interface AssetRecord {
  kind: 'r2s.asset';
  version: 1;
  id: string;
  name: string;
  source: { capture: string; contentHash: string };
  scale: { kind: 'metric' | 'arbitrary'; method: ScaleMethod; /** metres per scene unit (1 when arbitrary) */ factor: number };
  units: 'm' | 'scene';
  upAxis: '+Y';
  /** bottom centre of the asset on the ground, in the asset frame (always the origin) */
  pivot: [number, number, number];
  /** size along x, y, z in the asset frame (metres when metric), from the Gaussian centres */
  extentsM: [number, number, number];
  /** the mesh's bounding-box size, for comparison */
  meshExtents: [number, number, number] | null;
  /** x_asset = s·R·x_scene + t; R row-major; also as a 4×4 column-major matrix (glTF order) */
  sceneToAsset: { R: number[]; s: number; t: [number, number, number]; matrix: number[] };
  counts: { gaussians: number; triangles: number; lodTriangles: number[]; collisionParts: number };
  shDegree: number;
  files: {
    splats: string; splatsSpz: string; splatsGlb: string | null; mesh: string | null; lods: string[]; collision: string | null; thumbnail: string | null;
    /** OpenUSD layer (mesh, colliders, splats) and its .usdz package; the mesh's base-colour PNG the layer references */
    usd?: string | null; usdz?: string | null; texture?: string | null;
  };
  quality: { maskIoU?: number; psnr?: number; [k: string]: number | undefined };
  provenance: { licence?: string; text?: string; [k: string]: string | undefined };
  createdAt: string;
  timings: Record<string, number>;
}
