/**
 * `npm run bench [-- name ...]`: runs each benchmark script `bench/<name>.ts` in its own process
 * (so one failing or crashing benchmark does not stop the rest). Each script writes
 * `bench/<name>.json` itself. With no names, runs them all.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_') && !f.startsWith('.'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bench: no benchmark '${name}' (have: ${all.join(', ')})`);
    failed++;
    continue;
  }
  console.error(`bench: ${name}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.ts`)], { stdio: 'inherit' });
  console.error(`bench: ${name} ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
