/**
 * Atomic file output: every file r2s writes goes to a temporary sibling first and is renamed
 * into place, so a crash or a bad input never leaves a half-written file or destroys an earlier
 * result.
 */
import { promises as fs, existsSync, renameSync, writeFileSync, mkdirSync, rmSync, statSync, accessSync, constants as fsc } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { UserError, fsError } from './errors.js';

function tmpSibling(target: string): string {
  const rand = crypto.randomBytes(4).toString('hex');
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${rand}`);
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tmpSibling(target);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Build a whole directory elsewhere, then swap it in: the previous directory survives until the
 * new one is complete. `build` receives the temporary directory to fill.
 */
export async function replaceDirAtomic(target: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tmpSibling(target);
  await fs.mkdir(tmp, { recursive: true });
  try {
    await build(tmp);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = existsSync(target) ? tmpSibling(target) + '-old' : null;
  if (old) await fs.rename(target, old);
  await fs.rename(tmp, target);
  if (old) await fs.rm(old, { recursive: true, force: true });
}

/** sha256 of a file's bytes (hex). */
export async function hashFile(file: string | Buffer): Promise<string> {
  const h = crypto.createHash('sha256');
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

export function hashString(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/**
 * Make sure `dir` is (or can become) a writable folder, before any long work starts: creates it
 * and probes it with a tiny file. Fails with one line naming the path and the fix — rather than
 * the "ENOENT … mkdir" Node reports for a folder under a read-only mount, or a stage failing
 * after an hour at its first write.
 */
export function ensureWritableDir(dir: string): void {
  const abs = path.resolve(dir);
  let existing = abs;
  for (;;) {
    try {
      const st = statSync(existing);
      if (!st.isDirectory()) {
        if (existing === abs) throw new UserError(`${abs}: exists and is not a folder`, { file: abs, fix: 'choose a folder path (or move the file away)' });
        throw new UserError(`${abs}: part of the path is a file (${existing})`, { file: abs, fix: 'check the path; move the file out of the way' });
      }
      break;
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        existing = path.dirname(existing);
        continue; // found below, as a file component
      }
      if (code !== 'ENOENT' || path.dirname(existing) === existing) throw fsError(e, existing);
      existing = path.dirname(existing);
    }
  }
  const where = existing === abs ? abs : `${abs} (in ${existing})`;
  const explain = (e: unknown): never => {
    const mapped = fsError(e, existing);
    if (mapped instanceof UserError) throw new UserError(`${where}: not writable, ${mapped.message.replace(/^.*?: /, '')}`, { file: abs, fix: mapped.fix, cause: e });
    throw mapped;
  };
  try {
    accessSync(existing, fsc.W_OK);
  } catch (e) {
    explain(e);
  }
  try {
    mkdirSync(abs, { recursive: true });
    const probe = path.join(abs, `.r2s-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    explain(e);
  }
}
