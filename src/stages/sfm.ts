/**
 * The `sfm` stage: images/ + priors.json → sparse/ (COLMAP .txt and .bin, frame.json), with the
 * feature / match cache in sfm/database.db.
 */
import path from 'node:path';
import { z } from 'zod';
import { choice, defineStage, int, num, pathOpt } from '../pipeline/stage.js';
import { defaultSfmOptions, runSfm, type SfmSummary } from '../sfm/pipeline.js';

const d = defaultSfmOptions;
const options = z.object({
  cameraHeight: num('metric scale from the camera height above the ground (metres)', { min: 0, exclusiveMin: true, max: 1000, placeholder: 'H' }),
  intrinsics: pathOpt('known intrinsics, fixed: "fx fy cx cy [k1 k2]", a 3×3 K or a 3×4 P', { placeholder: 'FILE' }),
  matcher: choice(['exhaustive', 'sequential', 'gps', 'retrieval', 'auto'], 'which image pairs are matched; retrieval: each image with its most similar images (shared visual words), for photos in no particular order; auto: all pairs up to 40 images, then sequential (gps when located) if the file order is the capture order (video, or photo times increasing with the names), else retrieval', { default: d.matcher }),
  features: choice(['akaze', 'orb'], 'feature detector', { default: d.features }),
  maxImageSize: int('longest side the feature detector sees', { min: 64, max: 65536, default: d.maxImageSize }),
  maxFeatures: int('keypoints kept per image', { min: 100, max: 1_000_000, default: d.maxFeatures }),
  seed: int('random seed', { min: 0, max: 2 ** 32 - 1, default: d.seed, placeholder: 'S' }),
});

export const sfmStage = defineStage({
  name: 'sfm',
  summary: 'structure from motion: camera poses + intrinsics and sparse points → ws/sparse/',
  reads: ['images/', 'priors.json'],
  writes: ['sparse/', 'sfm/'],
  after: ['ingest'],
  options,
  plan(ws, o) {
    ws.readPriors(); // fail early, with the fix, before anything is written
    const intrinsics = o.intrinsics ? path.resolve(o.intrinsics) : undefined;
    return {
      inputs: ['images', 'priors.json', ...(intrinsics ? [intrinsics] : [])],
      options: { cameraHeight: o.cameraHeight, intrinsics, matcher: o.matcher, features: o.features, maxImageSize: o.maxImageSize, maxFeatures: o.maxFeatures },
      outputs: ['sparse/cameras.bin', 'sparse/images.bin', 'sparse/points3D.bin', 'sparse/frame.json'],
      seed: o.seed,
    };
  },
  async run(ws, o, ctx): Promise<SfmSummary> {
    const summary = await runSfm({ imagesDir: ws.imagesDir, database: ws.sfmDatabasePath, sparseDir: ws.sparseDir }, ws.readPriors(), {
      ...o,
      intrinsicsFile: o.intrinsics,
      silent: ctx.silent,
    });
    // a model that registered but may be wrong says so, one `warning: …` line each (the --json
    // result carries them too, as summary.warnings)
    for (const w of summary.warnings) ctx.log.warn(w);
    return summary;
  },
});
