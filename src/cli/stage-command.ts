/**
 * A stage as a command: parse argv with the stage's schema, run it with the runner, print one line
 * (or, with --json, the result as the last line of stdout). The command owns no stage logic.
 */
import type { z } from 'zod';
import type { StageSpec } from '../pipeline/stage.js';
import type { StageOutcome } from '../pipeline/runner.js';
import { Workspace } from '../pipeline/workspace.js';
import { lazyRunner } from '../stages/catalog.js';
import { info, result } from '../util/log.js';
import { parseSchemaArgs, schemaUsage } from './schema-command.js';

export interface CommandModule {
  summary: string;
  usage?: string;
  /** usage text that needs loading first (reconstruct's borrows train's fields) */
  help?(): Promise<string>;
  run(argv: string[]): Promise<number | void>;
}

/** How a stage's outcome is shown: the --json object and the human line (null: nothing). */
export interface Presenter<R extends object> {
  /** `given`: the workspace as typed on the command line */
  json(out: StageOutcome<R>, ws: Workspace, given: string): object;
  line(out: StageOutcome<R>, ws: Workspace): string | null;
  /** more lines (sfm lists the images it could not register) */
  extra?(out: StageOutcome<R>, ws: Workspace): string[];
  /** the human lines are the command's output (extract --auto lists objects): stdout, not the log */
  stdout?: boolean;
}

export function stageCommand<S extends z.ZodObject, R extends object>(spec: StageSpec<S, R>, present: Presenter<R>): CommandModule {
  const schema = { name: spec.name, summary: spec.summary, options: spec.options, positionals: spec.positionals, workspacePositional: spec.workspacePositional, force: forceDoc(spec.name) };
  return {
    summary: spec.summary,
    get usage() {
      return schemaUsage(schema);
    },
    async run(argv: string[]): Promise<number> {
      const a = parseSchemaArgs<z.infer<S>>(schema, argv);
      const ws = new Workspace(a.workspace);
      const out = await lazyRunner.run(spec, ws, a.options, { force: a.force });
      if (a.json) result(present.json(out, ws, a.workspace));
      else {
        const line = present.line(out, ws);
        const print = present.stdout ? (l: string) => process.stdout.write(l + '\n') : (l: string) => info(l);
        if (line) print(line);
        for (const l of present.extra?.(out, ws) ?? []) print(l);
      }
      return 0;
    },
  };
}

/** The --force flag's doc; none for extract, which always runs (its outputs are in the library). */
function forceDoc(name: string): string | undefined {
  if (name === 'extract') return undefined;
  return name === 'synth' ? 'overwrite a non-empty workspace' : 'run even when the stage is up to date';
}
