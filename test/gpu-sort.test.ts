import { describe, it, expect } from 'vitest';
import { getDevice } from '../src/gpu/device.js';
import { BufferPool, upload, readU32 } from '../src/gpu/buffers.js';
import { PrefixSum } from '../src/gpu/scan.js';
import { RadixSort } from '../src/gpu/sort/radix-sort.js';
import { rng } from '../src/scene/raster/random-scene.js';

const ctx = await getDevice();

describe.skipIf(!ctx)('GPU prefix sum and radix sort', () => {
  it('exclusive scan matches a CPU scan (multi-level)', async () => {
    const device = ctx!.device;
    const pool = new BufferPool(device);
    const scan = await PrefixSum.create(device, pool);
    for (const n of [1, 255, 256, 257, 70000]) {
      const r = rng(n);
      const data = Uint32Array.from({ length: n }, () => Math.floor(r() * 100));
      const buf = pool.get(`d${n}`, n * 4);
      upload(device, buf, data);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      scan.encode(pass, buf, n);
      pass.end();
      device.queue.submit([enc.finish()]);
      const got = await readU32(device, buf, n);
      let s = 0;
      const want = data.map((v) => { const o = s; s += v; return o; });
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });

  for (const portable of [false, true]) it(`sorts keys stably by the requested bits${portable ? ' (portable scatter, no subgroups)' : ''}`, async () => {
    const device = ctx!.device;
    const pool = new BufferPool(device);
    if (portable) process.env.R2S_NO_SUBGROUPS = '1';
    const sort = await RadixSort.create(device, pool).finally(() => delete process.env.R2S_NO_SUBGROUPS);
    for (const [n, bits] of [[1000, 32], [5000, 12], [300, 4]] as const) {
      const r = rng(n + bits);
      const mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
      // few distinct keys in the small cases so stability matters
      const keys = Uint32Array.from({ length: n }, () => (bits === 32 ? Math.floor(r() * 2 ** 32) : Math.floor(r() * 37)) & mask);
      const vals = Uint32Array.from({ length: n }, (_, i) => i);
      const a = { keys: pool.get('ak', n * 4), values: pool.get('av', n * 4) };
      const b = { keys: pool.get('bk', n * 4), values: pool.get('bv', n * 4) };
      upload(device, a.keys, keys);
      upload(device, a.values, vals);
      const enc = device.createCommandEncoder();
      const res = sort.encode(enc, a, b, n, bits);
      device.queue.submit([enc.finish()]);
      const gk = await readU32(device, res.keys, n);
      const gv = await readU32(device, res.values, n);
      const idx = Array.from(vals).sort((x, y) => keys[x]! - keys[y]! || x - y);
      expect(Array.from(gv)).toEqual(idx);
      expect(Array.from(gk)).toEqual(idx.map((i) => keys[i]!));
    }
  });
});
