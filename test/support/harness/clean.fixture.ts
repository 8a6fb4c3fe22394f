// Harness fixture (must PASS in the harness's "strict" project): a valid dispatch, read back.
import { it, expect } from 'vitest';
import { requireDevice } from '../../../src/gpu/device.js';
import { tinyKernel } from './kernel.js';

it('runs a valid kernel', async () => {
  const { device } = await requireDevice();
  const k = tinyKernel(device, 'valid-pass');
  const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(k.buffer, 0, read, 0, 16);
  device.queue.submit([k.dispatch(4), enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  expect(Array.from(new Uint32Array(read.getMappedRange().slice(0)))).toEqual([1, 2, 3, 4]);
  read.unmap();
});
