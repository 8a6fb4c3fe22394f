/**
 * Setup file of every vitest project: WebGPU strict mode (src/gpu/device.ts). An uncaptured WebGPU
 * error — a command buffer rejected at submit, whose outputs then silently keep their old contents
 * — fails the test it happened in. A test that provokes one on purpose takes it with
 * takeGpuErrors(). The adapter a test file ran on is recorded for the summary (adapter-reporter.ts).
 */
import { afterAll, afterEach } from 'vitest';
import { assertNoGpuErrors, deviceIfCreated } from '../../src/gpu/device.js';

process.env.R2S_GPU_STRICT = '1';

afterEach(async () => {
  await assertNoGpuErrors('(strict mode: R2S_GPU_STRICT=1)');
});

afterAll(async (suite) => {
  const ctx = await deviceIfCreated();
  const meta = suite.meta as Record<string, unknown>;
  if (ctx) meta.r2sAdapter = ctx.adapterName;
  // CPU seconds of this test process (all its threads: a software Vulkan's too), for the summary
  const u = process.cpuUsage();
  meta.r2sCpuS = (u.user + u.system) / 1e6;
});
