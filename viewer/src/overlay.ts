// Scene info overlay: splat count, frames per second and mean frame time.
import { $ } from './ui.js';

export class FrameStats {
  private times: number[] = [];
  private last = 0;
  private shownAt = 0;
  frameCount = 0;
  /** CPU milliseconds of the last render call */
  lastRenderMs = 0;

  /** Record one rendered frame; `now` from performance.now(). */
  tick(now: number, renderMs: number): void {
    this.frameCount++;
    this.lastRenderMs = renderMs;
    if (this.last) this.times.push(now - this.last);
    this.last = now;
    if (this.times.length > 120) this.times.shift();
    if (now - this.shownAt > 500) {
      this.shownAt = now;
      const ms = this.meanFrameMs();
      $('stat-fps').textContent = ms > 0 ? (1000 / ms).toFixed(1) : '–';
      $('stat-ms').textContent = ms > 0 ? ms.toFixed(1) : '–';
    }
  }

  /** Frames rendered on demand leave gaps; those are not frame time. */
  idle(): void {
    this.last = 0;
  }

  meanFrameMs(): number {
    return this.times.length ? this.times.reduce((a, b) => a + b, 0) / this.times.length : 0;
  }

  setSplats(n: number): void {
    $('stat-splats').textContent = n.toLocaleString('en-US');
  }
}
