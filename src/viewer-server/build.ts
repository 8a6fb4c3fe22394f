/**
 * The built viewer for `r2s view`: viewer/dist when `npm run build` made it from the current
 * sources, else a cached build under node_modules/.cache/r2s-viewer (git-ignored), made on the fly
 * with Vite's JS API when missing or stale.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceDirAtomic, writeJsonAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/log.js';
import { BUILD_STAMP, viewerSourceHash } from './source-hash.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function stampMatches(dir: string, hash: string): boolean {
  try {
    return (JSON.parse(readFileSync(path.join(dir, BUILD_STAMP), 'utf8')) as { sourceHash?: string }).sourceHash === hash;
  } catch {
    return false;
  }
}

export function viewerCacheDir(): string {
  return path.join(repoRoot, 'node_modules', '.cache', 'r2s-viewer');
}

/** Folder of a current viewer build, building one if needed. */
export async function ensureViewerBuild(opts: { force?: boolean } = {}): Promise<string> {
  const viewerDir = path.join(repoRoot, 'viewer');
  if (!existsSync(path.join(viewerDir, 'index.html'))) {
    throw new UserError(`viewer sources missing in ${viewerDir}`, { fix: 'reinstall r2s from its repository' });
  }
  const hash = viewerSourceHash(repoRoot);
  const dist = path.join(viewerDir, 'dist');
  if (!opts.force && stampMatches(dist, hash)) return dist;
  const cache = viewerCacheDir();
  if (!opts.force && stampMatches(cache, hash)) return cache;

  info('building the viewer (once per version of its sources)…');
  const t0 = Date.now();
  const { build } = await import('vite');
  await replaceDirAtomic(cache, async (tmp) => {
    await build({
      root: viewerDir,
      configFile: path.join(viewerDir, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: tmp, emptyOutDir: true },
    });
    // the config writes the stamp too; write it here as well in case a custom config does not
    await writeJsonAtomic(path.join(tmp, BUILD_STAMP), { sourceHash: hash, builtAt: new Date().toISOString() });
  });
  info(`viewer built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return cache;
}
