/**
 * Dawn prints notices from native code straight to file descriptor 2 — on lavapipe, two
 * "Warning: max…BuffersPerPipelineLayout artificially reduced…" lines while requestAdapter()
 * builds the adapter's limits (Dawn Limits.cpp, unconditional, no toggle or logging callback
 * reaches it). requestAdapter() does that work synchronously, so `quietNativeStderr` points fd 2
 * at /dev/null for exactly that call and restores it before any JavaScript runs again (no message
 * of ours can be lost).
 *
 * Node cannot dup2, so fd 2 is restored by reopening its target through /proc/self/fd. That is
 * exact for a terminal, a pipe or a file opened for appending; for a file opened without
 * O_APPEND (`> log 2>&1`) stderr would get its own file offset and overwrite stdout's lines, so
 * there (and off Linux, or with R2S_DAWN_VERBOSE=1) the call runs unchanged and Dawn's lines stay.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';

function reopenableStderr(): boolean {
  if (process.platform !== 'linux' || process.env.R2S_DAWN_VERBOSE === '1') return false;
  try {
    const st = fstatSync(2);
    if (st.isSocket()) return false; // /proc reopen of a socket fails (ENXIO)
    if (!st.isFile()) return st.isFIFO() || st.isCharacterDevice();
    const flags = /flags:\s*([0-7]+)/.exec(readFileSync('/proc/self/fdinfo/2', 'utf8'));
    return Boolean(flags && (parseInt(flags[1]!, 8) & 0o2000)); // O_APPEND
  } catch {
    return false;
  }
}

/** Run a synchronous native call with fd 2 silenced (see above); its value or error is passed on. */
export function quietNativeStderr<T>(fn: () => T): T {
  if (!reopenableStderr()) return fn();
  let saved: number;
  try {
    saved = openSync('/proc/self/fd/2', 'a');
  } catch {
    return fn();
  }
  try {
    closeSync(2);
    // the lowest free descriptor is 2 (0 and 1 are open in any normal process)
    const nul = openSync('/dev/null', 'a');
    if (nul !== 2) { closeSync(nul); restore(saved); return fn(); }
    try {
      return fn();
    } finally {
      closeSync(2);
      restore(saved);
    }
  } finally {
    closeSync(saved);
  }
}

function restore(saved: number): void {
  const fd = openSync(`/proc/self/fd/${saved}`, 'a');
  if (fd !== 2) closeSync(fd); // cannot happen with 2 free; never leave a stray descriptor
}
