/**
 * Command-line parsing over commander, for the hand-written commands (doctor, view, bench): the
 * parseArgs-like shape they were written against, with one-line errors, `--json` always accepted,
 * and numbers taken as numbers ("--port -1" is the value -1, then range-checked, not "ambiguous").
 */
import { Command, CommanderError, Option } from 'commander';
import { UserError } from '../util/errors.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type Values<T extends OptionSpec> = { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string } & { json?: boolean };

/** A commander command that throws instead of exiting or printing. */
export function quietCommand(name: string): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .helpOption(false)
    .allowExcessArguments(true)
    .allowUnknownOption(false);
}

/** Commander's "error: unknown option '--x'" as our one-line error. */
export function commanderError(e: unknown, help: string): unknown {
  if (!(e instanceof CommanderError)) return e;
  const msg = e.message.replace(/^error:\s*/, '').split('\n')[0]!;
  return new UserError(msg, { fix: `see ${help}` });
}

export function parse<T extends OptionSpec>(argv: string[], options: T, allowPositionals = true, help = '--help'): { values: Values<T>; positionals: string[] } {
  const cmd = quietCommand('r2s').argument('[args...]');
  const attr = new Map<string, Option>();
  for (const [name, spec] of Object.entries({ ...options, json: { type: 'boolean' as const } })) {
    const opt = new Option(`${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ' <value>' : ''}`);
    cmd.addOption(opt);
    attr.set(name, opt);
  }
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    throw commanderError(e, help);
  }
  const raw = cmd.opts();
  const values: Record<string, unknown> = {};
  for (const [name, opt] of attr) {
    const v = raw[opt.attributeName()];
    // commander reads --no-open as open=false; callers asked for 'no-open'
    values[name] = opt.negate ? (v === false ? true : undefined) : v;
  }
  const positionals = cmd.args;
  if (!allowPositionals && positionals.length) throw new UserError(`unexpected argument '${positionals[0]}'`, { fix: `see ${help}` });
  return { values: values as Values<T>, positionals };
}

/** Plain decimal numbers only ("0x10" and "" are not what a person meant). */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function num(value: unknown, name: string, def?: number): number {
  if (value === undefined) {
    if (def === undefined) throw new UserError(`--${name} is required`);
    return def;
  }
  const n = typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new UserError(`--${name} must be a number, got '${String(value)}'`);
  return n;
}
