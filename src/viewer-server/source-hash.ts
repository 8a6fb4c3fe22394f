/**
 * Fingerprint of everything the built viewer is made from (viewer/ sources, the shared TypeScript
 * it imports, and the three/Spark versions), so `r2s view` can tell whether a build is current.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/** Files outside viewer/ that the viewer bundles. */
const SHARED = ['src/geometry/three-convert.ts', 'src/geometry/rotation.ts', 'src/geometry/linalg.ts', 'src/viewer-server/protocol.ts'];
const PACKAGES = ['three', '@sparkjsdev/spark', 'vite'];

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'dist' || e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

export function viewerSourceHash(repoRoot: string): string {
  const files: string[] = [];
  walk(path.join(repoRoot, 'viewer'), files);
  for (const f of SHARED) files.push(path.join(repoRoot, f));
  files.sort();
  const h = crypto.createHash('sha256');
  for (const f of files) {
    if (!existsSync(f) || !statSync(f).isFile()) continue;
    h.update(path.relative(repoRoot, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  for (const p of PACKAGES) {
    const pj = path.join(repoRoot, 'node_modules', p, 'package.json');
    if (existsSync(pj)) h.update(p + '@' + (JSON.parse(readFileSync(pj, 'utf8')) as { version: string }).version);
  }
  return h.digest('hex').slice(0, 16);
}

export const BUILD_STAMP = 'r2s-build.json';
