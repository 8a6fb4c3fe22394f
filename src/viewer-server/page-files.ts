/**
 * Which of the target's files `r2s view` serves under /files/<mount>/: only what the page loads
 * (viewer/src: main.ts, splats.ts, compare.ts, asset-view.ts, assets.ts, open-file.ts), so that the
 * rest of a workspace — GPS priors, the SfM database, stage records, logs — never leaves it:
 *
 * - splat files (.ply / .spz / .splat) anywhere in a mount: the scene, and what `?file=` opens;
 * - `images/<name>` of the workspace for each image of the sparse model (the capture cameras'
 *   photos, /api/cameras.json);
 * - an asset folder's mesh.glb, collision.glb and asset.json (the manifest's assetFiles);
 * - the asset library's catalog.json and every file its entries name (splats, mesh, collider,
 *   thumbnail), re-read when the catalog changes (extraction may add assets while the viewer runs).
 *
 * Paths are compared as decoded segments joined by "/"; safe-path.ts has already refused "..",
 * hidden names and anything outside the mount.
 */
import { statSync } from 'node:fs';
import type { SparseModel } from '../core/sparse-model.js';
import type { ViewerManifest } from './protocol.js';
import { splatFormatOf } from './protocol.js';
import { readCatalog } from './catalog.js';
import type { ViewTarget } from './target.js';

/** `/files/<mount>/a/b%20c` → `a/b c` when it lies under that mount, else null. */
function relOfUrl(url: string | null | undefined, mount: string): string | null {
  const prefix = `/files/${mount}/`;
  if (!url || !url.startsWith(prefix)) return null;
  try {
    return url.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent).join('/');
  } catch {
    return null;
  }
}

/** A predicate: may /files/<mount>/<segments> be served? */
export function pageFiles(target: ViewTarget, manifest: ViewerManifest, model: SparseModel | null): (mount: string, segments: string[]) => boolean {
  const fixed = new Map<string, Set<string>>();
  const add = (mount: string, rel: string | null) => {
    if (!rel) return;
    if (!fixed.has(mount)) fixed.set(mount, new Set());
    fixed.get(mount)!.add(rel);
  };
  // photos of the capture cameras
  if (model && target.imagesDir && target.mounts.has('ws')) {
    for (const img of model.images.values()) add('ws', ['images', ...img.name.split(/[\\/]/).filter(Boolean)].join('/'));
  }
  for (const m of target.mounts.keys()) {
    add(m, relOfUrl(manifest.splats?.url, m));
    for (const u of Object.values(manifest.assetFiles ?? {})) add(m, relOfUrl(u, m));
  }

  // the library: catalog.json and what it lists, cached per version of the catalog
  let libKey = '';
  let libFiles = new Set<string>();
  const library = (): Set<string> => {
    if (!target.catalogPath) return new Set();
    let key: string;
    try {
      const st = statSync(target.catalogPath);
      key = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return new Set();
    }
    if (key !== libKey) {
      const files = new Set<string>(['catalog.json']);
      try {
        for (const a of readCatalog(target.catalogPath, '/files/lib').assets) {
          for (const u of [a.url, a.meshUrl, a.collisionUrl, a.thumbnailUrl]) {
            const rel = relOfUrl(u, 'lib');
            if (rel) files.add(rel);
          }
        }
      } catch {
        // an unreadable catalog: /api/catalog.json says why; only the file itself is served
      }
      libKey = key;
      libFiles = files;
    }
    return libFiles;
  };

  return (mount, segments) => {
    const rel = segments.join('/');
    if (splatFormatOf(rel)) return true;
    if (fixed.get(mount)?.has(rel)) return true;
    return mount === 'lib' && library().has(rel);
  };
}
