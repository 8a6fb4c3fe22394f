/**
 * The live view of a batch: captures × stages with each job's state and progress. On a terminal
 * the table is redrawn in place; otherwise (logs, CI) one plain line per change of state, so a
 * log stays readable.
 */
import type { JobState } from './queue.js';
import { formatSeconds } from '../util/progress.js';

/** The grid as text lines (also what `r2s batch status` prints). */
export function renderTable(states: readonly JobState[], now = Date.now()): string[] {
  const stages = [...new Set([...states].sort((a, b) => a.step - b.step).map((s) => s.stage))];
  const captures = [...new Set(states.map((s) => s.capture))];
  const cell = new Map(states.map((s) => [`${s.capture}/${s.stage}`, s]));
  const capW = Math.max(7, ...captures.map((c) => c.length));
  const colW = 14;
  const header = ['capture'.padEnd(capW), ...stages.map((s) => s.padEnd(colW))].join(' ');
  const rows = captures.map((c) => [c.padEnd(capW), ...stages.map((s) => cellText(cell.get(`${c}/${s}`), now).padEnd(colW))].join(' '));
  const count = (st: JobState['status']) => states.filter((s) => s.status === st).length;
  const totals = `${count('done')}/${states.length} done, ${count('running')} running, ${count('failed')} failed, ${count('blocked')} blocked`;
  return [header, ...rows, totals];
}

function cellText(s: JobState | undefined, now: number): string {
  if (!s) return '';
  switch (s.status) {
    case 'done':
      return `✓ ${formatSeconds(s.seconds ?? 0)}`;
    case 'running': {
      const p = s.progress;
      const pct = p && p.total > 0 ? ` ${Math.floor((100 * p.done) / p.total)}%` : '';
      const since = s.startedAt ? ` ${formatSeconds((now - Date.parse(s.startedAt)) / 1000)}` : '';
      return `▶${pct}${since}`;
    }
    case 'failed':
      return '✗ failed';
    case 'blocked':
      return '– blocked';
    default:
      return s.attempts > 0 ? `↻ retry ${s.attempts + 1}` : '·';
  }
}

export interface LiveTable {
  update(states: readonly JobState[]): void;
  note(line: string): void;
  finish(states: readonly JobState[]): void;
}

export function createLiveTable(out: NodeJS.WriteStream = process.stderr): LiveTable {
  return out.isTTY ? ttyTable(out) : plainLines(out);
}

function ttyTable(out: NodeJS.WriteStream): LiveTable {
  let drawn = 0;
  const notes: string[] = [];
  const draw = (states: readonly JobState[]) => {
    // Notes are printed once above the table and scroll away; only the table is redrawn.
    const table = renderTable(states);
    const up = drawn > 0 ? `\x1b[${drawn}A` : '';
    out.write(`${up}\r\x1b[J${[...notes.splice(0), ...table].join('\n')}\n`);
    drawn = table.length;
  };
  return {
    update: draw,
    note: (line) => notes.push(line),
    finish: draw,
  };
}

function plainLines(out: NodeJS.WriteStream): LiveTable {
  const last = new Map<string, string>();
  let lastProgressAt = 0;
  return {
    update(states) {
      const progressDue = Date.now() - lastProgressAt > 15_000;
      if (progressDue) lastProgressAt = Date.now();
      for (const s of states) {
        const key = `${s.status}:${s.attempts}`;
        const changed = last.get(s.id) !== key;
        if (!changed && !(progressDue && s.status === 'running')) continue;
        last.set(s.id, key);
        out.write(`batch: ${s.id} ${cellText(s, Date.now())}${s.status === 'failed' && s.error ? ` — ${s.error}` : ''}\n`);
      }
    },
    note: (line) => out.write(`batch: ${line}\n`),
    finish(states) {
      out.write(renderTable(states).join('\n') + '\n');
    },
  };
}
