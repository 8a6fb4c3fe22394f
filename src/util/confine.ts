/**
 * Names read from a file (a COLMAP image NAME, a transforms.json file_path, a mask name …) become
 * paths only through `confinedPath`: a name is a relative path that stays inside its folder — no
 * `..` component, no absolute path, no drive letter, no NUL, no line break — or a one-line
 * UserError naming the file (and line, where the reader knows it) and the name. One helper, so a
 * reader cannot forget a case another one checks.
 */
import path from 'node:path';
import { UserError } from './errors.js';

/** Where a name was read: the file, and the line (text) or the record (binary) when known. */
export interface NameSource {
  file: string;
  line?: number;
  /** e.g. "image 3 of 29", when there is no line */
  where?: string;
}

/** Printable form of a name for an error line (control characters escaped, long names cut). */
function shown(name: string): string {
  const s = JSON.stringify(name);
  return s.length > 80 ? `${s.slice(0, 77)}…"` : s;
}

/**
 * The path `name` (as read from `at.file`) names inside `folder`; throws a UserError when it
 * would lead outside. With `folder` = '' only the name is checked and returned normalised
 * (forward slashes, no `./`): readers call it so at parse time, where they know the line.
 * Backslashes count as separators for the checks (a Windows `..\\x` is refused everywhere).
 */
export function confinedPath(folder: string, name: unknown, at: NameSource): string {
  const here = `${at.file}${at.line !== undefined ? `:${at.line}` : ''}${at.where ? ` (${at.where})` : ''}`;
  const refuse = (why: string): never => {
    throw new UserError(`${here}: name ${typeof name === 'string' ? shown(name) : String(name)} ${why}`, {
      file: at.file,
      fix: 'names in the file must be relative paths inside their folder (no "..", no absolute path); correct or re-export the file',
    });
  };
  if (typeof name !== 'string' || name.trim() === '') return refuse('is empty or not a text');
  if (/[\0\r\n]/.test(name)) return refuse('holds a NUL or line-break character');
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) return refuse('is an absolute path');
  const parts = slashed.split('/');
  if (parts.includes('..')) return refuse('leads out of its folder ("..")');
  const rel = path.posix.normalize(slashed).replace(/^(\.\/)+/, '');
  if (rel === '.' || rel === '' || rel.endsWith('/')) return refuse('names a folder, not a file');
  if (folder === '') return rel;
  // the name as written (a backslash is a separator only on Windows), checked once more after resolving
  const root = path.resolve(folder);
  const full = path.resolve(root, name);
  const back = path.relative(root, full);
  if (back === '' || back === '..' || back.startsWith('..' + path.sep) || path.isAbsolute(back)) return refuse(`leads outside ${root}`);
  return full;
}
