/**
 * The vitest projects that run the GPU tests once per software Vulkan driver (lavapipe and
 * SwiftShader), each under the Khronos validation layer with synchronization validation
 * (src/gpu/vk-validation.ts). vitest.config.ts builds its `test.projects` from this.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The GPU test files: kernels against their references, the GPU rasterizer, the resident training
 * step and its lockstep check, and the device bring-up. They run on both drivers; every other test
 * runs once in the default project.
 */
export const GPU_TEST_FILES = [
  'test/gpu-*.test.ts',
  'test/raster-gpu.test.ts',
  'test/raster-edge.test.ts',
  'test/mask-weights.test.ts',
  'test/train-resident-guard.test.ts',
  'test/train-lockstep.test.ts',
];

export interface GpuAdapterProject {
  /** the vitest project name */
  name: string;
  /** per-test time limit: SwiftShader runs our kernels ~10× slower than lavapipe */
  testTimeout: number;
  /** GPU test files this project leaves out */
  exclude: string[];
  /** what the adapter's description must match (the test fails on any other adapter) */
  expect: string;
  /** the Vulkan ICD manifest that selects the driver */
  icd: string;
  /** image sizes of the lockstep test (default both, 32 and 64 px; SwiftShader: 32, ~180 s) */
  lockstepSizes?: string;
}

const first = (files: string[]) => files.find((f) => existsSync(f)) ?? files[0]!;

/**
 * Measured on the 2-core dev machine (CPU seconds of the test processes, validation on):
 * gpu-lavapipe ≈ 79 s; gpu-swiftshader ≈ 880 s with train-lockstep at both sizes (≈ 580 s) and
 * train-resident-guard, so SwiftShader runs the lockstep at 32 px only and leaves the guard out.
 * R2S_SWIFTSHADER_LOCKSTEP=0 leaves the lockstep test out of the SwiftShader project.
 */
export const GPU_ADAPTERS: GpuAdapterProject[] = [
  { name: 'gpu-lavapipe', expect: 'llvmpipe', testTimeout: 120_000, exclude: [], icd: first(['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/usr/share/vulkan/icd.d/lvp_icd.json']) },
  {
    name: 'gpu-swiftshader', expect: 'SwiftShader', testTimeout: 600_000,
    // train-resident-guard tests the fallback logic with a mocked loss (adapter-independent; 73 s here)
    exclude: ['test/train-resident-guard.test.ts', ...(process.env.R2S_SWIFTSHADER_LOCKSTEP === '0' ? ['test/train-lockstep.test.ts'] : [])],
    lockstepSizes: '32',
    icd: first(['/usr/lib/chromium/vk_swiftshader_icd.json']),
  },
];

/** The environment of one GPU project's test processes (inherited by the processes they start). */
export function gpuProjectEnv(a: GpuAdapterProject, runId = String(process.pid)): Record<string, string> {
  return {
    VK_ICD_FILENAMES: a.icd,
    R2S_EXPECT_ADAPTER: a.expect,
    R2S_VK_VALIDATION: path.join(os.tmpdir(), `r2s-vk-validation-${runId}-${a.name}`),
    ...(a.lockstepSizes ? { R2S_LOCKSTEP_SIZES: a.lockstepSizes } : {}),
  };
}
