/**
 * The asset library's catalog.json (read by the viewer) and asset.json records. The catalog is
 * only ever changed under the library lock: lock, re-read, modify, write a temporary file, rename.
 * Reading checks it whole — valid JSON, an r2s catalog, every entry's fields of the right type and
 * its folder and file names inside the library — so a damaged catalog is one line naming the file,
 * the entry and the field, before any work (`r2s extract` reads it first).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError, fsError } from '../../util/errors.js';
import { confinedPath } from '../../util/confine.js';
import { writeJsonAtomic } from '../../util/fsx.js';
import { withLock } from './lock.js';

export interface CatalogEntry {
  id: string;
  name: string;
  /** folder, relative to the catalog */
  path: string;
  /** files, relative to the asset folder */
  splats: string;
  mesh: string | null;
  collision: string | null;
  thumbnail: string | null;
  extentsM: [number, number, number];
  scale: 'metric' | 'arbitrary';
  gaussians: number;
  triangles: number;
  source: string;
}

export interface Catalog {
  kind: 'r2s.catalog';
  version: 1;
  assets: CatalogEntry[];
}

export const CATALOG = 'catalog.json';

export function emptyCatalog(): Catalog {
  return { kind: 'r2s.catalog', version: 1, assets: [] };
}

/** The library's catalog (empty when there is none yet); a damaged one is a UserError. */
export async function readCatalog(library: string): Promise<Catalog> {
  const file = path.join(library, CATALOG);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyCatalog();
    throw fsError(e, file);
  }
  return parseCatalog(text, file);
}

const FIX = 'restore it from a backup, or move it aside and run r2s extract again (each asset folder keeps its asset.json)';

/** "… at position 57" of a JSON.parse error as "line 3 column 12". */
function jsonErrorAt(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return message;
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const col = before.length - before.lastIndexOf('\n');
  return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${line} column ${col}`;
}

/** Check the catalog text whole; the first problem is a UserError naming the file and the entry. */
function parseCatalog(text: string, file: string): Catalog {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON (${jsonErrorAt(text, (e as Error).message.split('\n')[0]!)})`, { file, fix: FIX });
  }
  const c = raw as Partial<Catalog> | null;
  if (!c || typeof c !== 'object' || c.kind !== 'r2s.catalog' || !Array.isArray(c.assets)) {
    throw new UserError(`${file} is not an r2s catalog (expected {"kind": "r2s.catalog", "version": 1, "assets": [...]})`, { file, fix: FIX });
  }
  if (c.version !== 1) throw new UserError(`${file}: catalog version ${JSON.stringify(c.version)} is not one this r2s reads (1)`, { file, fix: 'use the r2s that wrote it, or run r2s extract again' });
  const ids = new Set<string>();
  c.assets.forEach((e: unknown, i) => {
    const bad = (field: string, what: string) => new UserError(`${file}: assets[${i}]${field ? `.${field}` : ''} ${what}`, { file, fix: FIX });
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw bad('', 'is not an object');
    const a = e as Record<string, unknown>;
    if (typeof a.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(a.id)) throw bad('id', `is not an asset id: ${JSON.stringify(a.id)}`);
    if (ids.has(a.id)) throw bad('id', `"${a.id}" appears twice`);
    ids.add(a.id);
    if (typeof a.name !== 'string') throw bad('name', 'is not a string');
    // names that become paths stay inside the library (src/util/confine.ts)
    for (const f of ['path', 'splats', 'mesh', 'collision', 'thumbnail'] as const) {
      const optional = f !== 'path' && f !== 'splats';
      if (!optional || (a[f] !== undefined && a[f] !== null)) confinedPath('', a[f], { file, where: `assets[${i}].${f}` });
    }
    if (!Array.isArray(a.extentsM) || a.extentsM.length !== 3 || !a.extentsM.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw bad('extentsM', 'is not 3 finite sizes');
    if (a.scale !== 'metric' && a.scale !== 'arbitrary') throw bad('scale', `is not "metric" or "arbitrary": ${JSON.stringify(a.scale)}`);
    for (const f of ['gaussians', 'triangles'] as const) {
      if (a[f] !== undefined && !(typeof a[f] === 'number' && Number.isInteger(a[f]) && (a[f] as number) >= 0)) throw bad(f, 'is not a count');
    }
    if (a.source !== undefined && typeof a.source !== 'string') throw bad('source', 'is not a string');
  });
  return c as Catalog;
}

/** Lock, re-read, apply `change`, write atomically. Returns the new catalog. */
export async function updateCatalog(library: string, change: (c: Catalog) => Catalog | void): Promise<Catalog> {
  await fs.mkdir(library, { recursive: true });
  return withLock(library, async () => {
    const cur = await readCatalog(library);
    const next = change(cur) ?? cur;
    next.assets.sort((a, b) => a.id.localeCompare(b.id));
    await writeJsonAtomic(path.join(library, CATALOG), next);
    return next;
  });
}
