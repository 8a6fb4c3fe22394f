/**
 * Commands generated from an option schema (src/pipeline/options.ts): flags, usage text, defaults
 * and validation all come from the schema; commander only splits the words.
 */
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { UserError } from '../util/errors.js';
import { defaultText, optionFields, parseOptions, type OptionField, type Positional } from '../pipeline/stage.js';
import { commanderError, quietCommand } from './args.js';

export interface SchemaCommandSpec {
  /** e.g. "ingest" */
  name: string;
  summary: string;
  options: z.ZodObject;
  positionals?: readonly Positional[];
  /** `r2s synth WS`: the workspace is the first positional (or -w) */
  workspacePositional?: boolean;
  /** adds --force with this doc */
  force?: string;
}

export interface Parsed<O> {
  workspace: string;
  options: O;
  force: boolean;
  json: boolean;
}

/** One help line per option: the doc, then the default ("(default: 30000)"). */
export function optionHelp(f: OptionField): string {
  const def = defaultText(f);
  if (f.meta.kind === 'boolean' && f.meta.negate === 'only') return `turn off: ${f.meta.doc} (default: on)`;
  return def !== undefined ? `${f.meta.doc} (default: ${def})` : f.meta.doc;
}

function build(spec: SchemaCommandSpec): { cmd: Command; byOption: Map<Option, OptionField> } {
  const pos = spec.workspacePositional ? '<workspace>' : (spec.positionals ?? []).map((p) => `<${p.name}>`).join(' ');
  const usage = `${pos ? pos + ' ' : ''}${spec.workspacePositional ? '' : '-w <workspace> '}[options]`;
  const cmd = quietCommand(`r2s ${spec.name}`).usage(usage).argument('[args...]');
  cmd.addOption(new Option('-w, --workspace <dir>', spec.workspacePositional ? 'workspace folder (or give it first)' : 'workspace folder'));
  const byOption = new Map<Option, OptionField>();
  for (const f of optionFields(spec.options)) {
    const short = f.meta.short ? `-${f.meta.short}, ` : '';
    const add = (flags: string, doc: string) => {
      const o = new Option(flags, doc);
      cmd.addOption(o);
      byOption.set(o, f);
    };
    if (f.meta.kind === 'boolean') {
      if (f.meta.negate !== 'only') add(`${short}--${f.flag}`, optionHelp(f));
      if (f.meta.negate) add(`--no-${f.flag}`, f.meta.negate === 'only' ? optionHelp(f) : `the opposite of --${f.flag}`);
    } else {
      add(`${short}--${f.flag} <${f.meta.placeholder ?? 'value'}>`, optionHelp(f));
    }
  }
  if (spec.force) cmd.addOption(new Option('--force', spec.force));
  cmd.addOption(new Option('--json', 'print a machine-readable result as the last line'));
  return { cmd, byOption };
}

/** The usage text `r2s <name> --help` prints. */
export function schemaUsage(spec: SchemaCommandSpec): string {
  return build(spec).cmd.helpInformation().trimEnd();
}

/** Parse argv against the schema: the workspace, typed options (defaults applied), --force, --json. */
export function parseSchemaArgs<O>(spec: SchemaCommandSpec, argv: string[]): Parsed<O> {
  const help = `r2s ${spec.name} --help`;
  const { cmd, byOption } = build(spec);
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    throw commanderError(e, help);
  }
  const raw = cmd.opts();
  const args = [...cmd.args];
  let workspace = raw.workspace as string | undefined;
  if (spec.workspacePositional) workspace = args.shift() ?? workspace;
  const values: Record<string, unknown> = {};
  const usage = `r2s ${spec.name} ${build(spec).cmd.usage()}`;
  const positionals = spec.positionals ?? [];
  for (const p of positionals) {
    const v = args.shift();
    if (v === undefined) throw new UserError(`no ${p.noun ?? p.key} given`, { fix: usage.replace(' [options]', '') });
    values[p.key] = v;
  }
  if (args.length) {
    const what = positionals[0] ? `one ${positionals[0].noun ?? positionals[0].key} expected, got ${positionals.length + args.length}` : `unexpected argument '${args[0]}'`;
    throw new UserError(what, { fix: usage.replace(' [options]', '') });
  }
  if (!workspace) throw new UserError('no workspace given', { fix: spec.workspacePositional ? `r2s ${spec.name} <workspace-dir>` : 'pass -w <workspace-dir>' });
  for (const [opt, f] of byOption) {
    const v = raw[opt.attributeName()];
    if (v === undefined || cmd.getOptionValueSource(opt.attributeName()) === 'default') continue;
    values[f.key] = v;
  }
  return { workspace, options: parseOptions(spec.options, values, help) as O, force: Boolean(raw.force), json: Boolean(raw.json) };
}
