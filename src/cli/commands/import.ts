/**
 * `r2s import <colmap-model-dir | transforms.json> -w <ws> [--images DIR]`: start a workspace
 * from cameras computed elsewhere (COLMAP, nerfstudio, instant-ngp).
 */
import { parse, requireWorkspace } from '../args.js';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';
import { importToWorkspace } from '../../import/import-model.js';

export const summary = 'start a workspace from a COLMAP model or a nerfstudio / instant-ngp transforms.json';
export const usage = `r2s import <colmap-model-dir | transforms.json> -w <workspace> [options]
  --images DIR    folder with the photos (default: ../images or ../../images next to a COLMAP
                  model; paths relative to a transforms.json)
  --masks DIR     masks named like the photos (white = use, black = ignore); a
                  transforms.json's mask_path files are used without it
  --force         import again even when the workspace is up to date
  --json          print a machine-readable summary as the last line`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    workspace: { type: 'string', short: 'w' },
    images: { type: 'string' },
    masks: { type: 'string' },
    force: { type: 'boolean' },
  });
  const source = positionals[0];
  if (!source) throw new UserError('no model given', { fix: 'r2s import <colmap-model-dir | transforms.json> -w <workspace>' });
  if (positionals.length > 1) throw new UserError(`one model at a time, got ${positionals.length}`, { fix: 'r2s import <colmap-model-dir | transforms.json> -w <workspace>' });
  const workspace = requireWorkspace(values.workspace);
  const res = await importToWorkspace({ source, workspace, imagesDir: values.images, masksDir: values.masks, force: values.force });
  if (values.json) result({ workspace, ...res });
  else info(res.skipped ? `import: ${workspace} is up to date` : `import: wrote ${workspace} (images/, sparse/, priors.json)`);
  return 0;
}
