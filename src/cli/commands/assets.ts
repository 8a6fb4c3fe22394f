/**
 * `r2s assets list | show ID | rm ID [--library DIR] [--json]`: the asset library (catalog.json and
 * the asset folders `r2s extract` writes). The library defaults to ./assets, as for extract.
 */
import path from 'node:path';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';
import { listAssets, removeAsset, showAsset } from '../../assets/library/ops.js';
import { parse } from '../args.js';

export const summary = 'list, show or remove assets of the library (catalog.json)';
export const usage = `usage: r2s assets list | show <id> | rm <id> [options]

  --library DIR  asset library folder (default: ./assets)
  --json         print a machine-readable result as the last line`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { library: { type: 'string' } }, true, 'r2s assets --help');
  const [verb, id, ...extra] = positionals;
  const library = path.resolve(values.library ?? 'assets');
  const fix = 'r2s assets list | show <id> | rm <id> [--library DIR]';
  if (!verb) throw new UserError('say what to do with the library', { fix });
  if (extra.length) throw new UserError(`unexpected argument '${extra[0]}'`, { fix });
  if (verb === 'list') {
    if (id !== undefined) throw new UserError(`unexpected argument '${id}'`, { fix });
    const assets = await listAssets(library);
    if (values.json) result({ ok: true, library, assets });
    else if (assets.length === 0) info(`no assets in ${library}`);
    else {
      process.stdout.write(`${'id'.padEnd(32)}${'name'.padEnd(24)}${'extents (x × y-up × z)'.padEnd(28)}${'Gaussians'.padEnd(11)}triangles\n`);
      for (const a of assets) {
        const u = a.scale === 'metric' ? 'm' : 'u';
        process.stdout.write(`${a.id.padEnd(32)}${a.name.padEnd(24)}${`${a.extentsM.map((v) => v.toFixed(3)).join(' × ')} ${u}`.padEnd(28)}${String(a.gaussians).padEnd(11)}${a.triangles}\n`);
      }
    }
    return 0;
  }
  if (verb !== 'show' && verb !== 'rm') throw new UserError(`unknown assets command '${verb}'`, { fix });
  if (!id) throw new UserError(`r2s assets ${verb}: no asset id given`, { fix: `r2s assets ${verb} <id> (ids: r2s assets list)` });
  if (verb === 'show') {
    const rec = await showAsset(library, id);
    if (values.json) result({ ok: true, library, asset: rec });
    else {
      const u = rec.units === 'm' ? 'm' : 'scene units';
      const lines = [
        `${rec.id}  (${rec.name})  in ${path.join(library, rec.id)}`,
        `  source     ${rec.source.capture}  (${rec.source.contentHash})`,
        `  scale      ${rec.scale.kind}${rec.scale.kind === 'metric' ? ` from ${rec.scale.method}` : ''}, factor ${rec.scale.factor}`,
        `  extents    ${rec.extentsM.map((v) => v.toFixed(4)).join(' × ')} ${u} (x × y-up × z), pivot at the bottom centre`,
        `  counts     ${rec.counts.gaussians} Gaussians, ${rec.counts.triangles} triangles, ${rec.counts.collisionParts} collision parts`,
        `  files      ${Object.values(rec.files).flat().filter(Boolean).join(', ')}`,
        ...(Object.keys(rec.quality).length ? [`  quality    ${Object.entries(rec.quality).map(([k, v]) => `${k} ${v}`).join(', ')}`] : []),
        ...(rec.provenance.licence ? [`  licence    ${rec.provenance.licence}`] : []),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    }
    return 0;
  }
  await removeAsset(library, id);
  if (values.json) result({ ok: true, library, removed: id });
  else info(`removed ${id} from ${library}`);
  return 0;
}
