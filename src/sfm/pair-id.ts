/** The SfM database key of an image pair (a module of its own so verify workers load no matcher). */
import type { FeatureSet } from './types.js';

export function pairId(a: FeatureSet, b: FeatureSet): string {
  return `${a.name}\u0000${b.name}`;
}
