import { defineConfig } from 'vitest/config';
import { GPU_ADAPTERS, GPU_TEST_FILES, gpuProjectEnv } from './test/support/gpu-projects.js';

// `npm test` runs three projects: every test once (WebGPU on whatever driver the loader picks —
// lavapipe on a machine without a GPU), then the GPU tests (test/support/gpu-projects.ts) on
// lavapipe and on SwiftShader, each under the Khronos validation layer with synchronization
// validation. One project alone: `npx vitest run --project gpu-swiftshader`; a GPU test file named
// without --project runs in both GPU projects (SwiftShader is ~10× slower: add --project gpu-lavapipe
// while iterating).
export default defineConfig({
  test: {
    // Two cores on CI: forks keep native addons (sharp, Dawn, opencv wasm) isolated per file.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/adapter-reporter.ts', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'default', include: ['test/**/*.test.ts'], exclude: GPU_TEST_FILES, setupFiles: ['test/support/strict-setup.ts'] },
      },
      ...GPU_ADAPTERS.map((a) => ({
        extends: true,
        test: {
          name: a.name,
          include: GPU_TEST_FILES,
          exclude: a.exclude,
          testTimeout: a.testTimeout,
          hookTimeout: a.testTimeout,
          env: gpuProjectEnv(a),
          globalSetup: ['test/support/gpu-global.ts'],
          setupFiles: ['test/support/strict-setup.ts', 'test/support/gpu-setup.ts'],
        },
      })),
    ],
  },
});
