/**
 * `r2s synth <ws>`: a synthetic workspace with exact cameras and points (see src/synthetic/).
 */
import { existsSync, readdirSync } from 'node:fs';
import { parse, num } from '../args.js';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';
import { renderSyntheticCapture } from '../../synthetic/generate.js';
import { writeSyntheticWorkspace } from '../../synthetic/workspace.js';

export const summary = 'make a synthetic workspace (known Gaussian scene, exact cameras and points) for tests';
export const usage = `r2s synth <workspace> [options]
  --views N            number of views on a hemisphere (default 40)
  --size S             long image side in pixels (default 128)
  --exposure-jitter EV per-image exposure in ±EV (default 0; view 1, the anchor, stays at 0)
  --wb-jitter S        per-channel white-balance log-gain std (default 0)
  --noise S            pixel noise std, 0..1 units (default 0)
  --pose-noise DEG     rotate each given camera by DEG and move it by 2 % of its distance
                       (true poses kept in synthetic-truth.json)
  --seed S             random seed (default 1)
  --detail D           scene detail (1 ≈ 2400 Gaussians; default 1)
  --force              overwrite a non-empty workspace`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    views: { type: 'string' },
    size: { type: 'string' },
    'exposure-jitter': { type: 'string' },
    'wb-jitter': { type: 'string' },
    noise: { type: 'string' },
    'pose-noise': { type: 'string' },
    seed: { type: 'string' },
    detail: { type: 'string' },
    force: { type: 'boolean' },
    workspace: { type: 'string', short: 'w' },
  });
  const root = positionals[0] ?? values.workspace;
  if (!root) throw new UserError('no workspace given', { fix: 'r2s synth <workspace-dir>' });
  if (existsSync(root) && readdirSync(root).some((f) => f === 'images' || f === 'sparse') && !values.force) {
    throw new UserError(`${root} already holds a workspace`, { file: root, fix: 'choose an empty folder or pass --force' });
  }
  const views = num(values.views, 'views', 40);
  const size = num(values.size, 'size', 128);
  if (views < 2 || !Number.isInteger(views)) throw new UserError('--views must be an integer ≥ 2');
  if (size < 16 || size > 4096) throw new UserError('--size must be between 16 and 4096');
  const t0 = Date.now();
  const cap = renderSyntheticCapture({
    views,
    size,
    exposureJitter: num(values['exposure-jitter'], 'exposure-jitter', 0),
    wbJitter: num(values['wb-jitter'], 'wb-jitter', 0),
    noise: num(values.noise, 'noise', 0),
    poseNoiseDeg: num(values['pose-noise'], 'pose-noise', 0),
    seed: num(values.seed, 'seed', 1),
    detail: num(values.detail, 'detail', 1),
  });
  const ws = await writeSyntheticWorkspace(root, cap);
  const summaryOut = { workspace: ws.root, views, width: cap.intrinsics.width, height: cap.intrinsics.height, gaussians: cap.scene.count, seconds: (Date.now() - t0) / 1000 };
  if (values.json) result(summaryOut);
  else info(`synth: ${views} views ${cap.intrinsics.width}×${cap.intrinsics.height} of ${cap.scene.count} Gaussians → ${ws.root}`);
  return 0;
}
