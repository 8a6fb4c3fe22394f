/** Synthetic two-view / multi-view scenes for the geometry tests (seeded). */
import { expSO3 } from '../src/geometry/rotation.js';
import { makeRng } from '../src/geometry/ransac.js';

export function rng(seed: number) {
  const r = makeRng(seed);
  return { uniform: (a = 0, b = 1) => a + (b - a) * r(), normal: () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) };
}

export function randomPose(g: ReturnType<typeof rng>, rotScale = 0.3, tScale = 1): { R: number[]; t: number[] } {
  return { R: expSO3([g.uniform(-rotScale, rotScale), g.uniform(-rotScale, rotScale), g.uniform(-rotScale, rotScale)]), t: [g.uniform(-tScale, tScale), g.uniform(-tScale, tScale), g.uniform(-tScale, tScale) * 0.3] };
}

export function transform(R: number[], t: number[], X: readonly number[]): number[] {
  return [0, 1, 2].map((r) => R[r * 3]! * X[0]! + R[r * 3 + 1]! * X[1]! + R[r * 3 + 2]! * X[2]! + t[r]!);
}

/** Points in front of the world-frame camera (identity pose), depth 4..10. */
export function randomPoints(g: ReturnType<typeof rng>, n: number): number[][] {
  return Array.from({ length: n }, () => { const z = g.uniform(4, 10); return [g.uniform(-0.6, 0.6) * z, g.uniform(-0.4, 0.4) * z, z]; });
}
