/**
 * Every `r2s` command, explicitly (nothing is found by scanning folders). Stage commands are
 * generated from their stage's schema (src/stages/); the others are written by hand. Modules load
 * on demand: `r2s ingest` does not wait for the trainer's tfjs.
 */
import type { CommandModule } from '../stage-command.js';

export type { CommandModule };

export const commands: Record<string, () => Promise<CommandModule>> = {
  assets: () => import('./assets.js'),
  batch: () => import('./batch.js'),
  bench: () => import('./bench.js'),
  compose: () => import('./compose.js'),
  doctor: () => import('./doctor.js'),
  eval: () => import('./eval.js'),
  extract: () => import('./extract.js'),
  import: () => import('./import.js'),
  ingest: () => import('./ingest.js'),
  reconstruct: () => import('./reconstruct.js'),
  sfm: () => import('./sfm.js'),
  synth: () => import('./synth.js'),
  train: () => import('./train.js'),
  version: () => import('./version.js'),
  view: () => import('./view.js'),
  worker: () => import('./worker.js'),
};
