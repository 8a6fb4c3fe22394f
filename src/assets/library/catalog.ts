/**
 * The asset library's catalog.json (read by the viewer) and asset.json records. The catalog is
 * only ever changed under the library lock: lock, re-read, modify, write a temporary file, rename.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
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

export async function readCatalog(library: string): Promise<Catalog> {
  let text: string;
  try {
    text = await fs.readFile(path.join(library, CATALOG), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyCatalog();
    throw e;
  }
  const c = JSON.parse(text) as Catalog;
  if (c.kind !== 'r2s.catalog' || !Array.isArray(c.assets)) throw new Error(`${path.join(library, CATALOG)}: not an r2s catalog`);
  return c;
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
