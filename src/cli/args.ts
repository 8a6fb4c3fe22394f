/**
 * Thin wrapper over node:util parseArgs that turns parse failures into one-line user errors and
 * converts numeric options with validation.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../util/errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

const jsonOption = { json: { type: 'boolean' } } as const;

/** parseArgs with `--json` always accepted; keeps the option types for the caller. */
export function parse<T extends OptionSpec>(argv: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs<{ args: string[]; options: T & typeof jsonOption; allowPositionals: true; strict: true }>({
      args: argv,
      options: { ...jsonOption, ...options },
      allowPositionals: allowPositionals as true,
      strict: true,
    });
  } catch (e) {
    throw new UserError((e as Error).message.split('\n')[0]!, { fix: 'see --help' });
  }
}

export function num(value: unknown, name: string, def?: number): number {
  if (value === undefined) {
    if (def === undefined) throw new UserError(`--${name} is required`);
    return def;
  }
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UserError(`--${name} must be a number, got '${String(value)}'`);
  return n;
}

export function requireWorkspace(value: unknown): string {
  if (typeof value !== 'string' || !value) throw new UserError('no workspace given', { fix: 'pass -w <workspace-dir>' });
  return value;
}
