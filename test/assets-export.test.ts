/** Asset-frame transforms of Gaussians (SH rotated too), splats.glb, frame construction. */
import { describe, expect, it } from 'vitest';
import { SH_COEFFS, type GaussianParams } from '../src/core/gaussians.js';
import { shBasis } from '../src/scene/raster/sh.js';
import { quatToMat, expSO3 } from '../src/geometry/rotation.js';
import { transformGaussians } from '../src/assets/export/transform-gaussians.js';
import { rotationUpToY, assetFrame } from '../src/assets/export/frame.js';
import { splatsToGlb } from '../src/assets/export/splats-glb.js';
import { validateGlb } from './assets-fixtures.js';
import { Rng } from '../src/util/rng.js';

function randomGaussians(n: number, seed = 3): GaussianParams {
  const r = new Rng(seed);
  const f = (k: number, lo = -1, hi = 1) => Float32Array.from({ length: k }, () => r.uniform(lo, hi));
  return { count: n, means: f(3 * n), logScales: f(3 * n, -3, -1), quats: f(4 * n), opacityLogits: f(n), sh: f(n * SH_COEFFS * 3, -0.5, 0.5) };
}

function colour(p: GaussianParams, i: number, d: number[]): number[] {
  const Y = new Float64Array(16);
  shBasis(3, d[0]!, d[1]!, d[2]!, Y);
  return [0, 1, 2].map((c) => Y.reduce((s, y, k) => s + y * p.sh[i * 48 + 3 * k + c]!, 0));
}

function covariance(p: GaussianParams, i: number): number[] {
  const q = Array.from(p.quats.subarray(4 * i, 4 * i + 4));
  const l = Math.hypot(...q);
  const R = quatToMat(q.map((v) => v / l));
  const s = [0, 1, 2].map((a) => Math.exp(2 * p.logScales[3 * i + a]!));
  return [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => R[3 * r]! * s[0]! * R[3 * c]! + R[3 * r + 1]! * s[1]! * R[3 * c + 1]! + R[3 * r + 2]! * s[2]! * R[3 * c + 2]!));
}

describe('transformGaussians', () => {
  const src = randomGaussians(20);
  const R = expSO3([0.3, -1.1, 0.7]);
  const T = { R, s: 2.5, t: [1, -2, 0.5] as [number, number, number] };
  const out = transformGaussians(src, T);

  it('view-dependent colour follows the rotation (SH degrees 1–3)', () => {
    const r = new Rng(9);
    for (let i = 0; i < src.count; i++) for (let k = 0; k < 5; k++) {
      const d = [r.uniform(-1, 1), r.uniform(-1, 1), r.uniform(-1, 1)];
      const l = Math.hypot(...d);
      const dn = d.map((v) => v / l);
      const Rd = [0, 1, 2].map((a) => R[3 * a]! * dn[0]! + R[3 * a + 1]! * dn[1]! + R[3 * a + 2]! * dn[2]!);
      const a = colour(src, i, dn), b = colour(out, i, Rd);
      for (let c = 0; c < 3; c++) expect(b[c]).toBeCloseTo(a[c]!, 5);
    }
  });

  it('a lower SH degree rotates its bands exactly as the full transform and leaves the bands above it zero', () => {
    const d1 = transformGaussians(src, T, undefined, 1);
    for (let i = 0; i < src.count; i++) {
      for (let k = 0; k < 4 * 3; k++) expect(d1.sh[i * 48 + k]).toBe(out.sh[i * 48 + k]);
      for (let k = 4 * 3; k < 48; k++) expect(d1.sh[i * 48 + k]).toBe(0);
    }
    expect(Array.from(d1.means)).toEqual(Array.from(out.means));
  });

  it('covariances become s²·R·Σ·Rᵀ and means s·R·x + t', () => {
    for (let i = 0; i < src.count; i++) {
      const S = covariance(src, i), So = covariance(out, i);
      const RS = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => R[3 * r]! * S[c]! + R[3 * r + 1]! * S[3 + c]! + R[3 * r + 2]! * S[6 + c]!));
      const want = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => T.s * T.s * (RS[3 * r]! * R[3 * c]! + RS[3 * r + 1]! * R[3 * c + 1]! + RS[3 * r + 2]! * R[3 * c + 2]!)));
      for (let k = 0; k < 9; k++) expect(So[k]).toBeCloseTo(want[k]!, 4);
      const x = Array.from(src.means.subarray(3 * i, 3 * i + 3));
      for (let a = 0; a < 3; a++) expect(out.means[3 * i + a]).toBeCloseTo(T.s * (R[3 * a]! * x[0]! + R[3 * a + 1]! * x[1]! + R[3 * a + 2]! * x[2]!) + T.t[a]!, 4);
    }
  });
});

describe('asset frame', () => {
  it('takes up to +Y and puts the pivot at the bottom centre', () => {
    const R = rotationUpToY([0.2, -0.3, 0.9]);
    const u = [0.2, -0.3, 0.9].map((v) => v / Math.hypot(0.2, -0.3, 0.9));
    expect(R[3]! * u[0]! + R[4]! * u[1]! + R[5]! * u[2]!).toBeCloseTo(1, 9);
    const p = randomGaussians(500);
    for (let i = 0; i < p.count; i++) p.means[3 * i + 2] = Math.abs(p.means[3 * i + 2]!) + 3; // z in [3, 4]
    const f = assetFrame(p, Int32Array.from({ length: 500 }, (_, i) => i), [0, 0, 1], 2, undefined, 0);
    const out = transformGaussians(p, f.T);
    let minY = Infinity;
    for (let i = 0; i < p.count; i++) minY = Math.min(minY, out.means[3 * i + 1]!);
    expect(minY).toBeCloseTo(0, 5);
    expect(f.extents[1]).toBeLessThanOrEqual(2.0001);
  });
});

describe('splats.glb', () => {
  it('KHR_gaussian_splatting through splat-transform on Node 20; valid but for the new attribute names', async () => {
    const bytes = await splatsToGlb(randomGaussians(50), 3);
    const json = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true))));
    expect(json.extensionsUsed).toContain('KHR_gaussian_splatting');
    const attrs = Object.keys(json.meshes[0].primitives[0].attributes as Record<string, number>);
    // gltf-validator 2.0.0-dev.3.10 predates the extension: it flags each "KHR_gaussian_splatting:*"
    // attribute name as invalid; anything else would be a real error
    const r = await validateGlb(bytes);
    expect(new Set(r.messages.map((m) => m.split(':')[0]))).toEqual(new Set(['MESH_PRIMITIVE_INVALID_ATTRIBUTE']));
    expect(r.numErrors).toBe(attrs.filter((a) => a.startsWith('KHR_gaussian_splatting:')).length);
  });
});
