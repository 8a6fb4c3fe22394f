/**
 * A workspace is one folder per capture. Each stage reads the previous stage's files and writes
 * its own, atomically, and records `stages/<stage>.json` with the hashes of its inputs, its
 * options, seed and timings. A stage whose record matches is skipped (a no-op re-run); a stage that
 * crashed has no matching record and runs again.
 *
 * Layout:
 *   images/          ingested images (orientation applied)   priors.json   per-image priors
 *   masks/           optional masks                           sparse/       COLMAP model (.txt, .bin)
 *   scene/           splats.ply, splats.spz, photometric.json, checkpoints/
 *   eval/            metrics.json and held-out renders        stages/       stage records
 */
import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { hashFile, hashString, writeJsonAtomic } from '../util/fsx.js';
import { version } from '../util/version.js';
import { info } from '../util/log.js';

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

export interface StageSpec {
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

export class Workspace {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get imagesDir(): string { return path.join(this.root, 'images'); }
  get masksDir(): string { return path.join(this.root, 'masks'); }
  get priorsPath(): string { return path.join(this.root, 'priors.json'); }
  get sparseDir(): string { return path.join(this.root, 'sparse'); }
  get sceneDir(): string { return path.join(this.root, 'scene'); }
  get evalDir(): string { return path.join(this.root, 'eval'); }
  get stagesDir(): string { return path.join(this.root, 'stages'); }

  resolve(rel: string): string {
    return path.isAbsolute(rel) ? rel : path.join(this.root, rel);
  }

  stagePath(stage: string): string {
    return path.join(this.stagesDir, `${stage}.json`);
  }

  readStage(stage: string): StageRecord | null {
    const p = this.stagePath(stage);
    if (!existsSync(p)) return null;
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as StageRecord;
    } catch {
      return null; // a corrupt record only means the stage runs again
    }
  }

  /** Content hash of each input (a folder hashes its files' names and contents, sorted). */
  async hashInputs(inputs: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const rel of inputs) out[rel] = await hashPath(this.resolve(rel));
    return out;
  }

  /** Is the recorded stage current for these inputs and options? */
  async isUpToDate(stage: string, spec: StageSpec): Promise<boolean> {
    const rec = this.readStage(stage);
    if (!rec || rec.status !== 'done') return false;
    // A new r2s version may compute a stage differently: its results are not reused.
    if (rec.r2sVersion !== version) return false;
    if (stableStringify(rec.options) !== stableStringify(spec.options)) return false;
    if ((rec.seed ?? null) !== (spec.seed ?? null)) return false;
    if (!spec.outputs.every((o) => existsSync(this.resolve(o)))) return false;
    const hashes = await this.hashInputs(spec.inputs);
    return stableStringify(hashes) === stableStringify(rec.inputs);
  }

  /**
   * Run `fn` unless the stage is up to date. The record is written only after `fn` succeeds, and
   * `fn` must itself write its outputs atomically, so a crash leaves the previous state intact.
   */
  async runStage<T>(
    stage: string,
    spec: StageSpec,
    fn: () => Promise<{ value?: T; summary?: Record<string, unknown> } | void>,
  ): Promise<StageResult<T>> {
    if (!spec.force && (await this.isUpToDate(stage, spec))) {
      info(`${stage}: up to date, skipped`);
      return { skipped: true, record: this.readStage(stage)! };
    }
    const started = new Date();
    const res = (await fn()) ?? {};
    const finished = new Date();
    const record: StageRecord = {
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
      ...(res.summary ? { summary: res.summary } : {}),
    };
    await writeJsonAtomic(this.stagePath(stage), record);
    return { skipped: false, record, value: res.value };
  }
}

async function hashPath(p: string): Promise<string> {
  if (!existsSync(p)) return 'missing';
  const st = statSync(p);
  if (st.isFile()) return hashFile(p);
  const parts: string[] = [];
  for (const rel of listFiles(p)) parts.push(`${rel}:${await hashFile(path.join(p, rel))}`);
  return hashString(parts.join('\n'));
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (ent.name.startsWith('.')) continue; // temp files of atomic writes
    const rel = prefix ? `${prefix}/${ent.name}` : ent.name;
    if (ent.isDirectory()) out.push(...listFiles(path.join(dir, ent.name), rel));
    else if (ent.isFile()) out.push(rel);
  }
  return out;
}

/** JSON with sorted keys, so option records compare regardless of key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
