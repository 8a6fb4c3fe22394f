/**
 * The r2s version from package.json, recorded in every stage.json. Found by walking up from this
 * module (src/util/ in a checkout; one bundled file elsewhere, e.g. bench/device/pack.sh's
 * devrun/), taking the first package.json named r2s; 'unknown' when there is none.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

function findVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'r2s' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* not ours or unreadable: keep looking */
    }
  }
  return 'unknown';
}

export const version: string = findVersion();
