import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { encodeSpz, decodeSpz, writeSpz, readSpz, encodeSpzRaw, type SpzContents } from '../src/io/spz.js';
import { encodeGaussianPly } from '../src/io/ply.js';
import type { GaussianParams } from '../src/core/gaussians.js';
import { UserError } from '../src/util/errors.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomGaussians(n: number, seed = 3): GaussianParams {
  const r = rng(seed);
  const f = (len: number, scale: number, off = 0): Float32Array => Float32Array.from({ length: len }, () => off + (r() - 0.5) * scale);
  return { count: n, means: f(3 * n, 20), logScales: f(3 * n, 8, -4), quats: f(4 * n, 2), opacityLogits: f(n, 10), sh: f(48 * n, 1.6) };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Angle (degrees) between the rotations of two (w,x,y,z) quaternions, sign-insensitive. */
function quatAngleDeg(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  let dot = 0, na = 0, nb = 0;
  for (let k = 0; k < 4; k++) { dot += a[ai + k]! * b[bi + k]!; na += a[ai + k]! ** 2; nb += b[bi + k]! ** 2; }
  return (2 * Math.acos(Math.min(1, Math.abs(dot) / Math.sqrt(na * nb))) * 180) / Math.PI;
}

/** Check `got` against the original within SPZ quantisation steps. */
function expectWithinQuantisation(orig: GaussianParams, got: SpzContents, maxRotDeg: number, shDegree = 3, slack = 1): void {
  const n = orig.count;
  expect(got.params.count).toBe(n);
  for (let i = 0; i < 3 * n; i++) {
    expect(Math.abs(got.params.means[i]! - orig.means[i]!)).toBeLessThanOrEqual(slack * 0.5 / 4096 + 1e-5);
    expect(Math.abs(got.params.logScales[i]! - orig.logScales[i]!)).toBeLessThanOrEqual(slack * 0.5 / 16 + 1e-6);
  }
  for (let g = 0; g < n; g++) {
    expect(Math.abs(sigmoid(got.params.opacityLogits[g]!) - sigmoid(orig.opacityLogits[g]!))).toBeLessThanOrEqual(slack * 0.5 / 255 + 1e-6);
    expect(quatAngleDeg(got.params.quats, 4 * g, orig.quats, 4 * g)).toBeLessThan(maxRotDeg);
    for (let c = 0; c < 3; c++) expect(Math.abs(got.params.sh[48 * g + c]! - orig.sh[48 * g + c]!)).toBeLessThanOrEqual(slack * 0.5 / 255 / 0.15 + 1e-5);
    for (let k = 1; k < 16; k++) {
      const tol = k <= 3 ? 4 / 128 + 0.5 / 128 : 8 / 128 + 0.5 / 128;
      for (let c = 0; c < 3; c++) {
        const want = k < (shDegree + 1) ** 2 ? Math.max(-1, Math.min(127 / 128, orig.sh[48 * g + 3 * k + c]!)) : 0;
        expect(Math.abs(got.params.sh[48 * g + 3 * k + c]! - want)).toBeLessThanOrEqual(slack * tol + 1e-6);
      }
    }
  }
}

async function loadSpark(): Promise<{ transcodeSpz: (input: unknown) => Promise<{ fileBytes: Uint8Array }> } | null> {
  try {
    return (await import('@sparkjsdev/spark')) as never;
  } catch {
    return null;
  }
}

/** Spark's own decoder + encoder (its WASM loads asynchronously: retry until it is ready). */
async function sparkTranscode(spark: NonNullable<Awaited<ReturnType<typeof loadSpark>>>, bytes: Uint8Array, name: string): Promise<Uint8Array> {
  let last: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      return (await spark.transcodeSpz({ inputs: [{ fileBytes: new Uint8Array(bytes), pathOrUrl: name }], maxSh: 3 })).fileBytes;
    } catch (e) {
      last = e;
      if (!String(e).includes('__wbindgen')) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw last;
}

describe('.spz', () => {
  it('round-trips v3 within the quantisation steps, and v2 with coarser rotations', async () => {
    const g = randomGaussians(200);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'r2s-spz-')), 'splats.spz');
    await writeSpz(file, g, 3, { antialiased: true });
    const v3 = await readSpz(file);
    expect([v3.version, v3.shDegree, v3.fractionalBits, v3.antialiased]).toEqual([3, 3, 12, true]);
    expectWithinQuantisation(g, v3, 0.25);
    // v2 rebuilds w from x, y, z: accurate while |w| is not small
    const h = randomGaussians(200, 9);
    for (let i = 0; i < 200; i++) h.quats[4 * i] = 1.5 + Math.abs(h.quats[4 * i]!) * (i % 2 ? 1 : -1);
    const v2 = decodeSpz(encodeSpz(h, 3, { version: 2 }));
    expect(v2.version).toBe(2);
    expectWithinQuantisation(h, v2, 2);
    // lower degree: higher coefficients dropped, and decode as zero
    const d1 = decodeSpz(encodeSpz(g, 1));
    expect(d1.shDegree).toBe(1);
    expectWithinQuantisation(g, d1, 0.25, 1);
  });

  it('lays bytes out as Spark 2.2 and Niantic read them', () => {
    const g: GaussianParams = {
      count: 1,
      means: Float32Array.from([1.5, -2, 0.000244140625]),
      logScales: Float32Array.from([-10, -4, 5.9375]),
      quats: Float32Array.from([0.6, 0, -0.8, 0]), // (w, x, y, z): largest |component| is y
      opacityLogits: Float32Array.from([0]),
      sh: Float32Array.from({ length: 48 }, (_, i) => (i === 0 ? 1 : i === 3 ? 0.5 : i === 47 ? -0.25 : 0)),
    };
    const raw = zlib.gunzipSync(encodeSpz(g, 3));
    expect(raw.equals(encodeSpzRaw(g, 3))).toBe(true);
    expect(decodeSpz(raw)).toEqual(decodeSpz(encodeSpz(g, 3)));
    expect(raw.length).toBe(16 + 9 + 1 + 3 + 3 + 4 + 45);
    expect(raw.readUInt32LE(0)).toBe(0x5053474e);
    expect(raw.subarray(0, 4).toString('latin1')).toBe('NGSP');
    expect([raw.readUInt32LE(4), raw.readUInt32LE(8), raw[12], raw[13], raw[14], raw[15]]).toEqual([3, 1, 3, 12, 0, 0]);
    // positions: 24-bit two's complement, value · 2^12
    const i24 = (o: number): number => (raw.readIntLE(o, 3));
    expect([i24(16), i24(19), i24(22)]).toEqual([6144, -8192, 1]);
    expect(raw[25]).toBe(128); // alpha: sigmoid(0) · 255 = 127.5 → 128
    expect([raw[26], raw[27], raw[28]]).toEqual([166, 128, 128]); // colour: (1 · 0.15 + 0.5) · 255 = 165.75
    expect([raw[29], raw[30], raw[31]]).toEqual([0, 96, 255]); // scales: (ln s + 10) · 16
    // rotation, SPZ order (x, y, z, w) = (0, −0.8, 0, 0.6): largest is index 1 and negative, so
    // every sign flips (zeros become −0, as in Spark's encoder); w = 0.6 → sign 1, mag 0.6/√½·511;
    // x lands in the high bits, w in the low ones
    const comp = raw.readUInt32LE(32);
    expect(comp >>> 30).toBe(1);
    const mag = Math.round((0.6 / Math.SQRT1_2) * 511);
    expect(comp & 0x3fffffff).toBe((512 << 20) | (512 << 10) | 512 | mag);
    // SH: per coefficient r, g, b; coefficient 1 red = 0.5 → 192 (5-bit buckets of 8), last = −0.25 → 96
    expect(raw[36]).toBe(192);
    expect(raw[37]).toBe(128);
    expect(raw[36 + 44]).toBe(96);
  });

  it('rejects other files with user errors', () => {
    expect(() => decodeSpz(Buffer.from('not gzip'), 'a.spz')).toThrow(/a\.spz: not gzip-compressed/);
    expect(() => decodeSpz(zlib.gzipSync(Buffer.alloc(20)), 'b.spz')).toThrow(/b\.spz: bad magic/);
    const raw = encodeSpzRaw(randomGaussians(3), 3);
    raw.writeUInt32LE(4, 4);
    expect(() => decodeSpz(zlib.gzipSync(raw), 'c.spz')).toThrow(/c\.spz: version 4 is not supported/);
    const ok = encodeSpzRaw(randomGaussians(3), 3);
    expect(() => decodeSpz(zlib.gzipSync(ok.subarray(0, ok.length - 1)), 'd.spz')).toThrow(UserError);
  });

  it("Spark's own parser decodes our .spz and our .ply", async (ctx) => {
    const spark = await loadSpark();
    if (!spark) return ctx.skip();
    const g = randomGaussians(300, 5);
    // Spark 2.2 re-encodes as v2, which rebuilds w from x, y, z: keep |w| away from 0 to compare
    for (let i = 0; i < 300; i++) g.quats[4 * i] = 1.5 + Math.abs(g.quats[4 * i]!) * (i % 2 ? 1 : -1);
    const ours = encodeSpz(g, 3);
    // Spark decodes our v3 file and re-encodes it (Spark 2.2 writes v2): every byte quantity
    // survives exactly, rotations within v2's 8-bit steps
    const viaSpark = decodeSpz(await sparkTranscode(spark, ours, 'ours.spz'));
    const mine = decodeSpz(ours);
    expect(viaSpark.shDegree).toBe(3);
    expect(viaSpark.params.count).toBe(300);
    expect(viaSpark.params.means).toEqual(mine.params.means);
    expect(viaSpark.params.logScales).toEqual(mine.params.logScales);
    for (let i = 0; i < 300; i++) {
      expect(viaSpark.params.opacityLogits[i]).toBeCloseTo(mine.params.opacityLogits[i]!, 4);
      expect(quatAngleDeg(viaSpark.params.quats, 4 * i, mine.params.quats, 4 * i)).toBeLessThan(2);
      for (let k = 0; k < 48; k++) expect(viaSpark.params.sh[48 * i + k]).toBeCloseTo(mine.params.sh[48 * i + k]!, 4);
    }
    // Spark reading our .ply (3DGS layout, channel-major f_rest) gives the same splats
    const fromPly = decodeSpz(await sparkTranscode(spark, encodeGaussianPly(g, 3), 'ours.ply'));
    // Spark keeps its own compact copy in between (log scales, colours in 8–16 bits), so allow
    // a little more than one SPZ step
    expectWithinQuantisation(g, fromPly, 2, 3, 1.5);
  });
});
