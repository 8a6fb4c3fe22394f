/**
 * The one runner of stages: checks the inputs (plan), makes sure every stage it consumes is
 * current (or re-runs it when asked), skips an up-to-date stage, takes the workspace lock (unless
 * the spec says `lock: 'none'`), checks the workspace is writable before long work, runs the stage
 * and writes `stages/<stage>.json`.
 */
import { accessSync, constants as fsc, existsSync, statSync } from 'node:fs';

import { UserError, fsError } from '../util/errors.js';
import { ensureWritableDir } from '../util/fsx.js';
import { info, warn } from '../util/log.js';
import { Progress } from '../util/progress.js';
import { acquireWorkspaceLock, processSignal } from './lock.js';
import type { z } from 'zod';
import { parseStageOptions, type StageContext, type StagePlan, type StageSpec } from './stage.js';
import { Workspace, type StageRecord } from './workspace.js';

export interface RunOptions {
  /** run even when the stage is up to date */
  force?: boolean;
  /** re-run a stale stage this one consumes (from its recorded options) instead of refusing */
  refresh?: boolean;
  /** cancel (a batch worker stopping a job); SIGINT / SIGTERM always cancel */
  signal?: AbortSignal;
  /** what the lock says the holder runs; default `r2s <stage>` */
  command?: string;
  /** no progress output or info lines (tests) */
  silent?: boolean;
}

export interface StageOutcome<R extends object = Record<string, unknown>> {
  stage: string;
  skipped: boolean;
  record: StageRecord;
  /** what the stage returned, or the recorded summary when it was skipped */
  summary: R;
  /** stale stages this run re-ran first (with refresh) */
  refreshed: string[];
  /** wall time of this call, seconds (a skip takes a moment to hash the inputs) */
  seconds: number;
}

export interface Step {
  spec: StageSpec;
  options: Record<string, unknown>;
}

export interface Runner {
  run<S extends z.ZodObject, R extends object>(spec: StageSpec<S, R>, workspace: string | Workspace, options: z.infer<S>, ro?: RunOptions): Promise<StageOutcome<R>>;
  /** Stages in order under one lock (reconstruct, a pipeline's per-capture steps). */
  runAll(steps: readonly Step[], workspace: string | Workspace, ro?: RunOptions): Promise<StageOutcome<Record<string, unknown>>[]>;
  /** Throws the "stage 'x' is out of date" line if a stage `spec` consumes is stale. */
  checkChain(spec: StageSpec, workspace: string | Workspace): Promise<void>;
}

/** Finds a stage by name: an array of specs, or a loader (so a command loads only the stages it needs). */
export type StageCatalog = readonly StageSpec[] | ((name: string) => Promise<StageSpec | undefined> | StageSpec | undefined);

/** A runner over a catalog of stages (to follow `after` and refresh stale stages by name). */
export function createRunner(catalog: StageCatalog): Runner {
  const lookup = async (name: string) => (typeof catalog === 'function' ? await catalog(name) : catalog.find((s) => s.name === name));

  async function run(spec: StageSpec, wsIn: string | Workspace, options: Record<string, unknown>, ro: RunOptions = {}): Promise<StageOutcome> {
    const t0 = Date.now();
    const secs = () => (Date.now() - t0) / 1000;
    const ws = typeof wsIn === 'string' ? new Workspace(wsIn) : wsIn;
    refuseFile(ws.root);
    const plan = await spec.plan(ws, options, { force: Boolean(ro.force) });
    const refreshed = await ensureChain(spec, ws, ro, new Set([spec.name]));
    if (!ro.force && !plan.force && (await ws.isUpToDate(spec.name, plan))) {
      if (!ro.silent) info(`${spec.name}: up to date, skipped`);
      const record = ws.readStage(spec.name)!;
      return { stage: spec.name, skipped: true, record, summary: record.summary ?? {}, refreshed, seconds: secs() };
    }
    if ((spec.lock ?? 'workspace') === 'none') return runUnlocked(spec, ws, options, plan, ro, refreshed, secs);
    const release = lockWorkspace(ws, ro.command ?? `r2s ${spec.name}`);
    try {
      checkWritable(ws, spec);
      const started = new Date();
      const summary = (await spec.run(ws, options, context(ro))) as Record<string, unknown>;
      const record = await ws.makeRecord(spec.name, plan, started, summary);
      if (spec.recorded?.(summary) ?? true) await ws.writeRecord(record);
      return { stage: spec.name, skipped: false, record, summary, refreshed, seconds: secs() };
    } catch (e) {
      throw fsError(e, ws.root);
    } finally {
      release();
    }
  }

  /**
   * A stage with `lock: 'none'`: no lock, no writability checks on the workspace (it writes nothing
   * there but its record, atomically); the record is written when it can be, else a warning.
   */
  async function runUnlocked(spec: StageSpec, ws: Workspace, options: Record<string, unknown>, plan: StagePlan, ro: RunOptions, refreshed: string[], secs: () => number): Promise<StageOutcome> {
    let summary: Record<string, unknown>;
    const started = new Date();
    try {
      summary = (await spec.run(ws, options, context(ro))) as Record<string, unknown>;
    } catch (e) {
      throw fsError(e, ws.root);
    }
    const record = await ws.makeRecord(spec.name, plan, started, summary);
    if (spec.recorded?.(summary) ?? true) {
      try {
        await ws.writeRecord(record);
      } catch (e) {
        warn(`could not write ${ws.stagePath(spec.name)} (${(e as Error).message.split('\n')[0]})`);
      }
    }
    return { stage: spec.name, skipped: false, record, summary, refreshed, seconds: secs() };
  }

  /**
   * Every stage `spec` consumes must be current with its own inputs, checked from the far end of
   * the chain. Returns the stages re-run (refresh); throws one line naming the first stale one.
   */
  async function ensureChain(spec: StageSpec, ws: Workspace, ro: RunOptions, seen: Set<string>): Promise<string[]> {
    const refreshed: string[] = [];
    for (const rec of producers(spec, ws)) {
      const up = await lookup(rec.stage);
      if (up && !seen.has(up.name)) refreshed.push(...(await ensureChain(up, ws, ro, new Set([...seen, up.name]))));
      const current = ws.readStage(rec.stage) ?? rec;
      const reason = await ws.staleness(current);
      if (!reason) continue;
      const cmd = up?.refreshCommand?.(current, ws) ?? `r2s ${rec.stage} -w ${ws.root}`;
      if (!ro.refresh || !up) throw new UserError(`stage '${rec.stage}' is out of date: ${reason} (run \`${cmd}\`)`);
      if (!ro.silent) info(`${rec.stage}: out of date (${reason}), running it again`);
      const opts = parseStageOptions(up, up.optionsFromRecord?.(current, ws) ?? { ...current.options, ...(current.seed !== undefined ? { seed: current.seed } : {}) });
      await run(up, ws, opts, { ...ro, force: false });
      refreshed.push(rec.stage);
    }
    return refreshed;
  }

  async function runAll(steps: readonly Step[], wsIn: string | Workspace, ro: RunOptions = {}): Promise<StageOutcome[]> {
    const ws = typeof wsIn === 'string' ? new Workspace(wsIn) : wsIn;
    if (steps.length === 0) return [];
    refuseFile(ws.root);
    // Check the first stage's inputs before the lock creates the workspace folder.
    await steps[0]!.spec.plan(ws, steps[0]!.options, { force: Boolean(ro.force) });
    const release = lockWorkspace(ws, ro.command ?? `r2s ${steps.map((s) => s.spec.name).join('+')}`);
    try {
      const out: StageOutcome[] = [];
      for (const s of steps) {
        if (!ro.silent) info(`== ${s.spec.name}`);
        out.push(await run(s.spec, ws, s.options, ro));
      }
      return out;
    } finally {
      release();
    }
  }

  async function checkChain(spec: StageSpec, wsIn: string | Workspace): Promise<void> {
    await ensureChain(spec, typeof wsIn === 'string' ? new Workspace(wsIn) : wsIn, {}, new Set([spec.name]));
  }

  return { run: run as Runner['run'], runAll, checkChain };
}

/**
 * The records of the stages `spec` consumes. Where several produced the same files (sparse/ by
 * sfm, import or synth), only the one that ran last counts: the others were overwritten.
 */
function producers(spec: StageSpec, ws: Workspace): StageRecord[] {
  const recs = spec.after.map((n) => ws.readStage(n)).filter((r): r is StageRecord => r !== null);
  const top = (r: StageRecord) => new Set(r.outputs.map((o) => o.split(/[\\/]/)[0]!));
  return recs.filter((r) => !recs.some((o) => o !== r && o.finishedAt > r.finishedAt && [...top(o)].some((t) => top(r).has(t))));
}

function refuseFile(root: string): void {
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new UserError(`${root}: exists and is not a folder`, { file: root, fix: 'pass -w <a new or existing workspace folder>' });
  }
}

/** Create the workspace folder if needed (checking it is writable), then take its lock. */
function lockWorkspace(ws: Workspace, command: string): () => void {
  ensureWritableDir(ws.root);
  return acquireWorkspaceLock(ws.root, command);
}

/**
 * Outputs that exist must be writable where they are (a read-only bind of scene/, a file where a
 * folder goes). Entries ending in '/' are folders.
 */
function checkWritable(ws: Workspace, spec: StageSpec): void {
  for (const w of [...spec.writes, 'stages/']) {
    const name = w.split(/[\\/]/)[0]!;
    const top = ws.resolve(name);
    if (!existsSync(top)) continue;
    const isDir = statSync(top).isDirectory();
    if (w.length > name.length && !isDir) throw new UserError(`${top}: exists and is not a folder`, { file: top, fix: `move the file out of the way (r2s ${spec.name} writes the folder ${name}/ there)` });
    try {
      accessSync(top, fsc.W_OK);
    } catch (e) {
      throw fsError(e, top);
    }
    if (isDir) ensureWritableDir(top);
  }
}

function context(ro: RunOptions): StageContext {
  const silent = Boolean(ro.silent) || process.env.R2S_QUIET === '1';
  return {
    progress: (label, total) => new Progress(label, total, { silent }),
    signal: ro.signal ? AbortSignal.any([ro.signal, processSignal]) : processSignal,
    log: { info: (m) => { if (!silent) info(m); }, warn },
    silent,
  };
}

