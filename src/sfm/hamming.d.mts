export function matchDescriptors(A: Uint32Array, nA: number, B: Uint32Array, nB: number, words: number, ratio: number, maxDist: number): Uint32Array;
export function setKernel(kind: 'simd' | 'scalar' | 'js'): void;
export function ratioCandidates(best: Int32Array, d1: Int32Array, d2: Int32Array, nA: number, ratio: number, maxDist: number): { cand: Int32Array; rows: Int32Array };
export function mutualMatches(cand: Int32Array, best: Int32Array, rbest: Int32Array): Uint32Array;
