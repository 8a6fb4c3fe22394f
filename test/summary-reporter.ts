/**
 * Prints the plain closing line "vitest: N passed, N failed, N skipped" that CI log readers
 * understand, after vitest's own report.
 */
import type { Reporter } from 'vitest/reporters';

export interface TaskLike {
  type: string;
  mode?: string;
  projectName?: string;
  meta?: Record<string, unknown>;
  result?: { state?: string };
  tasks?: TaskLike[];
}

/** Passed, failed and skipped tests under these tasks (the adapter reporter counts per project). */
export function count(tasks: TaskLike[], acc = { passed: 0, failed: 0, skipped: 0 }) {
  for (const t of tasks) {
    if (t.tasks && t.type !== 'test') count(t.tasks, acc);
    else if (t.type === 'test') {
      const s = t.result?.state;
      if (s === 'pass') acc.passed++;
      else if (s === 'fail') acc.failed++;
      else acc.skipped++;
    }
  }
  return acc;
}

export default class SummaryReporter implements Reporter {
  onFinished(files: unknown[] = [], errors: unknown[] = []): void {
    const c = count(files as TaskLike[]);
    const failed = c.failed + (errors.length > 0 && c.failed === 0 ? 1 : 0);
    process.stdout.write(`\nvitest: ${c.passed} passed, ${failed} failed, ${c.skipped} skipped\n`);
  }
}
