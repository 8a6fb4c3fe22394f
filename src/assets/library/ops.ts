/** Library operations behind `r2s assets list | show ID | rm ID`. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError, fsError } from '../../util/errors.js';
import { confinedPath } from '../../util/confine.js';
import { readCatalog, updateCatalog, type CatalogEntry } from './catalog.js';
import { withLock } from './lock.js';
import type { AssetRecord } from './record.js';

export async function listAssets(library: string): Promise<CatalogEntry[]> {
  return (await readCatalog(library)).assets;
}

/** The asset's asset.json; a missing, damaged or foreign one is a one-line UserError. */
export async function showAsset(library: string, id: string): Promise<AssetRecord> {
  const file = path.join(library, safeId(id), 'asset.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`no asset "${id}" in ${library}`, { file, fix: 'list the library with `r2s assets list`' });
    throw fsError(e, file);
  }
  const fix = `run r2s extract again for "${id}", or remove it with \`r2s assets rm ${id}\``;
  let rec: Partial<AssetRecord> | null;
  try {
    rec = JSON.parse(text) as Partial<AssetRecord> | null;
  } catch (e) {
    throw new UserError(`${file} is not valid JSON (${(e as Error).message.split('\n')[0]})`, { file, fix });
  }
  if (!rec || typeof rec !== 'object' || rec.kind !== 'r2s.asset' || !rec.files || typeof rec.files !== 'object') {
    throw new UserError(`${file} is not an r2s asset record (expected "kind": "r2s.asset" and "files")`, { file, fix });
  }
  // the files other commands open: names inside the asset's folder (src/util/confine.ts)
  confinedPath('', rec.files.splats, { file, where: 'files.splats' });
  for (const k of ['mesh', 'collision', 'usd'] as const) if (rec.files[k] !== null && rec.files[k] !== undefined) confinedPath('', rec.files[k], { file, where: `files.${k}` });
  return rec as AssetRecord;
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
