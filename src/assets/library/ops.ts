/** Library operations behind `r2s assets list | show ID | rm ID`. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../util/errors.js';
import { readCatalog, updateCatalog, type CatalogEntry } from './catalog.js';
import { withLock } from './lock.js';
import type { AssetRecord } from './record.js';

export async function listAssets(library: string): Promise<CatalogEntry[]> {
  return (await readCatalog(library)).assets;
}

export async function showAsset(library: string, id: string): Promise<AssetRecord> {
  const file = path.join(library, safeId(id), 'asset.json');
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as AssetRecord;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`no asset "${id}" in ${library}`, { file, fix: 'list the library with `r2s assets list`' });
    throw e;
  }
}

/** Remove the asset's folder and its catalog entry (both under the library lock). */
export async function removeAsset(library: string, id: string): Promise<void> {
  const dir = path.join(library, safeId(id));
  const cat = await readCatalog(library);
  if (!cat.assets.some((a) => a.id === id) && !(await fs.stat(dir).catch(() => null))) {
    throw new UserError(`no asset "${id}" in ${library}`, { fix: 'list the library with `r2s assets list`' });
  }
  await updateCatalog(library, (c) => { c.assets = c.assets.filter((a) => a.id !== id); });
  // move aside first so a reader never sees a half-deleted folder
  await withLock(library, async () => {
    const trash = path.join(library, `.rm-${safeId(id)}-${process.pid}-${Date.now()}`);
    await fs.rename(dir, trash).catch(() => undefined);
    await fs.rm(trash, { recursive: true, force: true });
  });
}

export function safeId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) throw new UserError(`"${id}" is not an asset id`, { fix: 'ids are letters, digits, ".", "_" and "-"' });
  return id;
}
