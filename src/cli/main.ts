/**
 * The `r2s` command: one subcommand per stage plus a few tools, listed in commands/index.ts.
 * Errors print one line (`r2s <command>: ...`) and exit 1; an unknown command exits 2; never a
 * stack trace unless R2S_DEBUG=1.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../util/errors.js';
import { setJsonMode } from '../util/log.js';
import { commands, type CommandModule } from './commands/index.js';

export type { CommandModule };

async function loadCommand(name: string): Promise<CommandModule | null> {
  return Object.hasOwn(commands, name) ? commands[name]!() : null;
}

async function printHelp(): Promise<void> {
  const lines = ['usage: r2s <command> [options]   (r2s <command> --help for its options)', '', 'commands:'];
  for (const name of Object.keys(commands).sort()) {
    const mod = await loadCommand(name);
    lines.push(`  ${name.padEnd(12)} ${mod?.summary ?? ''}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** What `r2s <name> --help` prints. */
export async function commandHelp(name: string): Promise<string | null> {
  const mod = await loadCommand(name);
  if (!mod) return null;
  const usage = mod.help ? await mod.help() : mod.usage;
  return `r2s ${name}: ${mod.summary}\n${usage ? '\n' + usage + '\n' : ''}`;
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
  let mod: CommandModule | null;
  try {
    mod = await loadCommand(name);
  } catch (e) {
    if (process.env.R2S_DEBUG === '1') console.error(e);
    process.stderr.write(`r2s ${name}: ${errorMessage(e)}\n`);
    return 1;
  }
  if (!mod) {
    process.stderr.write(`r2s: unknown command '${name}' (run 'r2s --help' for the list)\n`);
    return 2;
  }
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write((await commandHelp(name))!);
      return 0;
    }
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
