// Scene info overlay: splat count, frames per second and frame time. The frame time shown is the
// larger of the mean interval between rendered frames and the last GPU-synchronised render (the
// render call returns before the GPU has drawn; app.ts waits for it about once a second), so a
// slow GPU cannot hide behind quick calls.
import { $ } from './ui.js';

export class FrameStats {
  private times: number[] = [];
  private last = 0;
  private shownAt = 0;
  frameCount = 0;
  /** CPU milliseconds of the last render call */
  lastRenderMs = 0;

  /** last render timed to the GPU's completion, ms */
  syncedMs = 0;

  /** Record one rendered frame; `now` from performance.now(); `syncedMs` when it waited for the GPU. */
  tick(now: number, renderMs: number, syncedMs?: number): void {
    this.frameCount++;
    this.lastRenderMs = renderMs;
    if (syncedMs !== undefined) this.syncedMs = syncedMs;
    if (this.last) this.times.push(now - this.last);
    this.last = now;
    if (this.times.length > 120) this.times.shift();
    if (now - this.shownAt > 500) {
      this.shownAt = now;
      const ms = this.shownFrameMs();
      $('stat-fps').textContent = ms > 0 ? (1000 / ms).toFixed(1) : '–';
      $('stat-ms').textContent = ms > 0 ? ms.toFixed(1) : '–';
    }
  }

  /** Frames rendered on demand leave gaps; those are not frame time. */
  idle(): void {
    this.last = 0;
  }

  /** What the overlay shows: a frame costs at least its GPU-synchronised render. */
  shownFrameMs(): number {
    return Math.max(this.meanFrameMs(), this.syncedMs);
  }

  meanFrameMs(): number {
    return this.times.length ? this.times.reduce((a, b) => a + b, 0) / this.times.length : 0;
  }

  setSplats(n: number): void {
    $('stat-splats').textContent = n.toLocaleString('en-US');
  }
}
