/**
 * Progress for long steps: a bar with rate and ETA on a terminal, a line every few seconds when
 * stderr is not a terminal, JSON lines in --json mode. Cheap to call every iteration.
 */
import { isJsonMode } from './log.js';

export interface ProgressOptions {
  /** Extra text shown after the bar (loss, PSNR, ...). */
  unit?: string;
  /** Minimum milliseconds between redraws. */
  intervalMs?: number;
  /** Suppress output entirely (tests). */
  silent?: boolean;
}

export class Progress {
  private readonly start = Date.now();
  private lastDraw = 0;
  private done = 0;
  private extra = '';
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly interval: number;
  private readonly silent: boolean;

  constructor(
    readonly label: string,
    readonly total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    this.silent = opts.silent ?? process.env.R2S_QUIET === '1';
    this.interval = opts.intervalMs ?? (this.tty ? 100 : 5000);
  }

  /** Set absolute progress; `extra` is free text such as "loss 0.031 psnr 27.1". */
  update(done: number, extra?: string): void {
    this.done = done;
    if (extra !== undefined) this.extra = extra;
    const now = Date.now();
    if (now - this.lastDraw >= this.interval) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  tick(n = 1, extra?: string): void {
    this.update(this.done + n, extra);
  }

  finish(extra?: string): void {
    if (extra !== undefined) this.extra = extra;
    this.done = this.total;
    this.draw(true);
  }

  /** Seconds left, from the average rate so far; NaN before any progress. */
  eta(): number {
    const elapsed = (Date.now() - this.start) / 1000;
    if (this.done <= 0) return NaN;
    return (elapsed / this.done) * Math.max(0, this.total - this.done);
  }

  private draw(final: boolean): void {
    if (this.silent) return;
    const elapsed = (Date.now() - this.start) / 1000;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    if (isJsonMode()) {
      process.stderr.write(
        JSON.stringify({ progress: this.label, done: this.done, total: this.total, elapsed_s: +elapsed.toFixed(2), eta_s: final ? 0 : +this.eta().toFixed(1), info: this.extra || undefined }) + '\n',
      );
      return;
    }
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const eta = final ? `done in ${formatSeconds(elapsed)}` : `ETA ${formatSeconds(this.eta())}`;
    const line = `${this.label} ${bar} ${this.done}/${this.total} ${eta}${this.extra ? '  ' + this.extra : ''}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else process.stderr.write(line + '\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
