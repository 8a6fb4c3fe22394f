/**
 * NaN safety by construction (issue 22): the SSIM gradient never divides by A1 or A2, and a
 * Gaussian with any non-finite parameter is culled by bit tests, on the GPU and in the reference.
 * The SSIM windows are built to hit the edges exactly (A2 = 0, A1 = 0, both, a denormal A2): the
 * old expression S·(… − 2μy/A2 …) is 0·(0/0) = NaN there, which this file shows on the CPU too.
 */
import { describe, it, expect } from 'vitest';
import { getDevice } from '../src/gpu/device.js';
import { COPY_SRC, STORAGE, computePipeline, bindGroup, readF32, upload } from '../src/gpu/buffers.js';
import { ssimTermsWgsl } from '../src/gpu/loss/image-loss.js';
import { ssimWindowTerms } from '../src/scene/train/image-loss.js';
import { SSIM_C1, SSIM_C2 } from '../src/core/ssim.js';
import { GpuRasterizer } from '../src/gpu/raster/rasterizer.js';
import { defaultRasterOptions, type RasterCamera } from '../src/core/raster.js';
import type { GaussianParams } from '../src/core/gaussians.js';
import { rasterizeReference, rasterizeReferenceBackward } from '../src/scene/raster/reference.js';
import { rng } from '../src/scene/raster/random-scene.js';

const ctx = await getDevice();
const f = Math.fround;
const C1 = f(SSIM_C1), C2 = f(SSIM_C2);

/** Window moments (μx, μy, E[x²], E[y²], E[xy]) that land on the edges in f32. */
const EDGE_WINDOWS: [string, number[]][] = [
  ['A2 = 0 (anti-correlated, zero means)', [0, 0, 0.25, 0.25, -C2 / 2]],
  ['A1 = 0 (opposite-signed means)', [0.5, -C1, 0.5, 0.5, 0.1]],
  ['A1 = A2 = 0', [0.5, -C1, 0.5, 0.5, 0.5 * -C1 - C2 / 2]],
  ['A2 denormal', [0, 0, 0.25, 0.25, f(-C2 / 2 + 1e-40)]],
  ['flat, equal windows', [0.3, 0.3, 0.09, 0.09, 0.09]],
  ['large values (HDR)', [40, 35, 1700, 1300, 1450]],
];

/** The gradient as it was written before (divides by A1 and A2). */
function oldDMu(ux: number, uy: number, exx: number, eyy: number, exy: number): number {
  const A1 = 2 * ux * uy + C1, A2 = 2 * (exy - ux * uy) + C2;
  const B1 = ux * ux + uy * uy + C1, B2 = exx - ux * ux + eyy - uy * uy + C2;
  const S = (A1 * A2) / (B1 * B2);
  return S * ((2 * uy) / A1 - (2 * uy) / A2 - (2 * ux) / B1 + (2 * ux) / B2);
}

describe('SSIM window terms are finite at the edges (reference)', () => {
  it('the old expression is NaN on the edge windows; the new one is finite and equals it elsewhere', () => {
    expect(Number.isNaN(oldDMu(...(EDGE_WINDOWS[0]![1] as [number, number, number, number, number])))).toBe(true);
    expect(Number.isNaN(oldDMu(...(EDGE_WINDOWS[1]![1] as [number, number, number, number, number])))).toBe(true);
    for (const [, w] of EDGE_WINDOWS) {
      const t = ssimWindowTerms(w[0]!, w[1]!, w[2]!, w[3]!, w[4]!);
      for (const v of [t.S, t.dMu, t.dXX, t.dXY]) expect(Number.isFinite(v)).toBe(true);
    }
    // away from the edges both forms agree
    const r = rng(3);
    for (let k = 0; k < 200; k++) {
      const ux = r(), uy = r(), exx = ux * ux + 0.1 * r(), eyy = uy * uy + 0.1 * r(), exy = ux * uy + 0.05 * (r() - 0.5);
      const t = ssimWindowTerms(ux, uy, exx, eyy, exy);
      expect(Math.abs(t.dMu - oldDMu(ux, uy, exx, eyy, exy))).toBeLessThan(1e-5 * Math.max(1, Math.abs(t.dMu)));
    }
  });
});

describe.skipIf(!ctx)('SSIM window terms on the GPU (the loss kernel\'s own function)', () => {
  it('finite at the edges and within 1e-4 of the reference', async () => {
    const d = ctx!.device;
    const code = /* wgsl */ `
const C1: f32 = ${SSIM_C1};
const C2: f32 = ${SSIM_C2};
${ssimTermsWgsl}
@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read_write> outp: array<vec4f>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= arrayLength(&outp)) { return; }
  let o = 5u * i;
  outp[i] = ssimTerms(inp[o], inp[o + 1u], inp[o + 2u], inp[o + 3u], inp[o + 4u]);
}`;
    const pipe = await computePipeline(d, 'test-ssim-terms', code);
    const n = EDGE_WINDOWS.length;
    const inp = d.createBuffer({ size: n * 5 * 4, usage: STORAGE | 0x08 });
    const out = d.createBuffer({ size: n * 16, usage: STORAGE | COPY_SRC });
    upload(d, inp, Float32Array.from(EDGE_WINDOWS.flatMap(([, w]) => w)));
    const enc = d.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bindGroup(d, pipe, [inp, out]));
    pass.dispatchWorkgroups(1);
    pass.end();
    d.queue.submit([enc.finish()]);
    const got = await readF32(d, out, n * 4);
    EDGE_WINDOWS.forEach(([name, w], i) => {
      const t = ssimWindowTerms(w[0]!, w[1]!, w[2]!, w[3]!, w[4]!);
      const want = [t.S, t.dMu, t.dXX, t.dXY];
      for (let c = 0; c < 4; c++) {
        const v = got[4 * i + c]!;
        expect(Number.isFinite(v), `${name}: component ${c} is ${v}`).toBe(true);
        expect(Math.abs(v - want[c]!), `${name}: component ${c}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want[c]!)));
      }
    });
    inp.destroy();
    out.destroy();
  });
});

// ---- rasterizer: non-finite Gaussians are culled, never rendered or differentiated ----

const W = 48, H = 40;
const cam: RasterCamera = { width: W, height: H, fx: 44, fy: 44, cx: 24, cy: 20, R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0], near: 0.1 };
const opts = { ...defaultRasterOptions, shDegree: 1, background: [0.1, 0.2, 0.3] as [number, number, number] };

/** n finite Gaussians in view, then one bad copy per (parameter, bad value) of the first one. */
function sceneWithBadGaussians(): { params: GaussianParams; finite: GaussianParams; bad: number[] } {
  const r = rng(11);
  const good = 24;
  const bads: [keyof Omit<GaussianParams, 'count'>, number, number][] = [];
  for (const v of [NaN, Infinity, -Infinity]) {
    bads.push(['means', 0, v], ['means', 2, v], ['logScales', 1, v], ['quats', 0, v], ['quats', 3, v], ['opacityLogits', 0, v], ['sh', 0, v], ['sh', 5, v]);
  }
  const n = good + bads.length;
  const p: GaussianParams = { count: n, means: new Float32Array(n * 3), logScales: new Float32Array(n * 3), quats: new Float32Array(n * 4), opacityLogits: new Float32Array(n), sh: new Float32Array(n * 48) };
  for (let i = 0; i < n; i++) {
    const src = i < good ? i : i % good; // each bad Gaussian copies a good one that is visible
    const rr = rng(100 + src);
    p.means.set([(rr() - 0.5) * 1.2, (rr() - 0.5) * 1.0, 2 + rr()], 3 * i);
    p.logScales.set([-2.2 + 0.5 * rr(), -2.2 + 0.5 * rr(), -2.2 + 0.5 * rr()], 3 * i);
    p.quats.set([1, rr() - 0.5, rr() - 0.5, rr() - 0.5], 4 * i);
    p.opacityLogits[i] = 0.5 + rr();
    for (let k = 0; k < 12; k++) p.sh[48 * i + k] = 0.3 * (rr() - 0.5);
  }
  void r;
  const bad: number[] = [];
  bads.forEach(([name, k, v], j) => {
    const i = good + j;
    const row = { means: 3, logScales: 3, quats: 4, opacityLogits: 1, sh: 48 }[name];
    p[name][row * i + k] = v;
    bad.push(i);
  });
  const finite: GaussianParams = { count: good, means: p.means.slice(0, good * 3), logScales: p.logScales.slice(0, good * 3), quats: p.quats.slice(0, good * 4), opacityLogits: p.opacityLogits.slice(0, good), sh: p.sh.slice(0, good * 48) };
  return { params: p, finite, bad };
}

const allFinite = (a: ArrayLike<number>) => Array.prototype.every.call(a, (x: number) => Number.isFinite(x));
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('non-finite Gaussians are culled', () => {
  const { params, finite, bad } = sceneWithBadGaussians();
  const r = rng(5);
  const up = { rgb: Float32Array.from({ length: W * H * 3 }, () => r() - 0.5) };

  it('reference: same image as without them, finite gradients, exact zeros for them', () => {
    const ref = rasterizeReference(params, cam, opts);
    const clean = rasterizeReference(finite, cam, opts);
    expect(ref.visible).toBe(clean.visible);
    expect(maxAbsDiff(ref.rgb, clean.rgb)).toBe(0);
    const g = rasterizeReferenceBackward(params, cam, opts, ref.ctx, up);
    for (const a of [g.means, g.logScales, g.quats, g.opacityLogits, g.sh, g.pose]) expect(allFinite(a)).toBe(true);
    for (const i of bad) expect(g.sh.slice(48 * i, 48 * i + 48).every((x) => x === 0)).toBe(true);
  });

  it.skipIf(!ctx)('GPU: same image as without them, finite gradients, exact zeros for them', async () => {
    const rz = await GpuRasterizer.create(ctx!);
    try {
      const out = await rz.rasterize(params, cam, { ...opts, tileSize: 16 });
      const clean = await rz.rasterize(finite, cam, { ...opts, tileSize: 16 });
      expect(out.visible).toBe(clean.visible);
      expect(allFinite(out.rgb)).toBe(true);
      expect(maxAbsDiff(out.rgb, clean.rgb)).toBeLessThan(1e-6);
      const again = await rz.rasterize(params, cam, { ...opts, tileSize: 16 });
      const g = await rz.backwardArrays(again.fwd, up);
      for (const [name, a] of Object.entries(g)) expect(allFinite(a as ArrayLike<number>), `gradient ${name} finite`).toBe(true);
      for (const i of bad) {
        expect(g.means.slice(3 * i, 3 * i + 3).every((x) => x === 0)).toBe(true);
        expect(g.sh.slice(48 * i, 48 * i + 48).every((x) => x === 0)).toBe(true);
        expect(g.opacityLogits[i]).toBe(0);
      }
      const ref = rasterizeReference(params, cam, opts);
      expect(maxAbsDiff(out.rgb, ref.rgb)).toBeLessThan(1e-4);
    } finally {
      rz.destroy();
    }
  });
});
