/**
 * Every stage, explicitly, and the runner over them. Add a stage here and in catalog.ts (the
 * on-demand form the CLI uses), and a command in src/cli/commands/index.ts; nothing is found by
 * scanning folders.
 */
import { createRunner } from '../pipeline/runner.js';
import type { StageSpec } from '../pipeline/stage.js';
import { ingestStage } from './ingest.js';
import { importStage } from './import.js';
import { synthStage } from './synth.js';
import { sfmStage } from './sfm.js';
import { trainStage } from './train.js';
import { evalStage } from './eval.js';
import { extractStage } from './extract.js';

export { ingestStage, importStage, synthStage, sfmStage, trainStage, evalStage, extractStage };

export const allStages: readonly StageSpec[] = [ingestStage, importStage, synthStage, sfmStage, trainStage, evalStage, extractStage];

/** Runs stages of this catalog (follows `after`, refreshes stale stages by name). */
export const runner = createRunner(allStages);
