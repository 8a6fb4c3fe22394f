import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  writeGaussianPly, readGaussianPly, encodeGaussianPly, decodeGaussianPly, gaussianPlyProperties,
  readPointCloudPly, writePointCloudPly, decodePointCloudPly,
} from '../src/io/ply.js';
import type { GaussianParams } from '../src/core/gaussians.js';
import { UserError } from '../src/util/errors.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'r2s-ply-'));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function randomGaussians(n: number, seed = 1): GaussianParams {
  const r = rng(seed);
  const f = (len: number, scale: number, off = 0): Float32Array => Float32Array.from({ length: len }, () => off + (r() - 0.5) * scale);
  return { count: n, means: f(3 * n, 10), logScales: f(3 * n, 4, -4), quats: f(4 * n, 2), opacityLogits: f(n, 8), sh: f(48 * n, 1) };
}

describe('Gaussian .ply', () => {
  it('round-trips exactly at SH degree 3 with the standard 3DGS layout', async () => {
    const g = randomGaussians(57);
    const file = path.join(tmp(), 'splats.ply');
    await writeGaussianPly(file, g, 3);
    const bytes = readFileSync(file);
    const headerEnd = bytes.indexOf('end_header\n') + 'end_header\n'.length;
    const header = bytes.subarray(0, headerEnd).toString('latin1');
    expect(header.startsWith('ply\nformat binary_little_endian 1.0\n')).toBe(true);
    const props = [...header.matchAll(/property float (\S+)/g)].map((m) => m[1]);
    expect(props).toEqual(gaussianPlyProperties(3));
    expect(props.length).toBe(62);
    expect(bytes.length - headerEnd).toBe(57 * 62 * 4);
    // f_rest is channel-major: f_rest_0 = coef 1 red, f_rest_1 = coef 2 red, f_rest_15 = coef 1 green
    const row = (g0: number, k: number): number => bytes.readFloatLE(headerEnd + (g0 * 62 + k) * 4);
    expect(row(5, 6)).toBe(g.sh[5 * 48 + 0]); // f_dc_0
    expect(row(5, 9)).toBe(g.sh[5 * 48 + 3 * 1 + 0]);
    expect(row(5, 10)).toBe(g.sh[5 * 48 + 3 * 2 + 0]);
    expect(row(5, 9 + 15)).toBe(g.sh[5 * 48 + 3 * 1 + 1]);
    expect(row(5, 9 + 44)).toBe(g.sh[5 * 48 + 3 * 15 + 2]);
    expect(row(5, 54)).toBe(g.opacityLogits[5]);
    expect(row(5, 58)).toBe(g.quats[20]); // rot_0 = w
    const back = await readGaussianPly(file);
    expect(back.shDegree).toBe(3);
    expect(back.params).toEqual(g);
  });

  it('reads lower SH degrees (fewer f_rest) with the missing coefficients zero', () => {
    const g = randomGaussians(9, 2);
    for (const deg of [0, 1, 2]) {
      const buf = encodeGaussianPly(g, deg);
      const back = decodeGaussianPly(buf, 'x.ply');
      expect(back.shDegree).toBe(deg);
      const used = (deg + 1) ** 2;
      for (let i = 0; i < 9; i++) {
        for (let k = 0; k < 16; k++) for (let c = 0; c < 3; c++) expect(back.params.sh[i * 48 + 3 * k + c]).toBe(k < used ? g.sh[i * 48 + 3 * k + c] : 0);
      }
      expect(back.params.means).toEqual(g.means);
    }
  });

  it('accepts header variations: ascii, CRLF, comments, reordered and extra properties, doubles, other elements', () => {
    const ascii = [
      'ply', 'format ascii 1.0', 'comment made by hand', 'obj_info whatever',
      'element face 1', 'property list uchar int vertex_indices',
      'element vertex 2',
      'property double opacity', 'property float y', 'property float x', 'property float z',
      'property float f_dc_0', 'property float f_dc_1', 'property float f_dc_2', 'property uchar red',
      'property float scale_0', 'property float scale_1', 'property float scale_2',
      'property float rot_0', 'property float rot_1', 'property float rot_2', 'property float rot_3',
      'end_header',
      '3 0 1 1',
      '0.5 2 1 3 0.1 0.2 0.3 7 -1 -2 -3 1 0 0 0',
      '-0.25 5 4 6 0.4 0.5 0.6 8 -4 -5 -6 0 1 0 0',
      '',
    ].join('\r\n');
    const { params, shDegree } = decodeGaussianPly(Buffer.from(ascii, 'latin1'), 'hand.ply');
    expect(shDegree).toBe(0);
    expect(Array.from(params.means)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(params.opacityLogits)).toEqual([0.5, -0.25]);
    expect(Array.from(params.logScales)).toEqual([-1, -2, -3, -4, -5, -6]);
    expect(Array.from(params.quats)).toEqual([1, 0, 0, 0, 0, 1, 0, 0]);
    expect(params.sh[48 + 2]).toBeCloseTo(0.6, 6);
    // the same as big-endian binary
    const header = ascii.split('\r\n').slice(0, 23).join('\n').replace('format ascii', 'format binary_big_endian') + '\n';
    const body = Buffer.alloc(1 + 3 * 4 + 2 * (8 + 6 * 4 + 1 + 7 * 4));
    let o = 0;
    body.writeUInt8(3, o++); for (const v of [0, 1, 1]) { body.writeInt32BE(v, o); o += 4; }
    for (const rowv of [[0.5, 2, 1, 3, 0.1, 0.2, 0.3, 7, -1, -2, -3, 1, 0, 0, 0], [-0.25, 5, 4, 6, 0.4, 0.5, 0.6, 8, -4, -5, -6, 0, 1, 0, 0]]) {
      body.writeDoubleBE(rowv[0]!, o); o += 8;
      for (let k = 1; k < 7; k++) { body.writeFloatBE(rowv[k]!, o); o += 4; }
      body.writeUInt8(rowv[7]!, o++);
      for (let k = 8; k < 15; k++) { body.writeFloatBE(rowv[k]!, o); o += 4; }
    }
    expect(o).toBe(body.length);
    const be = decodeGaussianPly(Buffer.concat([Buffer.from(header, 'latin1'), body]), 'be.ply');
    expect(be.params).toEqual(params);
  });

  it('rejects truncated files and point clouds with user errors naming the file', () => {
    const buf = encodeGaussianPly(randomGaussians(4), 3);
    expect(() => decodeGaussianPly(buf.subarray(0, buf.length - 3), 'cut.ply')).toThrow(/cut\.ply: truncated/);
    expect(() => decodeGaussianPly(buf.subarray(0, buf.length - 3), 'cut.ply')).toThrow(UserError);
    const cloud = Buffer.from('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n');
    expect(() => decodeGaussianPly(cloud, 'pts.ply')).toThrow(/pts\.ply: no "f_dc_0" property/);
    expect(() => decodeGaussianPly(Buffer.from('hello'), 'x.ply')).toThrow(/x\.ply: does not start with "ply"/);
  });
});

describe('point-cloud .ply', () => {
  it('reads x y z red green blue and round-trips what it writes', async () => {
    const ascii = 'ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n1 2 3 255 0 10\n-1 -2 -3.5 1 2 3\n';
    const pc = decodePointCloudPly(Buffer.from(ascii), 'pc.ply');
    expect(pc.count).toBe(2);
    expect(Array.from(pc.positions)).toEqual([1, 2, 3, -1, -2, -3.5]);
    expect(Array.from(pc.colors!)).toEqual([255, 0, 10, 1, 2, 3]);
    const file = path.join(tmp(), 'pc.ply');
    await writePointCloudPly(file, pc);
    expect(await readPointCloudPly(file)).toEqual(pc);
    writeFileSync(file, ascii.replace(/property uchar (red|green|blue)\n/g, '').replace(' 255 0 10', '').replace(' 1 2 3\n', '\n'));
    expect((await readPointCloudPly(file)).colors).toBeNull();
  });
});
