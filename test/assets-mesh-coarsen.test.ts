/**
 * coarsenForRender: sub-pixel Gaussians are thinned and widened so that the expected projected
 * area is kept; Gaussians at or above the target size pass unchanged.
 */
import { describe, expect, it } from 'vitest';
import { coarsenForRender, finestPixel } from '../src/assets/mesh/coarsen.js';
import { boxShape } from '../src/assets/mesh/test-shapes.js';
import { lookAtCamera } from '../src/assets/mesh/views.js';
import type { GaussianParams } from '../src/core/gaussians.js';

/** Σ over Gaussians of the footprint (product of the two largest σ), weighted by opacity. */
function footprintSum(p: GaussianParams): number {
  let s = 0;
  for (let i = 0; i < p.count; i++) {
    const l = Array.from(p.logScales.subarray(3 * i, 3 * i + 3)).sort((a, b) => b - a);
    s += Math.exp(l[0]! + l[1]!) / (1 + Math.exp(-p.opacityLogits[i]!));
  }
  return s;
}

describe('coarsenForRender', () => {
  const box = boxShape(1.2, 0.8, 0.9, 200_000, 3).params; // disc σ ≈ 3.1 mm
  const pixel = 0.011;

  it('keeps the expected footprint of sub-pixel Gaussians with about footprint / A of them', () => {
    const out = coarsenForRender(box, pixel, 0.5);
    const q = Math.exp(box.logScales[0]! + box.logScales[1]!) / (0.5 * pixel) ** 2;
    expect(q).toBeLessThan(1);
    expect(out.count / box.count).toBeCloseTo(q, 2);
    expect(footprintSum(out) / footprintSum(box)).toBeGreaterThan(0.98);
    expect(footprintSum(out) / footprintSum(box)).toBeLessThan(1.02);
    // kept Gaussians are the originals, widened uniformly (a flat disc stays flat), same opacity and colour
    const g = Math.log(1 / Math.sqrt(q));
    for (let k = 0; k < 50; k++) {
      const a = out.logScales[3 * k]! - box.logScales[0]!, c = out.logScales[3 * k + 2]! - box.logScales[2]!;
      expect(a).toBeCloseTo(g, 4);
      expect(c).toBeCloseTo(g, 4);
    }
    const i = Array.from({ length: box.count }, (_, j) => j).find((j) => box.means[3 * j] === out.means[0] && box.means[3 * j + 1] === out.means[1])!;
    expect(out.sh[0]).toBe(box.sh[48 * i]);
    expect(out.opacityLogits[0]).toBe(box.opacityLogits[i]);
  });

  it('is deterministic and leaves Gaussians at or above the target unchanged', () => {
    const a = coarsenForRender(box, pixel), b = coarsenForRender(box, pixel);
    expect(a.count).toBe(b.count);
    expect(Buffer.from(a.means.buffer).equals(Buffer.from(b.means.buffer))).toBe(true);
    expect(coarsenForRender(box, 0.001)).toBe(box); // every disc is larger than ½ mm
    expect(coarsenForRender(box, 0)).toBe(box);
  });

  it('finestPixel is the smallest distance over focal length among the views', () => {
    const a = lookAtCamera([0, 0, 2], [0, 0, 0], [0, 1, 0], 200, 0.5);
    const b = lookAtCamera([0, 3, 0.1], [0, 0, 0], [0, 1, 0], 400, 0.5);
    expect(finestPixel([a, b], [0, 0, 0])).toBeCloseTo(Math.min(2 / a.fx, Math.hypot(3, 0.1) / b.fx), 9);
  });
});
