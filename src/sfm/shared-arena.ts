/**
 * Reusable shared memory for bundle adjustment on worker threads (bundle.ts, bundle-pool.ts).
 *
 * A large adjustment shares ~100 MB of typed arrays with the workers. Fresh SharedArrayBuffers per
 * call are freed only once every thread that received them has collected its handles, and the
 * workers allocate almost nothing, so they rarely collect: with a fresh set per call the mapper's
 * peak memory on moldGoldCape went from 1.0 to 1.9 GB. Calls therefore carve their arrays out of
 * one grow-only arena, reused from call to call: a call that needs more than the arena holds gets
 * fresh buffers for the rest, and the arena grows to fit it for the next call. One call holds the
 * arena at a time (a nested call gets fresh buffers). The arena is dropped once no call has used
 * it for a moment (the mapper calls back to back; a timer can only fire once it has returned).
 */
const HEADROOM = 1.25;
const IDLE_DROP_MS = 1000;

export class SharedArena {
  private buf: SharedArrayBuffer | null = null;
  private used = 0;
  private held = false;
  /** the current call got fresh buffers for part of its arrays (the arena was too small) */
  overflowed = false;
  private dropTimer: ReturnType<typeof setTimeout> | null = null;

  /** Starts a call's allocations; false when another call holds the arena (allocate fresh then). */
  acquire(): boolean {
    if (this.held) return false;
    this.held = true;
    this.used = 0;
    this.overflowed = false;
    if (this.dropTimer) { clearTimeout(this.dropTimer); this.dropTimer = null; }
    return true;
  }

  /** `bytes` of zeroed shared memory, 8-byte aligned: [buffer, byte offset]. */
  take(bytes: number): [SharedArrayBuffer, number] {
    const start = Math.ceil(this.used / 8) * 8;
    this.used = start + bytes;
    if (this.buf && this.used <= this.buf.byteLength) {
      new Uint8Array(this.buf, start, bytes).fill(0);
      return [this.buf, start];
    }
    this.overflowed = true;
    return [new SharedArrayBuffer(bytes), 0];
  }

  /** Ends the call (after the workers have left it): grow to what it needed, drop when idle. */
  release(): void {
    if (!this.buf || this.used > this.buf.byteLength) this.buf = new SharedArrayBuffer(Math.ceil((this.used * HEADROOM) / 8) * 8);
    this.held = false;
    this.dropTimer = setTimeout(() => { this.buf = null; this.dropTimer = null; }, IDLE_DROP_MS);
    this.dropTimer.unref();
  }

  /** Bytes the arena holds now (tests). */
  size(): number {
    return this.buf?.byteLength ?? 0;
  }
}
