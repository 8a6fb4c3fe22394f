import { describe, it, expect } from 'vitest';
import { BufferPool, GpuLimitError, grid, alignSize } from '../src/gpu/buffers.js';

/** A stand-in device: BufferPool only needs limits and createBuffer. */
function fakeDevice(limit: number) {
  const made: { size: number; destroyed: boolean }[] = [];
  const device = {
    limits: { maxStorageBufferBindingSize: limit },
    createBuffer: ({ size }: { size: number }) => {
      const b = { size, destroyed: false, destroy() { b.destroyed = true; } };
      made.push(b);
      return b;
    },
  } as unknown as GPUDevice;
  return { device, made };
}

describe('GPU buffer helpers', () => {
  it('grows named buffers on demand and retires old ones only when told', () => {
    const { device, made } = fakeDevice(1 << 20);
    const pool = new BufferPool(device);
    const a = pool.get('x', 100);
    expect(a.size).toBe(100);
    expect(pool.get('x', 64)).toBe(a);
    const b = pool.get('x', 1000);
    expect(b.size).toBeGreaterThanOrEqual(1000);
    expect(made[0]!.destroyed).toBe(false); // may still be used by recorded work
    pool.retire();
    expect(made[0]!.destroyed).toBe(true);
    expect(pool.bytes()).toBe(b.size);
  });

  it('throws a clear limit error instead of a silent cap', () => {
    const { device } = fakeDevice(4096);
    const pool = new BufferPool(device);
    expect(() => pool.get('inst-grad', 5000)).toThrow(GpuLimitError);
    expect(() => pool.get('inst-grad', 5000)).toThrow(/inst-grad.*maxStorageBufferBindingSize/);
    // growth by 1.5× is capped at the limit rather than failing
    pool.get('y', 3000);
    expect(pool.get('y', 4000).size).toBe(4096);
  });

  it('splits large dispatches over two dimensions', () => {
    expect(grid(10)).toEqual([10, 1]);
    const [x, y] = grid(200_000);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y).toBeGreaterThanOrEqual(200_000);
    expect(alignSize(0)).toBe(16);
    expect(alignSize(17)).toBe(20);
  });
});
