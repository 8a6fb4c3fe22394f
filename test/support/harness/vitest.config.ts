/**
 * The GPU test harness run on fixtures that do something wrong on purpose
 * (test/gpu-validation-harness.test.ts starts it): the same setup files and environment as the GPU
 * projects of vitest.config.ts, for the adapter of the project that starts it.
 */
import { defineConfig } from 'vitest/config';
import { GPU_ADAPTERS, gpuProjectEnv } from '../gpu-projects.js';

const expected = process.env.R2S_EXPECT_ADAPTER ?? 'llvmpipe';
const adapter = GPU_ADAPTERS.find((a) => a.expect === expected) ?? GPU_ADAPTERS[0]!;
const other = GPU_ADAPTERS.find((a) => a !== adapter)!;
const setupFiles = ['test/support/strict-setup.ts', 'test/support/gpu-setup.ts'];
const project = (name: string, include: string[], env: Record<string, string>) => ({
  test: { name, include, env, setupFiles, globalSetup: ['test/support/gpu-global.ts'], pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 60_000 },
});
const dir = (f: string) => `test/support/harness/${f}.fixture.ts`;

export default defineConfig({
  test: {
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    projects: [
      // Dawn's own WebGPU validation skipped, so an invalid command reaches Vulkan and the layer
      project('layer', [dir('vulkan-error')], { ...gpuProjectEnv(adapter, `h${process.pid}-layer`), R2S_DAWN_FLAGS: 'enable-dawn-features=skip_validation' }),
      project('strict', [dir('webgpu-error'), dir('fallback'), dir('clean')], gpuProjectEnv(adapter, `h${process.pid}-strict`)),
      // the other driver's name expected: the file must fail before any test runs
      project('adapter', [dir('clean')], { ...gpuProjectEnv(adapter, `h${process.pid}-adapter`), R2S_EXPECT_ADAPTER: other.expect }),
    ],
  },
});
