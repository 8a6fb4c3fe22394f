/**
 * The `r2s` command: one subcommand per stage. Each subcommand lives in
 * `src/cli/commands/<name>.ts` and exports `summary` and `run(argv)`.
 * Errors print one line (`r2s: ...`) and exit non-zero; never a stack trace unless R2S_DEBUG=1.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../util/errors.js';
import { setJsonMode } from '../util/log.js';

export interface CommandModule {
  summary: string;
  usage?: string;
  run(argv: string[]): Promise<number | void>;
}

const commandsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'commands');

function availableCommands(): string[] {
  try {
    return readdirSync(commandsDir)
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .map((f) => f.replace(/\.(ts|js)$/, ''))
      .sort();
  } catch {
    return [];
  }
}

async function loadCommand(name: string): Promise<CommandModule | null> {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !availableCommands().includes(name)) return null;
  return (await import(`./commands/${name}.js`)) as CommandModule;
}

async function printHelp(): Promise<void> {
  const lines = ['usage: r2s <command> [options]   (r2s <command> --help for its options)', '', 'commands:'];
  for (const name of availableCommands()) {
    const mod = await loadCommand(name);
    lines.push(`  ${name.padEnd(12)} ${mod?.summary ?? ''}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    await printHelp();
    return name ? 0 : 1;
  }
  if (name === '--version') {
    process.stdout.write(`${(await import('../util/version.js')).version}\n`);
    return 0;
  }
  if (rest.includes('--json')) setJsonMode(true);
  const mod = await loadCommand(name);
  if (!mod) {
    process.stderr.write(`r2s: unknown command '${name}' (run 'r2s --help' for the list)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`r2s ${name}: ${mod.summary}\n${mod.usage ? '\n' + mod.usage + '\n' : ''}`);
    return 0;
  }
  try {
    const code = await mod.run(rest);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (process.env.R2S_DEBUG === '1') console.error(e);
    process.stderr.write(`r2s ${name}: ${errorMessage(e)}\n`);
    return 1;
  }
}

const isEntry = (() => {
  const entry = process.argv[1] ? path.resolve(process.argv[1]) : '';
  const self = fileURLToPath(import.meta.url);
  return entry === self || entry.endsWith(path.join('bin', 'r2s.mjs'));
})();

if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Dawn and worker pools can keep the event loop alive; commands are done here.
      setTimeout(() => process.exit(code), 50).unref();
    },
    (e) => {
      process.stderr.write(`r2s: ${errorMessage(e)}\n`);
      process.exit(1);
    },
  );
}
