/**
 * What `r2s view <path>` serves: a workspace, a single splat file, an asset folder or an asset
 * library. The result names the folders the server may read (mounts) and where each piece is.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { splatFormatOf } from './protocol.js';
import { findColmapModelDir } from '../io/colmap.js';

/** A folder exposed read-only under /files/<name>/; `only` limits it to those file names. */
export interface Mount {
  dir: string;
  only?: Set<string>;
}

export interface ViewTarget {
  kind: 'workspace' | 'file' | 'asset' | 'library';
  title: string;
  mounts: Map<string, Mount>;
  /** main splat file: mount name + path inside it */
  splats: { mount: string; rel: string; abs: string } | null;
  /** folder holding the COLMAP model (cameras/images/points3D .bin or .txt) */
  sparseDir: string | null;
  /** folder of the photos named in the sparse model */
  imagesDir: string | null;
  /** catalog.json of an asset library */
  catalogPath: string | null;
}

const SPLAT_NAMES = ['splats.spz', 'splats.ply', 'splats.splat'];

function firstExisting(dir: string, names: string[]): string | null {
  for (const n of names) if (existsSync(path.join(dir, n))) return n;
  return null;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** COLMAP models live in sparse/ or, as COLMAP's mapper writes them, sparse/0/. */
export function findSparseDir(ws: string): string | null {
  return isDir(path.join(ws, 'sparse')) ? findColmapModelDir(path.join(ws, 'sparse')) : null;
}

function findCatalog(dirs: string[]): string | null {
  for (const d of dirs) {
    const p = path.join(d, 'catalog.json');
    if (existsSync(p)) return p;
  }
  return null;
}

export function resolveTarget(input: string, opts: { assetsDir?: string } = {}): ViewTarget {
  const abs = path.resolve(input);
  if (!existsSync(abs)) throw new UserError(`${input} does not exist`, { fix: 'pass a workspace folder or a .ply/.spz/.splat file' });
  const mounts = new Map<string, Mount>();
  const explicitCatalog = opts.assetsDir ? findCatalog([path.resolve(opts.assetsDir)]) : null;
  if (opts.assetsDir && !explicitCatalog) {
    throw new UserError(`${opts.assetsDir} has no catalog.json`, { fix: 'pass the asset library folder (the one holding catalog.json) to --assets' });
  }

  if (!isDir(abs)) {
    if (!splatFormatOf(abs)) {
      throw new UserError(`${input} is not a splat file`, { fix: 'pass a .ply, .spz or .splat file, or a workspace folder' });
    }
    const name = path.basename(abs);
    mounts.set('scene', { dir: path.dirname(abs), only: new Set([name]) });
    return withCatalog({ kind: 'file', title: name, mounts, splats: { mount: 'scene', rel: name, abs }, sparseDir: null, imagesDir: null, catalogPath: null }, explicitCatalog);
  }

  const title = path.basename(abs);
  // an asset library: the folder holding catalog.json
  if (existsSync(path.join(abs, 'catalog.json'))) {
    mounts.set('lib', { dir: abs });
    return { kind: 'library', title, mounts, splats: null, sparseDir: null, imagesDir: null, catalogPath: path.join(abs, 'catalog.json') };
  }
  // one asset: asset.json and/or splats.* at the top
  const assetSplats = firstExisting(abs, SPLAT_NAMES);
  if (assetSplats && !isDir(path.join(abs, 'scene'))) {
    mounts.set('asset', { dir: abs });
    const t: ViewTarget = { kind: 'asset', title, mounts, splats: { mount: 'asset', rel: assetSplats, abs: path.join(abs, assetSplats) }, sparseDir: null, imagesDir: null, catalogPath: null };
    return withCatalog(t, explicitCatalog);
  }
  // a workspace
  const sparseDir = findSparseDir(abs);
  const sceneDir = path.join(abs, 'scene');
  const sceneSplats = isDir(sceneDir) ? firstExisting(sceneDir, SPLAT_NAMES) : null;
  if (!sparseDir && !sceneSplats) {
    throw new UserError(`${input} has neither scene/splats.(spz|ply) nor a sparse/ model`, {
      fix: 'run r2s sfm / r2s train on it first, or pass a .ply/.spz file',
    });
  }
  mounts.set('ws', { dir: abs });
  const t: ViewTarget = {
    kind: 'workspace',
    title,
    mounts,
    splats: sceneSplats ? { mount: 'ws', rel: `scene/${sceneSplats}`, abs: path.join(sceneDir, sceneSplats) } : null,
    sparseDir,
    imagesDir: isDir(path.join(abs, 'images')) ? path.join(abs, 'images') : null,
    catalogPath: null,
  };
  return withCatalog(t, explicitCatalog ?? findCatalog([path.join(abs, 'assets')]));
}

function withCatalog(t: ViewTarget, catalogPath: string | null): ViewTarget {
  if (!catalogPath) return t;
  const dir = path.dirname(catalogPath);
  // the library may sit inside a mounted folder already; a separate mount keeps URLs simple
  t.mounts.set('lib', { dir });
  return { ...t, catalogPath };
}
