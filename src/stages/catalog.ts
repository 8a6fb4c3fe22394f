/**
 * The stages by name, loaded on demand, and a runner over them: the train stage pulls in tfjs,
 * which `r2s ingest` has no need to wait for (the CLI uses this). index.ts is the same list,
 * loaded at once. Keep the two lists equal (test/stage-api.test.ts checks).
 */
import { createRunner } from '../pipeline/runner.js';
import type { StageSpec } from '../pipeline/stage.js';

const loaders: Record<string, () => Promise<StageSpec>> = {
  ingest: async () => (await import('./ingest.js')).ingestStage,
  import: async () => (await import('./import.js')).importStage,
  synth: async () => (await import('./synth.js')).synthStage,
  sfm: async () => (await import('./sfm.js')).sfmStage,
  train: async () => (await import('./train.js')).trainStage,
  eval: async () => (await import('./eval.js')).evalStage,
  extract: async () => (await import('./extract.js')).extractStage,
};

export const stageNames: readonly string[] = Object.keys(loaders);

export async function loadStage(name: string): Promise<StageSpec | undefined> {
  return Object.hasOwn(loaders, name) ? loaders[name]!() : undefined;
}

/** Runs stages of this catalog (follows `after`, refreshes stale stages by name). */
export const lazyRunner = createRunner(loadStage);
