/**
 * Setup file of the GPU projects (gpu-projects.ts): one software Vulkan driver each, under the
 * Khronos validation layer with synchronization validation.
 *
 * - The file fails unless it really got the adapter its project is for: no adapter, R2S_NO_GPU=1
 *   or another driver is an error here, not a skipped suite.
 * - A test fails when the code under test falls back to a CPU reference path (the rasterizer or
 *   the device failing to start prints one warning line; its wording is matched below).
 * - A test fails when the validation layer logged anything while it ran, in this process or in any
 *   process it started (they inherit R2S_VK_VALIDATION_TAG); messages logged after the last test
 *   (device teardown, late children) fail the run in gpu-global.ts.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { getDevice } from '../../src/gpu/device.js';
import { readValidationLogs } from '../../src/gpu/vk-validation.js';

const expected = process.env.R2S_EXPECT_ADAPTER;
const dir = process.env.R2S_VK_VALIDATION;
if (!expected || !dir) throw new Error('test/support/gpu-setup.ts belongs to the GPU projects of vitest.config.ts (they set R2S_EXPECT_ADAPTER and R2S_VK_VALIDATION)');
const tag = `t${process.pid}`;
process.env.R2S_VK_VALIDATION_TAG = tag;

if (process.env.R2S_NO_GPU === '1') throw new Error(`R2S_NO_GPU=1 in a GPU project: these tests must run on ${expected}`);
const ctx = await getDevice();
if (!ctx) throw new Error(`no WebGPU adapter: this project's tests must run on ${expected} (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES})`);
if (!ctx.adapterName.toLowerCase().includes(expected.toLowerCase())) throw new Error(`WebGPU adapter is "${ctx.adapterName}", expected ${expected} (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES})`);
if (!ctx.validationLog) throw new Error('the Vulkan validation layer is not on (R2S_VK_VALIDATION)');

/** The warning lines of a fallback from the GPU to a CPU reference path. */
const FALLBACK = /using (?:the )?(?:CPU )?reference (?:rasterizer|paths)|no WebGPU adapter|failed to start/;
const fallbacks: string[] = [];
const write = process.stderr.write;
process.stderr.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
  const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  if (FALLBACK.test(s)) fallbacks.push(s.trim());
  return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof process.stderr.write;

const seen = new Map<string, number>();
function check(when: string): void {
  const msgs = readValidationLogs(dir!, tag, seen);
  const fell = fallbacks.splice(0);
  const problems = [
    ...fell.map((f) => `fell back from the GPU (${expected}): ${f}`),
    ...msgs.map((m) => `Vulkan validation ${m.severity} ${m.id}: ${m.text}`),
  ];
  if (problems.length) throw new Error(`${when} on ${ctx!.adapterName}:\n${problems.slice(0, 5).join('\n')}${problems.length > 5 ? `\n… ${problems.length - 5} more (logs: ${dir})` : ''}`);
}

beforeAll((suite) => {
  (suite.meta as Record<string, unknown>).r2sAdapter = ctx.adapterName;
  (suite.meta as Record<string, unknown>).r2sValidation = true;
});

afterEach(async () => {
  await ctx.device.queue.onSubmittedWorkDone();
  check('after this test');
});

afterAll(async () => {
  await ctx.device.queue.onSubmittedWorkDone();
  try {
    check('after the last test');
  } finally {
    // what this file has checked; gpu-global.ts looks at whatever came later
    writeFileSync(`${dir}/${tag}.checked.json`, JSON.stringify(Object.fromEntries(seen)));
  }
});
