/**
 * The stage API. A stage is a library function with an option schema: `run(workspace, options,
 * context)`. The CLI, `reconstruct`, YAML pipelines and queue workers only compose stages, and
 * get flags, usage text, defaults, validation and the stage record from the spec. runner.ts runs
 * a spec (lock, freshness of the chain, skip when up to date, fs checks, record).
 */
import type { z } from 'zod';
import { UserError } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import type { RecordSpec, StageRecord, Workspace } from './workspace.js';
import { describeRange, optionFields, type OptionField, type OptionMeta } from './options.js';

export * from './options.js';

/** What a running stage may use besides its workspace and options. */
export interface StageContext {
  /** a progress reporter: a bar with ETA on a terminal, lines otherwise, JSON lines with --json */
  progress(label: string, total: number): Progress;
  /** aborted on SIGINT / SIGTERM or by the caller (a batch worker cancelling a job) */
  signal: AbortSignal;
  log: { info(msg: string): void; warn(msg: string): void };
  /** no progress output (tests) */
  silent: boolean;
}

/** A positional argument of the stage's command, stored in the option `key`. */
export interface Positional {
  key: string;
  /** how usage names it: "photos-dir | video-file" */
  name: string;
  /** how errors name it: "no input given" (default: the key) */
  noun?: string;
}

export interface StageSpec<S extends z.ZodObject = z.ZodObject, R extends object = object> {
  name: string;
  /** one line for `r2s --help` */
  summary: string;
  /** workspace files / folders it reads (documentation, and what `after` stages produce) */
  reads: readonly string[];
  /** workspace files / folders it writes; checked writable before it runs */
  writes: readonly string[];
  /**
   * Stages whose outputs it consumes. Each one that has a record must be current with its own
   * inputs (transitively) before this one runs. Alternatives are fine: train is after sfm, import
   * and synth — whichever produced the sparse model last counts.
   */
  after: readonly string[];
  options: S;
  positionals?: readonly Positional[];
  /** the workspace is given as the first positional (`r2s synth WS`) as well as by -w */
  workspacePositional?: boolean;
  /**
   * 'workspace' (default): the runner holds the workspace lock while the stage runs.
   * 'none': the stage only reads the workspace and writes nothing in it but its own record
   * (atomically; a record that cannot be written is a warning, not a failure); whatever else it
   * writes has a lock of its own (extract: the asset library's catalog). Such runs do not exclude
   * each other: two extracts from one workspace at once both succeed.
   */
  lock?: StageLockMode;
  /** Whether this run is recorded in `stages/<name>.json` (default: always; extract's `--auto` listing is not). */
  recorded?(summary: R): boolean;
  /**
   * Check the inputs and say what decides staleness: the files hashed, the options recorded (in
   * the format existing records use), outputs, seed. Must not write anything: a bad input fails
   * here and leaves the workspace as it was.
   */
  plan(ws: Workspace, options: z.infer<S>, how: { force: boolean }): Promise<StagePlan> | StagePlan;
  run(ws: Workspace, options: z.infer<S>, ctx: StageContext): Promise<R>;
  /** The options to re-run it with from its record (refresh of a stale stage); default: the record's. */
  optionsFromRecord?(rec: StageRecord, ws: Workspace): Record<string, unknown>;
  /** The command that refreshes it, for "out of date" messages; default `r2s <name> -w <ws>`. */
  refreshCommand?(rec: StageRecord, ws: Workspace): string;
}

export type StageLockMode = 'workspace' | 'none';

/** What plan() returns. `force` makes it run even when up to date (train --resume). */
export type StagePlan = RecordSpec & { force?: boolean };

export type StageOptions<S extends { options: z.ZodObject }> = z.infer<S['options']>;

/** Identity, for type inference of a spec literal. */
export function defineStage<S extends z.ZodObject, R extends object>(spec: StageSpec<S, R>): StageSpec<S, R> {
  return spec;
}

/**
 * Validate plain options (from a command line — strings —, a YAML pipeline or a queue job) against
 * a stage's schema: typed options with defaults applied, or a UserError whose one line names the
 * option and its valid range ("--iterations must be an integer in 1..1e7, got -5").
 */
export function parseStageOptions<S extends { name: string; options: z.ZodObject }>(spec: S, input: Record<string, unknown>): StageOptions<S> {
  return parseOptions(spec.options, input, `r2s ${spec.name} --help`) as StageOptions<S>;
}

/** parseStageOptions for any option schema (reconstruct's, a bench's). */
export function parseOptions<S extends z.ZodObject>(schema: S, input: Record<string, unknown>, help: string): z.infer<S> {
  const fields = new Map(optionFields(schema).map((f) => [f.key, f]));
  const byFlag = new Map([...fields.values()].map((f) => [f.flag, f]));
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    const f = fields.get(k) ?? byFlag.get(k);
    if (!f) throw new UserError(`unknown option '${k}'`, { fix: `see ${help}` });
    values[f.key] = coerce(f, v, help);
  }
  const r = schema.safeParse(values);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const f = fields.get(String(issue.path[0]));
  if (!f) throw new UserError(`invalid options: ${issue.message}`, { fix: `see ${help}` });
  if (values[f.key] === undefined) throw new UserError(`option '${f.key}' is required (${f.meta.doc})`, { fix: `see ${help}` });
  throw rangeError(f, values[f.key], help);
}

function rangeError(f: OptionField, got: unknown, help: string): UserError {
  const shown = Array.isArray(got) ? got.join(',') : typeof got === 'string' ? `'${got}'` : String(got);
  return new UserError(`--${f.flag} must be ${describeRange(f.meta)}, got ${shown}`, { fix: `see ${help}` });
}

/** Plain decimal only: "0x10", "1e20 " or "" are not the numbers a person meant. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

function coerce(f: OptionField, v: unknown, help: string): unknown {
  const m: OptionMeta = f.meta;
  const notNumber = () =>
    new UserError(`--${f.flag} must be a number (${describeRange(m)}), got '${String(v)}'`, { fix: `see ${help}` });
  if (m.kind === 'int' || m.kind === 'number') {
    if (typeof v === 'number') return v;
    if (typeof v !== 'string' || !(m.kind === 'int' ? INTEGER : DECIMAL).test(v.trim())) {
      if (typeof v === 'string' && m.kind === 'int' && DECIMAL.test(v.trim())) throw rangeError(f, v, help);
      throw notNumber();
    }
    return Number(v);
  }
  if (m.kind === 'boolean' && typeof v === 'string') {
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw rangeError(f, v, help);
  }
  if (m.kind === 'rgb' && typeof v === 'string') {
    const parts = v.split(',');
    if (parts.length !== 3 || parts.some((p) => !DECIMAL.test(p.trim()))) throw rangeError(f, v, help);
    return parts.map(Number);
  }
  return v;
}
