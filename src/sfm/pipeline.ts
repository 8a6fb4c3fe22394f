/**
 * Structure from motion: features → matching → verification → incremental mapping → scale/frame,
 * over an SfM database (each step cached there), writing the COLMAP model (text + binary, swapped
 * in atomically) with frame.json. A library function on paths; the `sfm` stage (src/stages/sfm.ts)
 * maps a workspace onto them.
 */
import path from 'node:path';
import type { Camera } from '../core/camera.js';
import type { Priors } from '../ingest/priors.js';
import { writeColmapModel } from '../io/colmap.js';
import { replaceDirAtomic, writeFileAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/log.js';
import { SfmDatabase } from './database.js';
import { extractFeatures, defaultFeatureOptions } from './features.js';
import { matchPairs, defaultMatchOptions } from './matching.js';
import { selectPairs, type MatcherKind } from './pairs.js';
import { verifyPairs } from './verify.js';
import { IncrementalMapper, defaultMapperOptions, type CameraRefine } from './mapper.js';
import { cameraFromIntrinsics, parseIntrinsics } from './intrinsics.js';
import { alignToGps, cameraUp, scaleByCameraHeight, type FrameInfo } from './frame.js';
import type { IntrinsicsReport } from './selfcal.js';
import { sfmWarnings } from './trust.js';

/** Where sfm reads and writes. */
export interface SfmPaths {
  /** the images priors.json names */
  imagesDir: string;
  /** the SfM database (features, matches, verified geometry), reused across runs */
  database: string;
  /** the COLMAP model folder written (replaced atomically) */
  sparseDir: string;
}

export interface SfmOptions {
  cameraHeight?: number;
  intrinsicsFile?: string;
  matcher: MatcherKind;
  features: 'akaze' | 'orb';
  maxImageSize: number;
  maxFeatures: number;
  seed: number;
  silent?: boolean;
  /** worker threads for features and matching */
  workers?: number;
}

// 5000 keypoints: fountain-P11 is as accurate as with 8000 (0.030° vs 0.033°) and matching, which
// grows with the square of the count, is 2.5× cheaper
export const defaultSfmOptions: SfmOptions = { matcher: 'auto', features: 'akaze', maxImageSize: 1600, maxFeatures: 5000, seed: 1 };

export interface SfmSummary {
  registered: number;
  total: number;
  points: number;
  meanTrackLength: number;
  meanReprojError: number;
  matcher: string;
  pairs: number;
  verifiedPairs: number;
  initialPair: [string, string] | null;
  /** sizes of the connected groups of images in the verified-pair graph, largest first */
  groups: number[];
  failed: Array<{ name: string; reason: string }>;
  cameras: Array<{ id: number; model: string; params: number[] }>;
  /** self-calibrated cameras: which intrinsics were refined, their standard deviations, why others were kept */
  intrinsics: IntrinsicsReport[];
  /** verified pairs a homography explains (planar / panoramic): most of them means little parallax */
  homographicPairs: number;
  /** minimum triangulation angle used (degrees): lowered below 1° for low-parallax captures */
  minTriAngleDeg: number;
  /** one line each: the model registered but may be wrong (printed by the CLI) */
  warnings: string[];
  frame: FrameInfo;
  seconds: Record<string, number>;
}

export async function runSfm(paths: SfmPaths, priors: Priors, opts: SfmOptions): Promise<SfmSummary> {
  const seconds: Record<string, number> = {};
  let t0 = Date.now();
  const lap = (name: string) => { const t = Date.now(); seconds[name] = (t - t0) / 1000; t0 = t; };
  const known = opts.intrinsicsFile ? parseIntrinsics(opts.intrinsicsFile) : null;

  // one camera per cameraKey (same body + lens + size share intrinsics)
  const cameras: Camera[] = [];
  const refine: CameraRefine[] = [];
  const calibratedCam: boolean[] = [];
  const camOfKey = new Map<string, number>();
  const imageCamera: number[] = [];
  for (const im of priors.images) {
    let c = camOfKey.get(im.cameraKey);
    if (c === undefined) {
      c = cameras.length;
      camOfKey.set(im.cameraKey, c);
      if (known) {
        cameras.push(cameraFromIntrinsics(c + 1, im.width, im.height, known));
        refine.push({ focal: false, principalPoint: false, distortion: false });
        calibratedCam.push(true);
      } else {
        cameras.push({ id: c + 1, model: 'SIMPLE_RADIAL', width: im.width, height: im.height, params: [im.focalPx, im.width / 2, im.height / 2, 0] });
        refine.push({ focal: true, principalPoint: true, distortion: true });
        // a guessed focal still gives usable essential matrices; self-calibration fixes it later
        calibratedCam.push(true);
      }
    }
    imageCamera.push(c);
  }

  const db = new SfmDatabase(paths.database);
  try {
    const images = priors.images.map((im) => ({ name: im.name, path: path.join(paths.imagesDir, im.name) }));
    const feats = await extractFeatures(db, images, {
      ...defaultFeatureOptions, type: opts.features, maxImageSize: opts.maxImageSize, maxFeatures: opts.maxFeatures, workers: opts.workers, silent: opts.silent,
    });
    lap('features');
    const sel = selectPairs(feats.length, opts.matcher, { images: priors.images, feats, seed: opts.seed });
    if (!opts.silent) info(`sfm: ${sel.pairs.length} pairs to match (${sel.kind}: ${sel.reason})`);
    const matches = await matchPairs(db, feats, sel.pairs, { ...defaultMatchOptions, pairSelection: sel.kind, workers: opts.workers, silent: opts.silent });
    lap('matching');
    // threshold in full-resolution pixels: the detector saw a downscaled image
    const down = Math.max(1, Math.max(...feats.map((f) => Math.max(f.width, f.height))) / opts.maxImageSize);
    const maxError = 2 * down;
    const geoms = await verifyPairs(db, feats, imageCamera.map((c) => cameras[c]!), imageCamera.map((c) => calibratedCam[c]!), sel.pairs, matches, {
      maxError, minInliers: 15, homographyRatio: 0.8, seed: opts.seed, silent: opts.silent, workers: opts.workers,
    });
    lap('verification');
    const verified = geoms.filter((g) => g.config !== 'degenerate').length;
    const mapper = new IncrementalMapper(
      // a focal from EXIF or --intrinsics lets a flat scene without parallax be posed; a guess does not
      { feats, cameras, imageCamera, refine, pairs: sel.pairs, geoms, trustedFocal: known !== null || priors.images.every((im) => im.focalSource !== 'guess') },
      { ...defaultMapperOptions, maxError: 2 * maxError, seed: opts.seed, silent: opts.silent },
    );
    const res = mapper.run();
    lap('mapping');
    if (res.stats.registered === 0) {
      throw new UserError(`sfm could not start a reconstruction: ${res.failed[0]?.reason ?? 'no images'}`, { file: paths.imagesDir, fix: 'use more overlapping photos with texture and some sideways motion between them' });
    }

    // scale and frame
    let frame: FrameInfo | null = null;
    const enu = new Map<string, [number, number, number]>();
    for (const im of priors.images) if (im.enu) enu.set(im.name, im.enu);
    if (opts.cameraHeight !== undefined) {
      frame = scaleByCameraHeight(res.model, opts.cameraHeight, opts.seed);
      if (!frame) info('sfm: no ground plane found under the cameras; scale stays arbitrary');
    } else if (enu.size >= 3) {
      frame = alignToGps(res.model, enu, opts.seed);
      if (!frame) info('sfm: GPS alignment failed (too few consistent positions); scale stays arbitrary');
    }
    frame ??= { scale: 'arbitrary', method: 'none', up: cameraUp(res.model), scaleFactor: 1 };
    lap('frame');

    await replaceDirAtomic(paths.sparseDir, async (dir) => {
      await writeColmapModel(dir, res.model, { text: true, binary: true });
      await writeFileAtomic(path.join(dir, 'frame.json'), JSON.stringify(frame, null, 2) + '\n');
    });
    lap('write');
    const priorOf = new Map<number, { focalPx: number; source: Priors['images'][number]['focalSource'] }>();
    priors.images.forEach((im, k) => { const id = imageCamera[k]! + 1; if (!priorOf.has(id)) priorOf.set(id, { focalPx: im.focalPx, source: im.focalSource }); });
    const warnings = sfmWarnings({ cameras: [...res.model.cameras.values()], priors: priorOf, intrinsics: res.intrinsics, parallax: res.stats.parallax, registered: res.stats.registered, points: res.stats.points });
    if (frame.note) warnings.push(`scale from the camera height: ${frame.note}`);
    const summary: SfmSummary = {
      registered: res.stats.registered,
      total: res.stats.total,
      points: res.stats.points,
      meanTrackLength: round(res.stats.meanTrackLength, 3),
      meanReprojError: round(res.stats.meanReprojError, 4),
      matcher: sel.kind,
      pairs: sel.pairs.length,
      verifiedPairs: verified,
      initialPair: res.stats.initialPair,
      groups: res.stats.groups,
      failed: res.failed,
      cameras: [...res.model.cameras.values()].map((c) => ({ id: c.id, model: c.model, params: c.params.map((v) => round(v, 6)) })),
      intrinsics: res.intrinsics.map((r) => ({ ...r, std: { focalPx: round(r.std.focalPx, 3), principalPointPx: round(r.std.principalPointPx, 3), distortionPx: round(r.std.distortionPx, 3) } })),
      homographicPairs: res.stats.parallax.homographic,
      minTriAngleDeg: round(res.stats.minTriAngleDeg, 3),
      warnings,
      frame,
      seconds,
    };
    return summary;
  } finally {
    db.close();
  }
}

function round(v: number, d: number): number {
  const k = 10 ** d;
  return Math.round(v * k) / k;
}
