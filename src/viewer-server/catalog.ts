/**
 * assets/catalog.json → the list of placeable assets the page shows. `r2s extract` writes
 * `{ "kind": "r2s.catalog", "version": 1, "assets": [{ id, name, path, splats, mesh, collision,
 * thumbnail, extentsM, scale, gaussians, triangles, source }] }` where `path` is the asset's folder
 * relative to the catalog and the file names are relative to that folder. Older catalogs (an array,
 * or `{ assets: [...] }` with `splats` / `files.spz` / `files.ply` relative to the catalog, or
 * nothing and `<id>/splats.(spz|ply)`) are still read.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { confinedPath } from '../util/confine.js';
import { splatFormatOf, type ViewerAsset, type ViewerCatalog } from './protocol.js';
import { encodePath } from './safe-path.js';

type Entry = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `rel` when it names an existing file inside `dir` (src/util/confine.ts); else the entry shows without it. */
function inside(dir: string, rel: string | undefined): string | undefined {
  if (!rel) return undefined;
  let abs: string;
  try {
    abs = confinedPath(dir, rel, { file: path.join(dir, 'catalog.json') });
  } catch {
    return undefined;
  }
  if (!existsSync(abs)) return undefined;
  return path.relative(dir, abs).split(path.sep).join('/');
}

export function readCatalog(catalogPath: string, urlPrefix: string): ViewerCatalog {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(catalogPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${catalogPath} is not valid JSON (${(e as Error).message})`, { fix: 're-run r2s extract' });
  }
  const list = Array.isArray(raw) ? raw : Array.isArray((raw as Entry)?.assets) ? ((raw as Entry).assets as unknown[]) : null;
  if (!list) throw new UserError(`${catalogPath} has no asset list`, { fix: 'expected { "kind": "r2s.catalog", "version": 1, "assets": [...] }' });
  const dir = path.dirname(catalogPath);
  const url = (rel: string) => `${urlPrefix}/${encodePath(rel)}`;
  const assets: ViewerAsset[] = [];
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const e = item as Entry;
    const id = str(e.id);
    if (!id) continue;
    const folder = str(e.path) ?? id;
    const inFolder = (f: unknown) => (str(f) ? inside(dir, path.join(folder, str(f)!)) : undefined);
    const files = (e.files && typeof e.files === 'object' ? e.files : {}) as Entry;
    const candidates = [
      inFolder(e.splats),
      inside(dir, str(e.splats)),
      inside(dir, str(files.spz)),
      inside(dir, str(files.ply)),
      inside(dir, str(files.splats)),
      inside(dir, `${folder}/splats.spz`),
      inside(dir, `${folder}/splats.ply`),
    ];
    const rel = candidates.find((c) => c && splatFormatOf(c));
    if (!rel) continue;
    const a: ViewerAsset = { id, name: str(e.name) ?? str(e.label) ?? id, url: url(rel), format: splatFormatOf(rel)! };
    const mesh = inFolder(e.mesh), collision = inFolder(e.collision), thumb = inFolder(e.thumbnail);
    if (mesh) a.meshUrl = url(mesh);
    if (collision) a.collisionUrl = url(collision);
    if (thumb) a.thumbnailUrl = url(thumb);
    const ext = Array.isArray(e.extentsM) && e.extentsM.length === 3 && e.extentsM.every((v) => num(v) !== undefined) ? (e.extentsM as [number, number, number]) : undefined;
    if (ext) a.extentsM = ext;
    if (e.scale === 'metric' || e.scale === 'arbitrary') a.scale = e.scale;
    if (num(e.gaussians) !== undefined) a.gaussians = num(e.gaussians);
    assets.push(a);
  }
  return { assets };
}
