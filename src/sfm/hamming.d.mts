export function matchDescriptors(A: Uint32Array, nA: number, B: Uint32Array, nB: number, words: number, ratio: number, maxDist: number): Uint32Array;
export function setUseWasm(on: boolean): void;
