/**
 * A workspace is one folder per capture, and this module is the one place that knows its layout:
 * every path and every reader of a workspace file lives here. Each stage reads the previous
 * stage's files and writes its own, atomically, and records `stages/<stage>.json` with the hashes
 * of its inputs, its options, seed and timings. A stage whose record matches is skipped (a no-op
 * re-run); a stage that crashed has no matching record and runs again.
 *
 * Layout:
 *   images/          ingested images (orientation applied)   priors.json   per-image priors
 *   masks/           optional masks                           sparse/       COLMAP model (.txt, .bin)
 *   sfm/database.db  sfm's feature / match cache              stages/       stage records
 *   scene/           splats.ply, splats.spz, photometric.json, train.json, sparse-refined/, checkpoints/
 *   eval/            metrics.json and held-out renders        assets/       extracted asset library
 *   user-frame.json  scale / up / origin set in the viewer    synthetic-truth.json  (synth only)
 *   .r2s.lock        the process working on the workspace (see lock.ts)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../util/fsx.js';
import { version } from '../util/version.js';
import { info } from '../util/log.js';
import { UserError } from '../util/errors.js';
import { findColmapModelDir } from '../io/colmap.js';
import type { Priors } from '../ingest/priors.js';
import type { SyntheticTruth } from '../synthetic/workspace.js';
import { hashPath, stableStringify } from './hash.js';

export { stableStringify };

/** `stages/<stage>.json`. The format is a contract: old workspaces must stay valid. */
export interface StageRecord {
  stage: string;
  status: 'done';
  r2sVersion: string;
  inputs: Record<string, string>;
  options: Record<string, unknown>;
  seed?: number;
  outputs: string[];
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** Free-form summary the stage wants to keep (counts, metrics). */
  summary?: Record<string, unknown>;
}

/** What decides whether a stage's record is current. */
export interface RecordSpec {
  /** Files or folders (relative to the workspace or absolute) whose content decides staleness. */
  inputs: string[];
  options: Record<string, unknown>;
  /** Files or folders (relative to the workspace) the stage produces; all must exist to skip. */
  outputs: string[];
  seed?: number;
  /** Run even when the record says the stage is up to date. */
  force?: boolean;
}

export interface StageResult<T> {
  skipped: boolean;
  record: StageRecord;
  value?: T;
}

/** The summary `scene/train.json` keeps of a training run (the fields later stages read). */
export interface TrainRecord {
  maxSize?: number;
  options?: { background?: [number, number, number] } & Record<string, unknown>;
  [k: string]: unknown;
}

export class Workspace {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get imagesDir(): string { return path.join(this.root, 'images'); }
  get masksDir(): string { return path.join(this.root, 'masks'); }
  get priorsPath(): string { return path.join(this.root, 'priors.json'); }
  get sparseDir(): string { return path.join(this.root, 'sparse'); }
  get sfmDatabasePath(): string { return path.join(this.root, 'sfm', 'database.db'); }
  get sceneDir(): string { return path.join(this.root, 'scene'); }
  get splatsPlyPath(): string { return path.join(this.sceneDir, 'splats.ply'); }
  get splatsSpzPath(): string { return path.join(this.sceneDir, 'splats.spz'); }
  get photometricPath(): string { return path.join(this.sceneDir, 'photometric.json'); }
  get sparseRefinedDir(): string { return path.join(this.sceneDir, 'sparse-refined'); }
  get trainRecordPath(): string { return path.join(this.sceneDir, 'train.json'); }
  get checkpointsDir(): string { return path.join(this.sceneDir, 'checkpoints'); }
  get evalDir(): string { return path.join(this.root, 'eval'); }
  get metricsPath(): string { return path.join(this.evalDir, 'metrics.json'); }
  get assetsDir(): string { return path.join(this.root, 'assets'); }
  /** Read with `readUserFrame` from src/io/user-frame.ts. */
  get userFramePath(): string { return path.join(this.root, 'user-frame.json'); }
  get syntheticTruthPath(): string { return path.join(this.root, 'synthetic-truth.json'); }
  get stagesDir(): string { return path.join(this.root, 'stages'); }
  get lockPath(): string { return path.join(this.root, '.r2s.lock'); }

  resolve(rel: string): string {
    return path.isAbsolute(rel) ? rel : path.join(this.root, rel);
  }

  /** `p` relative to the workspace where it lies inside ('.' for the root), else absolute. */
  relative(p: string): string {
    const abs = path.resolve(p);
    return isInside(this.root, abs) ? path.relative(this.root, abs) || '.' : abs;
  }

  // --- readers -------------------------------------------------------------------------------

  /** priors.json, checked: it exists, parses, lists images, and each image is in images/. */
  readPriors(): Priors {
    const file = this.priorsPath;
    if (!existsSync(file)) throw new UserError(`no priors.json in ${this.root}`, { file, fix: `run 'r2s ingest <photos-dir | video> -w ${this.root}' first` });
    let p: Priors;
    try {
      p = JSON.parse(readFileSync(file, 'utf8')) as Priors;
    } catch (e) {
      throw new UserError(`${file}: not valid JSON (${(e as Error).message})`, { file, fix: 'run r2s ingest again with --force' });
    }
    if (p.version !== 1 || !Array.isArray(p.images)) {
      throw new UserError(`${file}: unexpected format (version ${String(p.version)})`, { file, fix: 'run r2s ingest again with --force' });
    }
    if (p.images.length === 0) throw new UserError(`${file} lists no images`, { file, fix: 're-run r2s ingest with a folder of photos' });
    for (const im of p.images) {
      const img = path.join(this.imagesDir, im.name);
      if (!existsSync(img)) throw new UserError(`image ${im.name} listed in priors.json is missing`, { file: img, fix: 're-run r2s ingest' });
    }
    return p;
  }

  /** The folder holding the COLMAP model (sparse/, or sparse/0 in a COLMAP project layout). */
  sparseModelDir(): string {
    const dir = existsSync(this.sparseDir) ? findColmapModelDir(this.sparseDir) : null;
    if (!dir) throw new UserError(`${this.sparseDir}: no COLMAP model`, { file: this.sparseDir, fix: `run \`r2s sfm -w ${this.root}\` or \`r2s import\` first` });
    return dir;
  }

  hasTrainedScene(): boolean {
    return existsSync(this.splatsPlyPath);
  }

  /** scene/train.json (what training used), or null before training. */
  readTrainRecord(): TrainRecord | null {
    return readJsonOrNull<TrainRecord>(this.trainRecordPath);
  }

  /** A synthetic workspace (r2s synth) carries its true cameras. */
  isSynthetic(): boolean {
    return existsSync(this.syntheticTruthPath);
  }

  readSyntheticTruth(): SyntheticTruth | null {
    return readJsonOrNull<SyntheticTruth>(this.syntheticTruthPath);
  }

  // --- stage records -------------------------------------------------------------------------

  stagePath(stage: string): string {
    return path.join(this.stagesDir, `${stage}.json`);
  }

  readStage(stage: string): StageRecord | null {
    const rec = readJsonOrNull<StageRecord>(this.stagePath(stage));
    return rec && rec.status === 'done' ? rec : null; // a corrupt record only means the stage runs again
  }

  /** Content hash of each input (a folder hashes its files' names and contents, sorted). */
  async hashInputs(inputs: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const rel of inputs) out[rel] = await hashPath(this.resolve(rel));
    return out;
  }

  /** Is the recorded stage current for these inputs and options? */
  async isUpToDate(stage: string, spec: RecordSpec): Promise<boolean> {
    const rec = this.readStage(stage);
    if (!rec) return false;
    // A new r2s version may compute a stage differently: its results are not reused.
    if (rec.r2sVersion !== version) return false;
    if (stableStringify(rec.options) !== stableStringify(spec.options)) return false;
    if ((rec.seed ?? null) !== (spec.seed ?? null)) return false;
    if (!spec.outputs.every((o) => existsSync(this.resolve(o)))) return false;
    const hashes = await this.hashInputs(spec.inputs);
    return stableStringify(hashes) === stableStringify(rec.inputs);
  }

  /**
   * Why a recorded stage's outputs no longer follow from its inputs, or null when they do. Only
   * the record is consulted (not today's options): "was it current for what it ran on?". An input
   * outside the workspace that is gone (the photo folder of an ingest, deleted after) cannot be
   * judged and does not count: a workspace is self-contained once made.
   */
  async staleness(rec: StageRecord): Promise<string | null> {
    for (const o of rec.outputs) if (!existsSync(this.resolve(o))) return `${o} is missing`;
    for (const [input, hash] of Object.entries(rec.inputs)) {
      const abs = this.resolve(input);
      if (path.isAbsolute(input) && !existsSync(abs) && !isInside(this.root, abs)) continue;
      if ((await hashPath(abs)) !== hash) return `${input}${isFolderInput(abs) ? '/' : ''} changed since it ran`;
    }
    return null;
  }

  async writeRecord(record: StageRecord): Promise<void> {
    await writeJsonAtomic(this.stagePath(record.stage), record);
  }

  /**
   * Run `fn` unless the stage is up to date. The record is written only after `fn` succeeds, and
   * `fn` must itself write its outputs atomically, so a crash leaves the previous state intact.
   * The low-level form of runner.ts (which adds the lock, the chain and fs checks).
   */
  async runStage<T>(
    stage: string,
    spec: RecordSpec,
    fn: () => Promise<{ value?: T; summary?: Record<string, unknown> } | void>,
  ): Promise<StageResult<T>> {
    if (!spec.force && (await this.isUpToDate(stage, spec))) {
      info(`${stage}: up to date, skipped`);
      return { skipped: true, record: this.readStage(stage)! };
    }
    const started = new Date();
    const res = (await fn()) ?? {};
    const record = await this.makeRecord(stage, spec, started, res.summary);
    await this.writeRecord(record);
    return { skipped: false, record, value: res.value };
  }

  async makeRecord(stage: string, spec: RecordSpec, started: Date, summary?: Record<string, unknown>): Promise<StageRecord> {
    const finished = new Date();
    return {
      stage,
      status: 'done',
      r2sVersion: version,
      inputs: await this.hashInputs(spec.inputs),
      options: spec.options,
      ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
      outputs: spec.outputs,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      seconds: (finished.getTime() - started.getTime()) / 1000,
      ...(summary ? { summary } : {}),
    };
  }
}

/** The priors of a workspace (a path or a Workspace); see Workspace.readPriors. */
export function readPriors(ws: Workspace | string): Priors {
  return (typeof ws === 'string' ? new Workspace(ws) : ws).readPriors();
}

function readJsonOrNull<T>(file: string): T | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return !rel.startsWith('..') && !path.isAbsolute(rel);
}

function isFolderInput(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return !path.extname(p);
  }
}
