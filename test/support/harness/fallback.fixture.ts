// Harness fixture (must FAIL): code under test falls back from the GPU to the CPU reference
// rasterizer; the line is the one src/scene/backend-gpu.ts prints when the rasterizer fails to start.
import { it } from 'vitest';
import { warnOnce } from '../../../src/util/log.js';

it('falls back to the reference rasterizer', () => {
  warnOnce('gpu-raster', 'GPU rasterizer failed to start (harness fixture); using the reference rasterizer');
});
