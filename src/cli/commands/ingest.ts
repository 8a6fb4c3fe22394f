/**
 * `r2s ingest <photos-dir | video-file> -w <workspace>`: images + priors.json for sfm.
 */
import { parse, num, requireWorkspace } from '../args.js';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';
import { ingest } from '../../ingest/ingest.js';
import { DEFAULT_FPS } from '../../ingest/video.js';

export const summary = 'photos or a video → workspace/images + priors.json (EXIF focal, GPS, sharp distinct frames)';
export const usage = `r2s ingest <photos-dir | video-file> -w <workspace> [options]
  --max-size N   downscale so the longest side is at most N px
  --fps F        frames per second sampled from a video (default ${DEFAULT_FPS}); blurry and
                 near-duplicate frames are then dropped, each with its reason in priors.json
  --masks DIR    mask images (white = use) named like the photos/frames, copied to workspace/masks
  --force        run even when the workspace is up to date
  --json         print a machine-readable summary as the last line`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    workspace: { type: 'string', short: 'w' },
    'max-size': { type: 'string' },
    fps: { type: 'string' },
    masks: { type: 'string' },
    force: { type: 'boolean' },
  });
  const input = positionals[0];
  if (!input) throw new UserError('no input given', { fix: 'r2s ingest <photos-dir | video-file> -w <workspace>' });
  if (positionals.length > 1) throw new UserError(`one input expected, got ${positionals.length}`, { fix: 'pass one folder of photos or one video' });
  const workspace = requireWorkspace(values.workspace);
  const s = await ingest({
    input,
    workspace,
    maxSize: values['max-size'] !== undefined ? num(values['max-size'], 'max-size') : undefined,
    fps: values.fps !== undefined ? num(values.fps, 'fps') : undefined,
    masks: values.masks,
    force: values.force,
  });
  if (values.json) {
    result({ ok: true, workspace, ...s });
  } else {
    const list = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
    const what = s.kind === 'video' ? 'frames' : 'photos';
    info(
      `ingest: ${s.images} ${what} kept, ${s.dropped} dropped (${list(s.droppedBy)}); focal: ${list(s.focalSources)}; GPS: ${s.gps}` +
        (s.masks ? `; masks: ${s.masks}` : '') +
        `${s.skipped ? ' (up to date)' : ''} → ${s.priors}`,
    );
  }
  return 0;
}
