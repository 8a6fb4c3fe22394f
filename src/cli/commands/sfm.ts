/**
 * `r2s sfm -w <ws>`: cameras (intrinsics + poses) and a sparse point cloud from the ingested images,
 * written as a COLMAP model to ws/sparse/ (text and binary) with ws/sparse/frame.json.
 */
import { parse, num, requireWorkspace } from '../args.js';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';
import { runSfmStage, defaultSfmOptions } from '../../sfm/pipeline.js';
import type { MatcherKind } from '../../sfm/matching.js';

export const summary = 'structure from motion: camera poses + intrinsics and sparse points → ws/sparse/';
export const usage = `r2s sfm -w <workspace> [options]
  --camera-height H      metric scale from the camera height above the ground (metres)
  --intrinsics FILE      known intrinsics, fixed: "fx fy cx cy [k1 k2]", a 3×3 K or a 3×4 P
  --matcher KIND         exhaustive | sequential | gps | auto (default auto)
  --features KIND        akaze | orb (default akaze)
  --max-image-size N     longest side the feature detector sees (default 1600)
  --max-features N       keypoints kept per image (default 5000)
  --seed S               random seed (default 1)
  --force                run even when the stage is up to date
  --json                 print a machine-readable summary as the last line`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    workspace: { type: 'string', short: 'w' },
    'camera-height': { type: 'string' },
    intrinsics: { type: 'string' },
    matcher: { type: 'string' },
    features: { type: 'string' },
    'max-image-size': { type: 'string' },
    'max-features': { type: 'string' },
    seed: { type: 'string' },
    force: { type: 'boolean' },
  }, false);
  const root = requireWorkspace(values.workspace);
  const matcher = (values.matcher ?? defaultSfmOptions.matcher) as MatcherKind;
  if (!['exhaustive', 'sequential', 'gps', 'auto'].includes(matcher)) throw new UserError(`unknown --matcher '${matcher}'`, { fix: 'use exhaustive, sequential, gps or auto' });
  const features = (values.features ?? defaultSfmOptions.features) as 'akaze' | 'orb';
  if (!['akaze', 'orb'].includes(features)) throw new UserError(`unknown --features '${features}'`, { fix: 'use akaze or orb' });
  const cameraHeight = values['camera-height'] !== undefined ? num(values['camera-height'], 'camera-height') : undefined;
  if (cameraHeight !== undefined && !(cameraHeight > 0)) throw new UserError('--camera-height must be positive (metres)');
  const maxImageSize = num(values['max-image-size'], 'max-image-size', defaultSfmOptions.maxImageSize);
  if (!(maxImageSize >= 64)) throw new UserError('--max-image-size must be at least 64');
  const maxFeatures = num(values['max-features'], 'max-features', defaultSfmOptions.maxFeatures);
  if (!(maxFeatures >= 100)) throw new UserError('--max-features must be at least 100');
  const { skipped, summary: s } = await runSfmStage(root, {
    ...defaultSfmOptions,
    cameraHeight,
    intrinsicsFile: values.intrinsics,
    matcher,
    features,
    maxImageSize,
    maxFeatures,
    seed: num(values.seed, 'seed', defaultSfmOptions.seed),
    force: values.force,
  });
  if (values.json) result({ ok: true, skipped, ...s });
  else if (s) {
    info(`sfm: ${s.registered}/${s.total} images registered, ${s.points} points, mean track ${s.meanTrackLength}, reprojection ${s.meanReprojError} px, scale ${s.frame.scale}`);
    for (const f of s.failed) info(`  not registered: ${f.name} — ${f.reason}`);
  }
  return 0;
}
