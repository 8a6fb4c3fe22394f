// Harness fixture (must FAIL): a submit that WebGPU rejects, nobody capturing the error (the
// command buffer is dropped whole; its outputs silently keep their old contents).
import { it } from 'vitest';
import { requireDevice } from '../../../src/gpu/device.js';
import { tinyKernel } from './kernel.js';

it('submits a pass whose output buffer was destroyed', async () => {
  const { device } = await requireDevice();
  const k = tinyKernel(device, 'rejected-pass');
  const cmd = k.dispatch(1);
  k.buffer.destroy();
  device.queue.submit([cmd]);
  await device.queue.onSubmittedWorkDone();
});
