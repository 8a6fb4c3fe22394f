/**
 * Errors a user can act on. The CLI prints `r2s: <message>` on one line and exits non-zero,
 * never a stack trace. Always name the file involved and the fix where there is one.
 */
export class UserError extends Error {
  readonly file?: string;
  readonly fix?: string;
  constructor(message: string, opts: { file?: string; fix?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'UserError';
    this.file = opts.file;
    this.fix = opts.fix;
  }

  /** The one line the CLI prints. */
  oneLine(): string {
    const where = this.file && !this.message.includes(this.file) ? `${this.file}: ` : '';
    const fix = this.fix ? ` (fix: ${this.fix})` : '';
    return `${where}${this.message}${fix}`.replace(/\s*\n\s*/g, ' ');
  }
}

/**
 * What a file-system error code means to a user, and what to do about it. Node reports these as
 * "EROFS: read-only file system, open '…'" — accurate, but neither says which of our paths nor
 * how to get out of it.
 */
const FS_ERRORS: Record<string, { what: string; fix: string }> = {
  EROFS: { what: 'read-only file system', fix: 'choose a workspace on a writable disk (-w DIR), or copy it there' },
  EACCES: { what: 'permission denied', fix: 'check the owner and permissions of the folder, or choose another -w DIR' },
  EPERM: { what: 'operation not permitted', fix: 'check the owner and permissions of the folder, or choose another -w DIR' },
  ENOSPC: { what: 'no space left on device', fix: 'free disk space or choose a workspace on a larger disk' },
  EDQUOT: { what: 'disk quota exceeded', fix: 'free space within your quota or choose another disk' },
  ENOTDIR: { what: 'part of the path is a file, not a folder', fix: 'check the path; move the file out of the way' },
  EISDIR: { what: 'is a folder where a file was expected', fix: 'check the path; move the folder out of the way' },
  EEXIST: { what: 'already exists and is in the way', fix: 'move it out of the way or choose another path' },
  ENOENT: { what: 'no such file or folder', fix: 'check the path' },
  EMFILE: { what: 'too many open files', fix: 'raise the limit (ulimit -n 4096) and run again' },
  ENAMETOOLONG: { what: 'file name too long', fix: 'use a shorter path' },
  EIO: { what: 'input/output error (failing disk or network mount?)', fix: 'check the disk, then run again' },
  ELOOP: { what: 'too many symbolic links', fix: 'check the path for a symlink loop' },
  EBUSY: { what: 'busy (in use by another program or a mount point)', fix: 'close the other program or choose another path' },
  ETXTBSY: { what: 'busy (in use by another program)', fix: 'close the other program and run again' },
};

/** SQLite errors (sfm's database) by prefix: SQLITE_READONLY_DBMOVED is still read-only. */
const SQLITE_ERRORS: Array<[string, string]> = [
  ['SQLITE_READONLY', 'EROFS'],
  ['SQLITE_CANTOPEN', 'EACCES'],
  ['SQLITE_FULL', 'ENOSPC'],
  ['SQLITE_IOERR', 'EIO'],
];

interface ErrnoLike {
  code?: string;
  path?: string;
  dest?: string;
  syscall?: string;
  message?: string;
}

/** The fs error code of `e`, if it is one we can explain (SQLite's are mapped onto errnos). */
export function fsErrorCode(e: unknown): string | undefined {
  const code = (e as ErrnoLike | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (FS_ERRORS[code]) return code;
  return SQLITE_ERRORS.find(([prefix]) => code.startsWith(prefix))?.[1];
}

/**
 * A file-system error as a UserError naming the path and the fix; anything else is returned as
 * it is. `file` names the path when the error does not carry one (SQLite, streams).
 */
export function fsError(e: unknown, file?: string): unknown {
  if (e instanceof UserError) return e;
  const code = fsErrorCode(e);
  if (!code) return e;
  const err = e as ErrnoLike;
  const where = err.path ?? file;
  const info = FS_ERRORS[code]!;
  const op = err.syscall ? ` (${err.syscall})` : '';
  const msg = where ? `${where}: ${info.what}${op}` : `${info.what}${op}`;
  return new UserError(msg, { file: where, fix: info.fix, cause: e });
}

/** Message of any thrown value, without a stack; fs errors name the path and the fix. */
export function errorMessage(e: unknown): string {
  if (e instanceof UserError) return e.oneLine();
  const mapped = fsError(e);
  if (mapped instanceof UserError) return mapped.oneLine();
  if (e instanceof Error) return e.message.split('\n')[0] ?? String(e);
  return String(e);
}
