/**
 * After the run, one line per vitest project: the WebGPU adapter(s) its test files ran on (as the
 * setup files recorded them), whether the Vulkan validation layer was on, and its test counts, e.g.
 * "vitest project gpu-swiftshader: SwiftShader driver 5.0.0, validation layer on; 15 files, 92 passed, 0 failed, 1 skipped; 310 s CPU in test processes".
 * (CPU: each test process's own, threads included; processes a test starts are not counted.)
 */
import type { Reporter } from 'vitest/reporters';
import { count, type TaskLike } from '../summary-reporter.js';

export default class AdapterReporter implements Reporter {
  onFinished(files: unknown[] = []): void {
    const byProject = new Map<string, TaskLike[]>();
    for (const f of files as TaskLike[]) {
      const p = f.projectName || 'default';
      byProject.set(p, [...(byProject.get(p) ?? []), f]);
    }
    if (byProject.size === 0) return;
    const lines = [...byProject].sort(([a], [b]) => a.localeCompare(b)).map(([name, fs]) => {
      const adapters = [...new Set(fs.map((f) => f.meta?.r2sAdapter).filter((a): a is string => typeof a === 'string'))];
      const validated = fs.some((f) => f.meta?.r2sValidation === true);
      const c = count(fs);
      const failedFiles = fs.filter((f) => f.result?.state === 'fail').length;
      const cpu = fs.reduce((s, f) => s + (typeof f.meta?.r2sCpuS === 'number' ? f.meta.r2sCpuS : 0), 0);
      return `vitest project ${name}: ${adapters.length ? adapters.join(' + ') : 'no WebGPU device'}${validated ? ', validation layer on' : ''}; ` +
        `${fs.length} files${failedFiles ? ` (${failedFiles} failed)` : ''}, ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped; ${cpu.toFixed(0)} s CPU in test processes`;
    });
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}
