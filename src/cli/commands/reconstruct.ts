/**
 * `r2s reconstruct <photos-dir | video> -w <ws>`: ingest → sfm → train → eval, by the runner, under
 * one workspace lock. Each stage skips itself when its inputs and options are unchanged (so an
 * interrupted run resumes where it stopped), and a stale stage is re-run rather than refused.
 * Its options are the stages' own schema fields, so ranges and docs are the stages'.
 */
import { z } from 'zod';
import { bool, parseStageOptions, relabel } from '../../pipeline/stage.js';
import type { Step } from '../../pipeline/runner.js';
import { loadStage, lazyRunner } from '../../stages/catalog.js';
import { ingestStage } from '../../stages/ingest.js';
import { sfmStage } from '../../stages/sfm.js';
import { info, result } from '../../util/log.js';
import { parseSchemaArgs, schemaUsage, type SchemaCommandSpec } from '../schema-command.js';

export const summary = 'photos or video → cameras → trained splat scene → held-out scores (all stages)';

// train's fields are loaded with the train stage (tfjs); its schema fields are used when present.
async function spec(): Promise<SchemaCommandSpec> {
  const train = (await loadStage('train'))!.options.shape as Record<string, z.ZodType>;
  return {
    name: 'reconstruct',
    summary,
    positionals: ingestStage.positionals,
    options: z.object({
      input: ingestStage.options.shape.input,
      maxSize: relabel(ingestStage.options.shape.maxSize, { doc: 'downscale images at ingest (longest side, px)' }),
      fps: ingestStage.options.shape.fps,
      cameraHeight: sfmStage.options.shape.cameraHeight,
      iterations: train.iterations!,
      trainMaxSize: relabel(train.maxSize!, { flag: 'train-max-size', doc: 'training image size (longest side, px)' }),
      skipTrain: bool('stop after sfm', { default: false }),
    }),
  };
}

/** The usage text, with every option (loads the train stage for its fields). */
export async function help(): Promise<string> {
  return schemaUsage(await spec());
}

interface Options {
  input: string;
  maxSize?: number;
  fps?: number;
  cameraHeight?: number;
  iterations: number;
  trainMaxSize: number;
  skipTrain: boolean;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseSchemaArgs<Options>(await spec(), argv);
  const o = a.options;
  const steps: Step[] = [
    { spec: ingestStage, options: parseStageOptions(ingestStage, { input: o.input, maxSize: o.maxSize, fps: o.fps }) },
    { spec: sfmStage, options: parseStageOptions(sfmStage, { cameraHeight: o.cameraHeight }) },
  ];
  if (!o.skipTrain) {
    const train = (await loadStage('train'))!;
    const evaluate = (await loadStage('eval'))!;
    steps.push({ spec: train, options: parseStageOptions(train, { iterations: o.iterations, maxSize: o.trainMaxSize }) });
    steps.push({ spec: evaluate, options: parseStageOptions(evaluate, {}) });
  }
  const outcomes = await lazyRunner.runAll(steps, a.workspace, { refresh: true, force: a.force });
  const timings = Object.fromEntries(outcomes.map((x) => [x.stage, x.seconds]));
  if (a.json) result({ ok: true, workspace: a.workspace, seconds: timings });
  else info(`reconstruct: done (${outcomes.map((x) => `${x.stage} ${x.seconds.toFixed(1)}s`).join(', ')}) → ${a.workspace}`);
  return 0;
}
