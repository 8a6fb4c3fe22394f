import { describe, it, expect, vi } from 'vitest';
import { encodeGaussianPly, decodeGaussianPly } from '../src/io/ply.js';
import { decodeSpzRaw, SPZ_MAGIC } from '../src/io/spz.js';
import type { GaussianParams } from '../src/core/gaussians.js';
import { UserError } from '../src/util/errors.js';
import * as log from '../src/util/log.js';

function scene(n: number): GaussianParams {
  const p: GaussianParams = { count: n, means: new Float32Array(3 * n), logScales: new Float32Array(3 * n).fill(-2), quats: new Float32Array(4 * n), opacityLogits: new Float32Array(n), sh: new Float32Array(48 * n) };
  for (let i = 0; i < n; i++) { p.quats[i * 4] = 1; p.means[i * 3] = i; }
  return p;
}

describe('non-finite splats in files', () => {
  it('the .ply reader drops NaN/Inf splats with a warning naming the count and first index', () => {
    const p = scene(5);
    p.means[3 * 2 + 1] = NaN; // splat 2
    p.sh[48 * 4 + 7] = Infinity; // splat 4
    const spy = vi.spyOn(log, 'warn').mockImplementation(() => {});
    const { params } = decodeGaussianPly(encodeGaussianPly(p, 3), 'bad.ply');
    expect(params.count).toBe(3);
    expect(Array.from(params.means.filter((_, i) => i % 3 === 0))).toEqual([0, 1, 3]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(String(spy.mock.calls[0]![0])).toMatch(/bad\.ply: 2 of 5 splats have NaN\/Inf values \(first: #2\)/);
    spy.mockRestore();
  });

  it('a .ply with no finite splat is a one-line user error', () => {
    const p = scene(2);
    p.opacityLogits.fill(NaN);
    expect(() => decodeGaussianPly(encodeGaussianPly(p, 0), 'nan.ply')).toThrow(UserError);
    expect(() => decodeGaussianPly(encodeGaussianPly(p, 0), 'nan.ply')).toThrow(/nan\.ply: all 2 splats have NaN\/Inf values/);
  });

  it('the .spz reader (version 1: float16 positions can be NaN/Inf) drops them too', () => {
    const n = 3;
    const raw = new Uint8Array(16 + n * (6 + 1 + 3 + 3 + 3));
    const dv = new DataView(raw.buffer);
    dv.setUint32(0, SPZ_MAGIC, true); dv.setUint32(4, 1, true); dv.setUint32(8, n, true);
    raw[12] = 0; raw[13] = 12;
    const half = [0x3c00, 0, 0, 0x7e00 /* NaN */, 0, 0, 0x7c00 /* +Inf */, 0, 0];
    half.forEach((h, i) => dv.setUint16(16 + 2 * i, h, true));
    raw.fill(128, 16 + 6 * n);
    const spy = vi.spyOn(log, 'warn').mockImplementation(() => {});
    const c = decodeSpzRaw(raw, 'v1.spz');
    expect(c.params.count).toBe(1);
    expect(c.params.means[0]).toBe(1);
    expect(String(spy.mock.calls[0]![0])).toMatch(/v1\.spz: 2 of 3 splats have NaN\/Inf values \(first: #1\)/);
    spy.mockRestore();
    half.fill(0x7e00, 0, 3);
    half.forEach((h, i) => dv.setUint16(16 + 2 * i, h, true));
    expect(() => decodeSpzRaw(raw, 'v1.spz')).toThrow(/all 3 splats have NaN\/Inf/);
  });
});
