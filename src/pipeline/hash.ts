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
  for (const rel of listFiles(p)) parts.push(`${rel}:${await hashFile(path.join(p, rel))}`);
  return hashString(parts.join('\n'));
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (ent.name.startsWith('.')) continue; // temp files of atomic writes, the lock
    const rel = prefix ? `${prefix}/${ent.name}` : ent.name;
    if (ent.isDirectory()) out.push(...listFiles(path.join(dir, ent.name), rel));
    else if (ent.isFile()) out.push(rel);
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
