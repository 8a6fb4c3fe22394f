/**
 * The one place the batch system touches the stage API (src/pipeline/stage.ts, src/stages/): list
 * the stages, validate a YAML stage's options with the same schema and messages as the CLI, and
 * turn validated options back into the command line a person would type. Everything else in
 * src/batch works with the plain `BatchStage` below, so a change of the stage API is adapted here.
 */
import { UserError, errorMessage } from '../util/errors.js';
import { optionFields, parseStageOptions, type OptionField, type StageSpec } from '../pipeline/stage.js';

/** What the batch system needs to know about a stage. */
export interface BatchStage {
  name: string;
  summary: string;
  /** stages whose outputs it consumes (any one of them) */
  after: readonly string[];
  /** the option that receives the capture's input path (ingest's photos/video), if any */
  inputOption?: string;
  /** can pick up from a checkpoint after an interruption (train: --resume) */
  resumable: boolean;
  /** option keys and flags it accepts (for "did you mean") */
  flags: readonly string[];
  /** validates plain options; throws a UserError naming the option and its valid range */
  validate(plain: Record<string, unknown>): void;
  /** `r2s <name> …` arguments (after the command name) for a workspace and plain options */
  argv(workspace: string, plain: Record<string, unknown>, o: { resume: boolean }): string[];
}

export interface StageCatalog {
  stages: ReadonlyMap<string, BatchStage>;
  /** why a known stage is missing from this build (extract before it lands) */
  unavailable(name: string): string | null;
}

/** Stages a pipeline may name that later builds add; until then they are "not available". */
const PLANNED_STAGES = ['extract', 'compose'];

let cached: Promise<StageCatalog> | null = null;

/** The stages of this build, from src/stages/index.ts. */
export function loadStageCatalog(): Promise<StageCatalog> {
  cached ??= (async () => catalogOf(await importStageSpecs()))();
  return cached;
}

/** Wrap stage specs (exported for tests that bring their own). */
export function catalogOf(specs: readonly StageSpec[]): StageCatalog {
  const stages = new Map(specs.map((s) => [s.name, toBatchStage(s)]));
  return {
    stages,
    unavailable: (name) => (!stages.has(name) && PLANNED_STAGES.includes(name) ? `stage '${name}' is not available in this build` : null),
  };
}

function toBatchStage(spec: StageSpec): BatchStage {
  const fields = optionFields(spec.options);
  const byName = new Map<string, OptionField>();
  for (const f of fields) {
    byName.set(f.key, f);
    byName.set(f.flag, f);
  }
  const positionals = spec.workspacePositional ? [] : (spec.positionals ?? []);
  const inputOption = positionals[0]?.key;
  const resumable = byName.has('resume');
  return {
    name: spec.name,
    summary: spec.summary,
    after: spec.after,
    inputOption,
    resumable,
    flags: fields.map((f) => f.flag),
    validate(plain) {
      // A placeholder stands in for the capture's input, which is known per capture only.
      const probe = inputOption && plain[inputOption] === undefined ? { ...plain, [inputOption]: '<input>' } : plain;
      parseStageOptions(spec, probe);
    },
    argv(workspace, plain, o) {
      const args: string[] = [];
      for (const p of positionals) if (plain[p.key] !== undefined) args.push(String(plain[p.key]));
      args.push('-w', workspace, '--json');
      for (const [k, v] of Object.entries(plain)) {
        const f = byName.get(k);
        if (!f || v === undefined || positionals.some((p) => p.key === f.key)) continue;
        if (f.key === 'resume') continue; // decided by the batch, below
        args.push(...flagArgs(f, v));
      }
      if (o.resume && resumable) args.push('--resume');
      return args;
    },
  };
}

/** One option as command-line words: --flag value, --flag / --no-flag for switches. */
function flagArgs(f: OptionField, v: unknown): string[] {
  if (f.meta.kind === 'boolean' || typeof v === 'boolean') {
    const on = v === true || v === 'true';
    if (on) return f.meta.negate === 'only' ? [] : [`--${f.flag}`];
    return f.meta.negate ? [`--no-${f.flag}`] : [];
  }
  return [`--${f.flag}`, Array.isArray(v) ? v.join(',') : String(v)];
}

/** The stage list, loaded on first use: it pulls in every stage's code (the trainer, tfjs). */
async function importStageSpecs(): Promise<readonly StageSpec[]> {
  try {
    return (await import('../stages/index.js')).allStages;
  } catch (e) {
    throw new UserError(`cannot load the stage list: ${errorMessage(e)}`, { file: 'src/stages/index.ts' });
  }
}
