/**
 * Pipeline inputs: paths and globs of photo folders and videos, expanded to captures with unique
 * names. Node 20 has no fs.glob, and we need only `*`, `?`, `**` and `{a,b}`, so it is here.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const VIDEO_EXTENSIONS = ['.mp4', '.mov', '.m4v', '.avi', '.mkv', '.webm', '.mts'];

const isGlob = (s: string) => /[*?[{]/.test(s);

/** Absolute paths matching `pattern` (absolute, or relative to `base`), sorted. */
export function expandGlob(pattern: string, base: string): string[] {
  const abs = path.resolve(base, pattern);
  if (!isGlob(abs)) return existsSync(abs) ? [abs] : [];
  return [...new Set(expandBraces(abs).flatMap(matchSegments))].sort();
}

function expandBraces(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1]!.split(',').flatMap((alt) => expandBraces(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

function matchSegments(abs: string): string[] {
  const parts = abs.split(path.sep);
  const first = parts.findIndex(isGlob);
  const root = parts.slice(0, first).join(path.sep) || path.sep;
  let current = [root];
  for (const seg of parts.slice(first)) {
    const next: string[] = [];
    for (const dir of current) {
      if (seg === '**') next.push(dir, ...subfolders(dir));
      else if (!isGlob(seg)) {
        const p = path.join(dir, seg);
        if (existsSync(p)) next.push(p);
      } else {
        const re = segmentRegex(seg);
        for (const name of listDir(dir)) if (re.test(name) && !name.startsWith('.')) next.push(path.join(dir, name));
      }
    }
    current = next;
  }
  return current;
}

function segmentRegex(seg: string): RegExp {
  const body = seg.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function subfolders(dir: string): string[] {
  const out: string[] = [];
  for (const name of listDir(dir)) {
    if (name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (isDir(p)) out.push(p, ...subfolders(p));
  }
  return out;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A folder or a video file: what a capture can start from. */
export function isCaptureInput(p: string): boolean {
  return isDir(p) || VIDEO_EXTENSIONS.includes(path.extname(p).toLowerCase());
}

/** Workspace names: the input's base name without extension, made unique with -2, -3, … */
export function captureNames(inputs: readonly string[]): string[] {
  const used = new Map<string, number>();
  return inputs.map((input) => {
    const stem = path.basename(input, path.extname(input)).replace(/[^A-Za-z0-9._-]+/g, '_') || 'capture';
    const n = (used.get(stem) ?? 0) + 1;
    used.set(stem, n);
    return n === 1 ? stem : `${stem}-${n}`;
  });
}
