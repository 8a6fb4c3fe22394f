export function matchDescriptors(A: Uint32Array, nA: number, B: Uint32Array, nB: number, words: number, ratio: number, maxDist: number): Uint32Array;
export function setKernel(kind: 'simd' | 'scalar' | 'js'): void;
export function ratioCandidates(best: Int32Array, d1: Int32Array, d2: Int32Array, nA: number, ratio: number, maxDist: number): { cand: Int32Array; rows: Int32Array };
export function mutualMatches(cand: Int32Array, best: Int32Array, rbest: Int32Array): Uint32Array;
export function consistentMatches(kpA: Float32Array, kpB: Float32Array, m: Uint32Array, maxAngleDeg: number, maxOctaves: number): number;
/** The overlap pre-check's settings (MatchOptions.precheck in matching.ts). */
export interface OverlapPrecheck { strongest: number; minConsistent: number; maxAngleDeg: number; maxOctaves: number }
export function matchWithPrecheck(
  A: Uint32Array, nA: number, kpA: Float32Array, B: Uint32Array, nB: number, kpB: Float32Array, words: number, ratio: number, maxDist: number, precheck: OverlapPrecheck,
): { m: Uint32Array; skipped: boolean };
