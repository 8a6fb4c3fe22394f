// Harness fixture (must FAIL): 70 000 workgroups exceed Vulkan's maxComputeWorkGroupCount[0]
// (65 535 on lavapipe and SwiftShader). Dawn would refuse it; with its validation skipped
// (R2S_DAWN_FLAGS in the harness config) only the Vulkan validation layer sees it.
import { it } from 'vitest';
import { requireDevice } from '../../../src/gpu/device.js';
import { tinyKernel } from './kernel.js';

it('dispatches beyond maxComputeWorkGroupCount', async () => {
  const { device } = await requireDevice();
  const k = tinyKernel(device, 'too-many-groups');
  device.queue.submit([k.dispatch(70_000)]);
  await device.queue.onSubmittedWorkDone();
});
