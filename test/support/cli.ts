/**
 * `r2s ...` as a child process through bin/r2s.mjs, for tests that go through the real CLI:
 * exit code, stdout, stderr, and the last JSON line of stdout (`--json` results).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface CliRun { code: number; stdout: string; stderr: string; json: any }

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** An `r2s(...args)` that runs in `cwd` (so a default ./assets lands there), quiet progress. */
export function cliIn(cwd: string): (...args: string[]) => Promise<CliRun> {
  return (...args) => new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(root, 'bin/r2s.mjs'), ...args], { cwd, env: { ...process.env, R2S_QUIET: '1' } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += String(d)));
    p.stderr.on('data', (d) => (stderr += String(d)));
    p.on('close', (code) => {
      const last = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      resolve({ code: code ?? -1, stdout, stderr, json: last ? JSON.parse(last) : null });
    });
  });
}
