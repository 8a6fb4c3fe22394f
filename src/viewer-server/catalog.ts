/**
 * assets/catalog.json → the list of placeable assets the page shows. The catalog is written by
 * `r2s extract`; this reader accepts an array or `{ assets: [...] }`, and finds each asset's splat
 * file from an explicit path (`splats`, `files.spz`, `files.ply`) or `<id>/splats.(spz|ply)`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { splatFormatOf, type ViewerAsset, type ViewerCatalog } from './protocol.js';
import { encodePath } from './safe-path.js';

type Entry = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

export function readCatalog(catalogPath: string, urlPrefix: string): ViewerCatalog {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(catalogPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${catalogPath} is not valid JSON (${(e as Error).message})`, { fix: 're-run r2s extract' });
  }
  const list = Array.isArray(raw) ? raw : Array.isArray((raw as Entry)?.assets) ? ((raw as Entry).assets as unknown[]) : null;
  if (!list) throw new UserError(`${catalogPath} has no asset list`, { fix: 'expected an array or { "assets": [...] }' });
  const dir = path.dirname(catalogPath);
  const assets: ViewerAsset[] = [];
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const e = item as Entry;
    const id = str(e.id);
    if (!id) continue;
    const files = (e.files && typeof e.files === 'object' ? e.files : {}) as Entry;
    const candidates = [str(e.splats), str(files.spz), str(files.ply), str(files.splats), `${id}/splats.spz`, `${id}/splats.ply`];
    const rel = candidates.find((c) => c && splatFormatOf(c) && existsSync(path.join(dir, c)) && !path.relative(dir, path.join(dir, c)).startsWith('..'));
    if (!rel) continue;
    assets.push({ id, name: str(e.name) ?? str(e.label) ?? id, url: `${urlPrefix}/${encodePath(rel)}`, format: splatFormatOf(rel)! });
  }
  return { assets };
}
