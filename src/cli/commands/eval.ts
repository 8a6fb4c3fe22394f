/**
 * `r2s eval -w <ws>`: score the trained scene on the held-out views (every 8th image).
 */
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { parse, num, requireWorkspace } from '../args.js';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';
import { Workspace } from '../../pipeline/workspace.js';
import { evaluateWorkspace } from '../../scene/run-eval.js';

export const summary = 'score the trained scene on held-out views → eval/metrics.json and side-by-side PNGs';
export const usage = `r2s eval -w <workspace> [options]
  --max-size N     image size (default: the size training used)
  --fit-steps N    test-time photometric fit steps (default 150)
  --right-half     score the right half even without a photometric model
  --force          re-evaluate even when up to date
  --json           machine-readable result as the last line`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    workspace: { type: 'string', short: 'w' },
    'max-size': { type: 'string' },
    'fit-steps': { type: 'string' },
    'right-half': { type: 'boolean' },
    force: { type: 'boolean' },
  }, false);
  const ws = new Workspace(requireWorkspace(values.workspace));
  const ply = path.join(ws.sceneDir, 'splats.ply');
  if (!existsSync(ply)) throw new UserError(`${ply}: no trained scene`, { file: ply, fix: 'run `r2s train -w <ws>` first' });
  const trainJson = path.join(ws.sceneDir, 'train.json');
  const trained = existsSync(trainJson) ? (JSON.parse(readFileSync(trainJson, 'utf8')) as { maxSize?: number }) : {};
  const maxSize = num(values['max-size'], 'max-size', trained.maxSize ?? 1600);
  const fitSteps = num(values['fit-steps'], 'fit-steps', 150);
  const opts = { maxSize, fitSteps, rightHalf: Boolean(values['right-half']) };
  const res = await ws.runStage('eval', {
    inputs: ['scene/splats.ply', 'scene/photometric.json', 'scene/sparse-refined', 'scene/train.json', 'sparse', 'images'].filter((p) => existsSync(ws.resolve(p))),
    options: opts,
    outputs: ['eval/metrics.json'],
    force: Boolean(values.force),
  }, async () => {
    const m = await evaluateWorkspace(ws, opts);
    return { summary: { psnr: m.psnr, ssim: m.ssim, views: m.views.length, protocol: m.protocol } };
  });
  const s = res.record.summary ?? {};
  if (values.json) result({ ok: true, skipped: res.skipped, ...s });
  else info(`eval: PSNR ${Number(s.psnr).toFixed(2)} dB, SSIM ${Number(s.ssim).toFixed(4)} on ${String(s.views)} held-out views → ${ws.evalDir}/metrics.json`);
  return 0;
}
