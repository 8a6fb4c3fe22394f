/**
 * `r2s reconstruct <photos-dir | video> -w <ws>`: ingest → sfm → train → eval. Composes the stage
 * commands through their command-line contract and owns no maths; each stage skips itself when
 * its inputs and options are unchanged, so an interrupted run resumes where it stopped.
 */
import { parse } from '../args.js';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';
import type { CommandModule } from '../main.js';

export const summary = 'photos or video → cameras → trained splat scene → held-out scores (all stages)';
export const usage = `r2s reconstruct <photos-dir | video-file> -w <workspace> [options]
  --max-size N          downscale images at ingest (longest side, px)
  --fps F               frames per second sampled from a video
  --camera-height H     metric scale from the camera height above the ground (drive footage)
  --iterations N        training steps (default: train's default)
  --train-max-size N    training image size (longest side, px)
  --skip-train          stop after sfm
  --json                print a machine-readable summary as the last line`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    workspace: { type: 'string', short: 'w' },
    'max-size': { type: 'string' },
    fps: { type: 'string' },
    'camera-height': { type: 'string' },
    iterations: { type: 'string' },
    'train-max-size': { type: 'string' },
    'skip-train': { type: 'boolean' },
  });
  const input = positionals[0];
  if (!input) throw new UserError('no input given', { fix: 'r2s reconstruct <photos-dir | video-file> -w <workspace>' });
  const ws = values.workspace;
  if (!ws) throw new UserError('no workspace given', { fix: 'pass -w <workspace-dir>' });

  const opt = (flag: string, v: unknown): string[] => (v === undefined || v === false ? [] : v === true ? [`--${flag}`] : [`--${flag}`, String(v)]);
  const steps: Array<[string, string[]]> = [
    ['ingest', [input, '-w', ws, ...opt('max-size', values['max-size']), ...opt('fps', values.fps)]],
    ['sfm', ['-w', ws, ...opt('camera-height', values['camera-height'])]],
  ];
  if (!values['skip-train']) {
    steps.push(['train', ['-w', ws, ...opt('iterations', values.iterations), ...opt('max-size', values['train-max-size'])]]);
    steps.push(['eval', ['-w', ws]]);
  }
  const timings: Record<string, number> = {};
  for (const [name, args] of steps) {
    let mod: CommandModule;
    try {
      mod = (await import(`./${name}.js`)) as CommandModule;
    } catch (e) {
      // only a missing module means "not in this build"; anything else is a real failure to report
      if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') throw new UserError(`stage '${name}' is not available in this build`);
      throw e;
    }
    info(`== ${name}`);
    const t0 = Date.now();
    const code = await mod.run(args);
    timings[name] = (Date.now() - t0) / 1000;
    if (typeof code === 'number' && code !== 0) throw new UserError(`stage '${name}' failed (exit ${code}); earlier stages' results are kept in ${ws}`);
  }
  if (values.json) result({ ok: true, workspace: ws, seconds: timings });
  else info(`reconstruct: done (${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')}) → ${ws}`);
  return 0;
}
