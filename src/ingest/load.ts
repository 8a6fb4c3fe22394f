/**
 * Reading priors.json for later stages, with a clear message when ingest has not run yet.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import type { Priors } from './priors.js';

export function loadPriors(workspace: string): Priors {
  const file = path.join(workspace, 'priors.json');
  if (!existsSync(file)) throw new UserError(`${file}: not found`, { file, fix: `run 'r2s ingest <photos-dir | video> -w ${workspace}' first` });
  let p: Priors;
  try {
    p = JSON.parse(readFileSync(file, 'utf8')) as Priors;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`, { file, fix: 'run r2s ingest again with --force' });
  }
  if (p.version !== 1 || !Array.isArray(p.images)) {
    throw new UserError(`${file}: unexpected format (version ${String(p.version)})`, { file, fix: 'run r2s ingest again with --force' });
  }
  return p;
}
