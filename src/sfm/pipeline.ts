/**
 * `r2s sfm`: features → matching → verification → incremental mapping → scale/frame, over the SfM
 * database ws/sfm/database.db (each stage cached there), writing the COLMAP model to ws/sparse/
 * (text + binary, swapped in atomically) and ws/sparse/frame.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Camera } from '../core/camera.js';
import type { Priors } from '../ingest/priors.js';
import { writeColmapModel } from '../io/colmap.js';
import { replaceDirAtomic, writeFileAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/log.js';
import { Workspace } from '../pipeline/workspace.js';
import { SfmDatabase } from './database.js';
import { extractFeatures, defaultFeatureOptions } from './features.js';
import { matchPairs, selectPairs, defaultMatchOptions, type MatcherKind } from './matching.js';
import { verifyPairs } from './verify.js';
import { IncrementalMapper, defaultMapperOptions, type CameraRefine } from './mapper.js';
import { cameraFromIntrinsics, parseIntrinsics } from './intrinsics.js';
import { alignToGps, cameraUp, scaleByCameraHeight, type FrameInfo } from './frame.js';

export interface SfmOptions {
  cameraHeight?: number;
  intrinsicsFile?: string;
  matcher: MatcherKind;
  features: 'akaze' | 'orb';
  maxImageSize: number;
  maxFeatures: number;
  seed: number;
  force?: boolean;
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
  frame: FrameInfo;
  seconds: Record<string, number>;
}

export function readPriors(ws: Workspace): Priors {
  if (!existsSync(ws.priorsPath)) throw new UserError(`no priors.json in ${ws.root}`, { file: ws.priorsPath, fix: `run 'r2s ingest <photos> -w ${ws.root}' first` });
  let p: Priors;
  try {
    p = JSON.parse(readFileSync(ws.priorsPath, 'utf8')) as Priors;
  } catch (e) {
    throw new UserError(`cannot parse ${ws.priorsPath}: ${(e as Error).message}`, { file: ws.priorsPath, fix: 're-run r2s ingest' });
  }
  if (!Array.isArray(p.images) || p.images.length === 0) throw new UserError(`${ws.priorsPath} lists no images`, { file: ws.priorsPath, fix: 're-run r2s ingest with a folder of photos' });
  for (const im of p.images) {
    if (!existsSync(path.join(ws.imagesDir, im.name))) throw new UserError(`image ${im.name} listed in priors.json is missing`, { file: path.join(ws.imagesDir, im.name), fix: 're-run r2s ingest' });
  }
  return p;
}

/** Run SfM on a workspace as a cached stage. */
export async function runSfmStage(root: string, opts: SfmOptions): Promise<{ skipped: boolean; summary: SfmSummary | undefined }> {
  const ws = new Workspace(root);
  readPriors(ws); // fail early with a clear message
  const inputs = ['images', 'priors.json'];
  if (opts.intrinsicsFile) inputs.push(path.resolve(opts.intrinsicsFile));
  const r = await ws.runStage<SfmSummary>(
    'sfm',
    {
      inputs,
      options: { cameraHeight: opts.cameraHeight, intrinsics: opts.intrinsicsFile ? path.resolve(opts.intrinsicsFile) : undefined, matcher: opts.matcher, features: opts.features, maxImageSize: opts.maxImageSize, maxFeatures: opts.maxFeatures },
      outputs: ['sparse/cameras.bin', 'sparse/images.bin', 'sparse/points3D.bin', 'sparse/frame.json'],
      seed: opts.seed,
      force: opts.force,
    },
    async () => {
      const summary = await runSfm(ws, opts);
      return { value: summary, summary: summary as unknown as Record<string, unknown> };
    },
  );
  return { skipped: r.skipped, summary: r.value ?? (r.record.summary as SfmSummary | undefined) };
}

export async function runSfm(ws: Workspace, opts: SfmOptions): Promise<SfmSummary> {
  const priors = readPriors(ws);
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

  const db = new SfmDatabase(path.join(ws.root, 'sfm', 'database.db'));
  try {
    const images = priors.images.map((im) => ({ name: im.name, path: path.join(ws.imagesDir, im.name) }));
    const feats = await extractFeatures(db, images, {
      ...defaultFeatureOptions, type: opts.features, maxImageSize: opts.maxImageSize, maxFeatures: opts.maxFeatures, workers: opts.workers, silent: opts.silent,
    });
    lap('features');
    const sel = selectPairs(feats.length, opts.matcher, { enu: priors.images.map((im) => im.enu) });
    const matches = await matchPairs(db, feats, sel.pairs, { ...defaultMatchOptions, workers: opts.workers, silent: opts.silent });
    lap('matching');
    // threshold in full-resolution pixels: the detector saw a downscaled image
    const down = Math.max(1, Math.max(...feats.map((f) => Math.max(f.width, f.height))) / opts.maxImageSize);
    const maxError = 2 * down;
    const geoms = verifyPairs(db, feats, imageCamera.map((c) => cameras[c]!), imageCamera.map((c) => calibratedCam[c]!), sel.pairs, matches, {
      maxError, minInliers: 15, homographyRatio: 0.8, seed: opts.seed, silent: opts.silent,
    });
    lap('verification');
    const verified = geoms.filter((g) => g.config !== 'degenerate').length;
    const mapper = new IncrementalMapper(
      { feats, cameras, imageCamera, refine, pairs: sel.pairs, geoms },
      { ...defaultMapperOptions, maxError: 2 * maxError, seed: opts.seed, silent: opts.silent },
    );
    const res = mapper.run();
    lap('mapping');
    if (res.stats.registered === 0) {
      throw new UserError(`sfm could not start a reconstruction: ${res.failed[0]?.reason ?? 'no images'}`, { file: ws.imagesDir, fix: 'use more overlapping photos with texture and some sideways motion between them' });
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

    await replaceDirAtomic(ws.sparseDir, async (dir) => {
      await writeColmapModel(dir, res.model, { text: true, binary: true });
      await writeFileAtomic(path.join(dir, 'frame.json'), JSON.stringify(frame, null, 2) + '\n');
    });
    lap('write');
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
