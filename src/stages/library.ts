/**
 * One stage as one call, with the runner (lock, chain, record) — the shape the library had before
 * stages were specs, kept for tests, benches and scripts: `ingest({ input, workspace })` and so on.
 */
import { parseStageOptions } from '../pipeline/stage.js';
import { Workspace } from '../pipeline/workspace.js';
import type { IngestCounts } from '../ingest/ingest.js';
import type { ImportCounts } from '../import/import-model.js';
import type { SfmOptions, SfmSummary } from '../sfm/pipeline.js';
import { lazyRunner as runner } from './catalog.js';
import { ingestStage } from './ingest.js';
import { importStage } from './import.js';
import { sfmStage } from './sfm.js';

export interface IngestOptions {
  input: string;
  workspace: string;
  maxSize?: number;
  fps?: number;
  masks?: string;
  force?: boolean;
  /** no progress output (tests) */
  silent?: boolean;
}

export type IngestSummary = IngestCounts & { skipped: boolean; priors: string };

export async function ingest(o: IngestOptions): Promise<IngestSummary> {
  const opts = parseStageOptions(ingestStage, { input: o.input, maxSize: o.maxSize, fps: o.fps, masks: o.masks });
  const r = await runner.run(ingestStage, o.workspace, opts, { force: o.force, silent: o.silent });
  return { skipped: r.skipped, ...r.summary, priors: new Workspace(o.workspace).priorsPath };
}

export interface ImportOptions {
  /** COLMAP model folder (or a folder holding sparse/0) or a transforms.json */
  source: string;
  workspace: string;
  /** folder with the photos, when they are not where the model says */
  imagesDir?: string;
  /** folder of masks named like the photos (white = use); transforms.json mask_path is used otherwise */
  masksDir?: string;
  /** triangulate points from the known poses when the model has none (default true) */
  triangulate?: boolean;
  force?: boolean;
  silent?: boolean;
}

export type ImportSummary = ImportCounts & { skipped: boolean };

export async function importToWorkspace(o: ImportOptions): Promise<ImportSummary> {
  const opts = parseStageOptions(importStage, { source: o.source, images: o.imagesDir, masks: o.masksDir, triangulate: o.triangulate ?? true });
  const r = await runner.run(importStage, o.workspace, opts, { force: o.force, silent: o.silent });
  const s = r.summary;
  return { kind: s.kind, source: s.source, images: s.images, cameras: s.cameras, points: s.points, masks: Number(s.masks ?? 0), skipped: r.skipped };
}

export async function runSfmStage(root: string, o: SfmOptions & { force?: boolean }): Promise<{ skipped: boolean; summary: SfmSummary | undefined }> {
  const opts = parseStageOptions(sfmStage, {
    cameraHeight: o.cameraHeight, intrinsics: o.intrinsicsFile, matcher: o.matcher, features: o.features,
    maxImageSize: o.maxImageSize, maxFeatures: o.maxFeatures, seed: o.seed,
  });
  const r = await runner.run(sfmStage, root, opts, { force: o.force, silent: o.silent });
  return { skipped: r.skipped, summary: r.summary };
}
