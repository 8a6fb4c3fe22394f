/**
 * Seeded pseudo-random numbers (mulberry32), the one generator of the project, so synthetic
 * scenes, RANSAC samples, view orders and densification noise are reproducible from a recorded
 * seed. The state is one 32-bit integer, which checkpoints
 * store to make `--resume` exact.
 */
export class Rng {
  state: number;

  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(xs: readonly T[]): T[] {
    const a = xs.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

/** Start a generator directly at a given 32-bit state (no seed scrambling). */
export function rngFromState(state: number): Rng {
  const r = new Rng(0);
  r.state = state >>> 0;
  return r;
}

/** mulberry32 as a plain function: `seed` is the generator's initial 32-bit state. */
export function mulberry32(seed: number): () => number {
  const r = rngFromState(seed);
  return () => r.next();
}

