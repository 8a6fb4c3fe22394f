/**
 * Mapping a URL path to a file inside a served folder, so that nothing outside it can be reached:
 * every segment is decoded and checked (no "..", no hidden names, no separators or NULs smuggled in
 * through percent-encoding), and the real path (symlinks followed) must still lie inside the
 * folder's real path.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Split and decode a URL path below a prefix; null when any segment is unsafe. */
export function safeSegments(urlPath: string): string[] | null {
  const segs: string[] = [];
  for (const raw of urlPath.split('/')) {
    if (raw === '') continue;
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (s === '.' || s === '..' || s.startsWith('.') || /[\\/\0]/.test(s) || /^[a-zA-Z]:/.test(s)) return null;
    segs.push(s);
  }
  return segs;
}

/**
 * The real path of `segments` inside `root`, or null when it does not exist, is not a regular
 * file, or escapes `root` (through a symlink, say).
 */
export async function resolveInside(root: string, segments: string[]): Promise<string | null> {
  if (segments.length === 0) return null;
  let realRoot: string, real: string;
  try {
    realRoot = await fs.realpath(root);
    real = await fs.realpath(path.join(root, ...segments));
  } catch {
    return null;
  }
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return null;
  try {
    if (!(await fs.stat(real)).isFile()) return null;
  } catch {
    return null;
  }
  return real;
}

export function encodePath(rel: string): string {
  return rel.split(/[\\/]/).map(encodeURIComponent).join('/');
}
