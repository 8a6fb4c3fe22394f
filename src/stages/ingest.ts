/**
 * The `ingest` stage: photos or a video → images/, masks/ (optional), priors.json.
 */
import path from 'node:path';
import { z } from 'zod';
import { defineStage, int, num, pathOpt, requiredPath, type StageOptions } from '../pipeline/stage.js';
import type { StageRecord, Workspace } from '../pipeline/workspace.js';
import { checkIngestInput, countPriors, ingestInto, refuseOwnOutput, removeStaleTemps, type IngestCounts } from '../ingest/ingest.js';
import { DEFAULT_FPS } from '../ingest/video.js';

const options = z.object({
  input: requiredPath('folder of photos or a video file'),
  maxSize: int('downscale so the longest side is at most N px', { min: 16, max: 65536 }),
  fps: num('frames per second sampled from a video; blurry and near-duplicate frames are then dropped, each with its reason in priors.json', {
    min: 0, exclusiveMin: true, max: 240, placeholder: 'F', defaultText: `${DEFAULT_FPS} for videos`,
  }),
  masks: pathOpt('mask images (white = use) named like the photos/frames, copied to workspace/masks', { placeholder: 'DIR' }),
});

type Options = z.infer<typeof options>;

/** When this process started: a temporary older than that cannot be one this run is writing. */
const runStartedMs = () => Date.now() - process.uptime() * 1000;

/** What plan() learned about the input, for run(). */
const planned = new WeakMap<Options, { input: string; kind: 'photos' | 'video'; fps?: number; masks?: string }>();

async function checkInput(o: Options, ws: Workspace) {
  const input = path.resolve(o.input);
  const masks = o.masks ? path.resolve(o.masks) : undefined;
  // before anything else: an ingest never writes into the folder it reads from
  refuseOwnOutput(input, masks, { imagesDir: ws.imagesDir, masksDir: ws.masksDir });
  const { kind, fps } = await checkIngestInput(input, { fps: o.fps, masks });
  const p = { input, kind, fps, masks };
  planned.set(o, p);
  return p;
}

export const ingestStage = defineStage({
  name: 'ingest',
  summary: 'photos or a video → workspace/images + priors.json (EXIF focal, GPS, sharp distinct frames)',
  reads: [],
  writes: ['images/', 'masks/', 'priors.json'],
  after: [],
  options,
  positionals: [{ key: 'input', name: 'photos-dir | video-file', noun: 'input' }],
  async plan(ws, o) {
    const { kind, fps, masks, input } = await checkInput(o, ws);
    return {
      inputs: masks ? [input, masks] : [input],
      options: { kind, maxSize: o.maxSize ?? null, fps: fps ?? null, masks: masks ?? null },
      outputs: masks ? ['images', 'priors.json', 'masks'] : ['images', 'priors.json'],
    };
  },
  async run(ws, o, ctx): Promise<IngestCounts> {
    const p = planned.get(o) ?? (await checkInput(o, ws));
    // The runner holds the workspace lock now: temporaries of an earlier, killed run are garbage.
    const stale = await removeStaleTemps(ws.root, runStartedMs());
    if (stale.length) ctx.log.info(`removed ${stale.length} temporary leftover(s) of an interrupted run (${stale.map((f) => path.relative(ws.root, f)).slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''})`);
    const priors = await ingestInto(
      { input: p.input, kind: p.kind, maxSize: o.maxSize, fps: p.fps, masks: p.masks, silent: ctx.silent },
      { imagesDir: ws.imagesDir, masksDir: ws.masksDir, priorsPath: ws.priorsPath },
    );
    return countPriors(priors);
  },
  optionsFromRecord(rec: StageRecord) {
    const o = rec.options as { maxSize?: number | null; fps?: number | null; masks?: string | null; kind?: string };
    return { input: Object.keys(rec.inputs)[0], maxSize: o.maxSize ?? undefined, fps: o.kind === 'video' ? (o.fps ?? undefined) : undefined, masks: o.masks ?? undefined };
  },
  refreshCommand(rec: StageRecord, ws: Workspace) {
    return `r2s ingest ${Object.keys(rec.inputs)[0] ?? '<photos>'} -w ${ws.root}`;
  },
});

export type IngestStageOptions = StageOptions<typeof ingestStage>;
