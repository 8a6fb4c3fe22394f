// Vite build of the viewer page. `npm run build` (vite build viewer) writes viewer/dist;
// `r2s view` builds into its cache folder with the same config when no current build exists.
import { defineConfig, type Plugin } from 'vite';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { viewerSourceHash, BUILD_STAMP } from '../src/viewer-server/source-hash.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');

// Stamp each build with the hash of its sources so `r2s view` can tell a stale build.
function buildStamp(): Plugin {
  let outDir = '';
  return {
    name: 'r2s-build-stamp',
    apply: 'build',
    configResolved(c) {
      outDir = path.resolve(c.root, c.build.outDir);
    },
    closeBundle() {
      writeFileSync(
        path.join(outDir, BUILD_STAMP),
        JSON.stringify({ sourceHash: viewerSourceHash(repoRoot), builtAt: new Date().toISOString() }) + '\n',
      );
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [buildStamp()],
  // the page imports shared TypeScript from ../src
  server: { fs: { allow: [repoRoot] } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    reportCompressedSize: false,
  },
});
