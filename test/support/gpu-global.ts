/**
 * Global setup of each GPU project (gpu-projects.ts): a fresh validation-log folder before the
 * run; after it, every message the Vulkan validation layer logged that no test file has already
 * reported (device teardown at process exit, processes still running after their test) fails the
 * run. The folder is removed when it holds nothing to look at.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { readValidationLogs } from '../../src/gpu/vk-validation.js';

export default function setup(project: TestProject): () => void {
  const dir = project.config.env?.R2S_VK_VALIDATION;
  if (!dir) throw new Error(`project ${project.name}: no R2S_VK_VALIDATION folder in its env`);
  rmSync(dir, { recursive: true, force: true });
  return () => {
    if (!existsSync(dir)) return;
    const tags = new Set(readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => f.split('.')[0]!));
    const late = [...tags].flatMap((tag) => {
      const checked = path.join(dir, `${tag}.checked.json`);
      const seen = new Map<string, number>(existsSync(checked) ? Object.entries(JSON.parse(readFileSync(checked, 'utf8')) as Record<string, number>) : []);
      return readValidationLogs(dir, tag, seen);
    });
    if (late.length) {
      throw new Error(`${project.name}: the Vulkan validation layer logged ${late.length} message(s) after their test files had finished (logs: ${dir}):\n` +
        late.slice(0, 5).map((m) => `${path.basename(m.file)}: ${m.severity} ${m.id}: ${m.text}`).join('\n'));
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
