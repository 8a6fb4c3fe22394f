/**
 * One process at a time works on a workspace. The lock is `WS/.r2s.lock`, created atomically
 * (O_EXCL) and holding who took it; a second process fails with one line naming the holder. A
 * lock left by a process that died (same host, pid gone) is taken over. Released on exit, SIGINT
 * and SIGTERM; re-entrant within one process (reconstruct runs several stages under one lock).
 */
import { openSync, writeSync, closeSync, readFileSync, renameSync, unlinkSync, linkSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError, fsError } from '../util/errors.js';

export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  command: string;
}

interface Held {
  file: string;
  depth: number;
}

const held = new Map<string, Held>();
let exitHandlerInstalled = false;
let handlersInstalled = false;

/** The lock file of a workspace folder. */
export const lockFileOf = (root: string) => path.join(path.resolve(root), '.r2s.lock');

/**
 * Take the lock; returns the release function. `signals: false` leaves SIGINT / SIGTERM to the
 * caller (a batch stops its jobs first); the lock still goes on exit.
 */
export function acquireWorkspaceLock(root: string, command: string, opts: { signals?: boolean } = {}): () => void {
  const file = lockFileOf(root);
  const mine = held.get(file);
  if (mine) {
    mine.depth++;
    return once(() => release(file));
  }
  const info: LockInfo = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), command };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(file, info)) {
      held.set(file, { file, depth: 1 });
      installHandlers(opts.signals !== false);
      return once(() => release(file));
    }
    const other = readLock(file);
    if (other && isAlive(other)) throw inUse(root, other);
    if (!other && existsSync(file)) {
      // being written this instant by another process, or garbage: look again once
      if (attempt === 0) continue;
      throw new UserError(`workspace ${root} is locked (${file} is unreadable)`, { file, fix: `remove ${file} if no r2s process is running` });
    }
    if (other) takeOverStale(file, other);
  }
  const other = readLock(file);
  throw other ? inUse(root, other) : new UserError(`workspace ${root}: cannot take the lock ${file}`, { file, fix: 'run again' });
}

function tryCreate(file: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fsError(e, file);
  }
  try {
    writeSync(fd, JSON.stringify(info) + '\n');
  } catch (e) {
    closeSync(fd);
    unlinkSync(file);
    throw fsError(e, file);
  }
  closeSync(fd);
  return true;
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' ? v : null;
  } catch {
    return null;
  }
}

/** A holder on another host may be alive: only a same-host holder whose pid is gone is stale. */
function isAlive(l: LockInfo): boolean {
  if (l.hostname !== os.hostname()) return true;
  if (l.pid === process.pid) return false; // ours but not held (checked above): a leftover of a reused pid
  try {
    process.kill(l.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Move the stale lock aside atomically (rename), so two processes taking it over at once cannot
 * both win; if what we moved is not the stale lock we read (someone took it meanwhile), put it back.
 */
function takeOverStale(file: string, stale: LockInfo): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else moved it first; retry the create
  }
  const moved = readLock(aside);
  if (moved && (moved.pid !== stale.pid || moved.startedAt !== stale.startedAt)) {
    try {
      linkSync(aside, file); // fails if yet another lock appeared; either way it is theirs
    } catch {
      // nothing to restore into
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // already gone
  }
}

function inUse(root: string, l: LockInfo): UserError {
  const where = l.hostname === os.hostname() ? '' : ` on ${l.hostname}`;
  return new UserError(`workspace ${path.resolve(root)} in use by pid ${l.pid}${where} (${l.command}) since ${l.startedAt}`, {
    fix: 'wait for it to finish, or stop that process',
  });
}

function release(file: string): void {
  const h = held.get(file);
  if (!h) return;
  if (--h.depth > 0) return;
  held.delete(file);
  removeIfOurs(file);
}

function removeIfOurs(file: string): void {
  const l = readLock(file);
  if (l && l.pid === process.pid && l.hostname === os.hostname()) {
    try {
      unlinkSync(file);
    } catch {
      // a read-only remount or a vanished folder: nothing left to clean
    }
  }
}

function releaseAll(): void {
  for (const file of [...held.keys()]) {
    held.delete(file);
    removeIfOurs(file);
  }
}

/** Locks go when the process goes: normal exit, Ctrl+C, kill. */
function installHandlers(signals: boolean): void {
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', releaseAll);
  }
  if (handlersInstalled || !signals) return;
  handlersInstalled = true;
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(sig, () => {
      releaseAll();
      signalled.abort(new UserError(`interrupted (${sig})`));
      // a second signal, or a stage that does not watch the signal: leave now
      process.exit(code);
    });
  }
}

/** Aborted when the process is told to stop; runner.ts passes it to stages. */
const signalled = new AbortController();
export const processSignal: AbortSignal = signalled.signal;

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
