/**
 * One place for console output. Human text goes to stderr so that `--json` results on stdout stay
 * machine-readable; in JSON mode, log lines are JSON objects too.
 */
let jsonMode = false;
let quiet = false;

export function setJsonMode(on: boolean): void {
  jsonMode = on;
}
export function isJsonMode(): boolean {
  return jsonMode;
}
export function setQuiet(on: boolean): void {
  quiet = on;
}

export function info(msg: string, fields: Record<string, unknown> = {}): void {
  if (quiet) return;
  if (jsonMode) process.stderr.write(JSON.stringify({ level: 'info', msg, ...fields }) + '\n');
  else process.stderr.write(msg + '\n');
}

export function warn(msg: string, fields: Record<string, unknown> = {}): void {
  if (jsonMode) process.stderr.write(JSON.stringify({ level: 'warn', msg, ...fields }) + '\n');
  else process.stderr.write(`warning: ${msg}\n`);
}

const warnedOnce = new Set<string>();
/** Warn once per process for a given key (e.g. "running on the CPU reference path"). */
export function warnOnce(key: string, msg: string): void {
  if (warnedOnce.has(key)) return;
  warnedOnce.add(key);
  warn(msg);
}

/** The final machine-readable result of a command: the last line on stdout. */
export function result(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}
