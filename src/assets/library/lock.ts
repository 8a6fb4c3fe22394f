/**
 * A cross-process lock on the asset library: a lock file created exclusively (O_EXCL), holding the
 * owner's pid. A lock whose owner is gone, or older than `staleMs`, is broken. Works between
 * processes and between concurrent promises of one process alike.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface LockOptions {
  /** give up after this long (default 30 s) */
  timeoutMs: number;
  /** a lock older than this is stale (default 120 s) */
  staleMs: number;
}

export const defaultLockOptions: LockOptions = { timeoutMs: 30_000, staleMs: 120_000 };

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export async function withLock<T>(dir: string, fn: () => Promise<T>, o: LockOptions = defaultLockOptions): Promise<T> {
  const file = path.join(dir, '.catalog.lock');
  const start = Date.now();
  let delay = 5;
  for (;;) {
    try {
      const fh = await fs.open(file, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await fs.stat(file).catch(() => null);
      const pid = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
      const dead = pid > 0 && pid !== process.pid && !alive(pid);
      if (st && (dead || Date.now() - st.mtimeMs > o.staleMs)) { await fs.rm(file, { force: true }); continue; }
      if (Date.now() - start > o.timeoutMs) throw new Error(`${file}: library locked by pid ${pid || '?'} for over ${o.timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(200, delay * 2);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(file, { force: true });
  }
}
