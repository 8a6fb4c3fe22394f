/**
 * Content hashes of workspace inputs, and key-order-independent JSON for comparing options.
 */
import { existsSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { hashFile, hashString } from '../util/fsx.js';

/** A file's sha256, a folder's hash of its files' names and contents (sorted), or 'missing'. */
export async function hashPath(p: string): Promise<string> {
  if (!existsSync(p)) return 'missing';
  const st = statSync(p);
  if (st.isFile()) return hashFile(p);
  const parts: string[] = [];
  for (const f of listFiles(Buffer.from(p))) parts.push(`${f.rel}:${await hashFile(f.path)}`);
  return hashString(parts.join('\n'));
}

/** Files below `dir`, opened by their bytes (a name that is not UTF-8 is still a file: issue 25 item 11). */
function listFiles(dir: Buffer, prefix = ''): Array<{ rel: string; path: Buffer }> {
  const out: Array<{ rel: string; path: Buffer }> = [];
  const ents = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' }).map((ent) => ({ ent, name: ent.name.toString('utf8') }));
  for (const { ent, name } of ents.sort((a, b) => a.name.localeCompare(b.name))) {
    if (name.startsWith('.')) continue; // temp files of atomic writes, the lock
    const rel = prefix ? `${prefix}/${name}` : name;
    const full = Buffer.concat([dir, Buffer.from(path.sep), ent.name]);
    if (ent.isDirectory()) out.push(...listFiles(full, rel));
    else if (ent.isFile()) out.push({ rel, path: full });
  }
  return out;
}

/** JSON with sorted keys, so option records compare regardless of key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
