/**
 * Ingest: a photo folder or a video → an images folder, an optional masks folder and priors.json.
 * Everything is built in temporary folders and swapped in only when the whole input went through,
 * so a bad input never damages an earlier ingest. A library function on paths; the `ingest` stage
 * (src/stages/ingest.ts) maps a workspace onto them.
 *
 * An input is never written: ingesting from the folder ingest replaces (the workspace's own
 * images/ or masks/, or a folder inside them) is refused before anything runs, with the fix
 * (move the photos out). Working on a copy instead would still replace the user's originals in
 * that folder by their downscaled, re-encoded versions — the data loss this check exists to stop.
 */
import { promises as fs, statSync, accessSync, constants as fsc, existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { replaceDirAtomic, writeJsonAtomic } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { warn } from '../util/log.js';
import { isImageFile } from '../io/images.js';
import { isVideoFile } from '../io/video.js';
import { ingestPhotos, listPhotos } from './photos.js';
import { DEFAULT_FPS, ingestVideo } from './video.js';
import { ingestMasks } from './masks.js';
import type { Priors } from './priors.js';

export interface IngestInput {
  /** photo folder or video file (absolute) */
  input: string;
  kind: 'photos' | 'video';
  maxSize?: number;
  /** video only */
  fps?: number;
  /** folder of masks named like the photos (absolute) */
  masks?: string;
  /** no progress bars (tests) */
  silent?: boolean;
}

/** Where ingest writes. */
export interface IngestPaths {
  imagesDir: string;
  masksDir: string;
  priorsPath: string;
}

export interface IngestCounts {
  kind: 'photos' | 'video';
  images: number;
  dropped: number;
  /** dropped counts by reason's first word ("blurry", "near-duplicate", "not") */
  droppedBy: Record<string, number>;
  focalSources: Record<string, number>;
  gps: number;
  masks: number;
}

export function inputKind(input: string): 'photos' | 'video' {
  let st: import('node:fs').Stats;
  try {
    st = statSync(input);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${input}: no such file or folder`, { file: input, fix: 'check the path' });
    if (code === 'ENOTDIR') throw new UserError(`${input}: no such file or folder (part of the path is a file)`, { file: input, fix: 'check the path' });
    throw new UserError(`${input}: cannot access (${code})`, { file: input, fix: 'check the permissions' });
  }
  if (st.isDirectory()) return 'photos';
  if (isImageFile(input)) throw new UserError(`${input}: is a single photo`, { file: input, fix: 'pass the folder that holds the photos' });
  if (!st.isFile()) throw new UserError(`${input}: not a folder or a file`, { file: input, fix: 'pass a folder of photos or a video file' });
  if (!isVideoFile(input)) {
    throw new UserError(`${input}: not a folder of photos nor a video (.mp4 .mov .mkv .avi .webm)`, { file: input, fix: 'pass a folder of photos or a video file' });
  }
  try {
    accessSync(input, fsc.R_OK);
  } catch {
    throw new UserError(`${input}: cannot read`, { file: input, fix: 'check the file permissions' });
  }
  return 'video';
}

/**
 * Check an ingest before anything is written: the input's kind, a readable non-empty photo
 * folder, the masks folder. Returns the kind and the frame rate that applies.
 */
export async function checkIngestInput(input: string, o: { fps?: number; masks?: string }): Promise<{ kind: 'photos' | 'video'; fps?: number }> {
  const kind = inputKind(input);
  // Batch pipelines may set --fps for every input: for photos it just does not apply.
  if (o.fps !== undefined && kind === 'photos') warn(`--fps applies to videos; ignored for the photo folder ${input}`);
  // Read the folder now, so an unreadable or empty one fails with a clear message first.
  if (kind === 'photos') await listPhotos(input);
  if (o.masks && !(existsSync(o.masks) && statSync(o.masks).isDirectory())) {
    throw new UserError(`${o.masks}: no such folder`, { file: o.masks, fix: 'pass --masks <folder of mask images named like the photos>' });
  }
  return { kind, fps: kind === 'video' ? (o.fps ?? DEFAULT_FPS) : undefined };
}

/** `p` with symbolic links resolved as far as it exists (the rest appended). */
function realish(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realish(parent), path.basename(abs));
  }
}

/** Whether `inner` is `outer` or lies inside it (after resolving links). */
function within(inner: string, outer: string): boolean {
  const rel = path.relative(realish(outer), realish(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Refuse an ingest that would replace its own input: photos (or a video, or masks) inside the
 * images/ or masks/ folder that ingest swaps out. One line naming the folder and the fix.
 */
export function refuseOwnOutput(input: string, masks: string | undefined, out: Pick<IngestPaths, 'imagesDir' | 'masksDir'>): void {
  for (const [what, src] of [['input', input], ['--masks', masks]] as const) {
    if (!src) continue;
    for (const dir of [out.imagesDir, out.masksDir]) {
      if (!within(src, dir)) continue;
      const other = path.join(path.dirname(dir), what === 'input' ? 'photos' : 'masks-in');
      throw new UserError(`${src}: ${what === 'input' ? 'the input' : 'the masks folder'} is inside ${dir}, the folder ingest replaces — its files would be overwritten`, {
        file: src,
        fix: `move them out first (e.g. mv ${dir} ${other}) and ingest from there, or use another workspace (-w)`,
      });
    }
  }
}

/** Run the ingest into `out`; returns the priors written. */
export async function ingestInto(o: IngestInput, out: IngestPaths): Promise<Priors> {
  refuseOwnOutput(o.input, o.masks, out);
  let priors: Priors | undefined;
  await replaceDirAtomic(out.imagesDir, async (tmpImages) => {
    const opts = { maxSize: o.maxSize, silent: o.silent };
    const r = o.kind === 'photos' ? await ingestPhotos(o.input, tmpImages, opts) : await ingestVideo(o.input, tmpImages, { ...opts, fps: o.fps });
    priors = {
      version: 1,
      input: { kind: o.kind, path: o.input },
      ...('enuOrigin' in r && r.enuOrigin ? { enuOrigin: r.enuOrigin } : {}),
      images: r.images,
      dropped: r.dropped,
    };
    // Masks are built inside the images build: a bad mask leaves both folders untouched.
    const masks = o.masks;
    if (masks) await replaceDirAtomic(out.masksDir, (tmpMasks) => ingestMasks(masks, r.images, tmpMasks).then(() => undefined));
  });
  const kept = priors!.images;
  if (kept.length === 1) {
    const what = o.kind === 'photos' ? 'photo' : 'video frame';
    warn(`only 1 ${what} kept (${kept[0]!.name}): structure from motion needs at least 2 overlapping photos — add more views of the scene`);
  }
  await writeJsonAtomic(out.priorsPath, priors);
  // Masks of an earlier ingest no longer belong to these images.
  if (!o.masks) await fs.rm(out.masksDir, { recursive: true, force: true });
  return priors!;
}

/** Counts for a summary line. */
export function countPriors(p: Priors): IngestCounts {
  const droppedBy: Record<string, number> = {};
  for (const d of p.dropped) {
    const k = d.reason.split(/[:\s]/)[0] || 'other';
    droppedBy[k] = (droppedBy[k] ?? 0) + 1;
  }
  const focalSources: Record<string, number> = {};
  for (const im of p.images) focalSources[im.focalSource] = (focalSources[im.focalSource] ?? 0) + 1;
  return {
    kind: p.input.kind,
    images: p.images.length,
    dropped: p.dropped.length,
    droppedBy,
    focalSources,
    gps: p.images.filter((i) => i.gps).length,
    masks: p.images.filter((i) => i.mask).length,
  };
}


/** Temporary siblings of atomic writes (src/util/fsx.ts): `.<name>.tmp-<pid>-<8 hex>[-old]`. */
const TMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-f]{8}(?:-old)?$/;

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove what killed runs left behind: temporary folders and files of atomic writes in the
 * workspace folder and the folders directly inside it (`.images.tmp-…`, `stages/.ingest.json.tmp-…`).
 * Call it only while holding the workspace lock: then no other process is writing there, so a
 * temporary older than this run, or whose process is gone, is garbage. One whose process is alive
 * and that appeared during this run is left alone, and so is any of a live process in stages/, where
 * lock-free stages write their records. Returns the paths removed.
 */
export async function removeStaleTemps(root: string, runStartedMs: number): Promise<string[]> {
  const removed: string[] = [];
  const visit = async (dir: string, depth: number) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable: not ours to clean
    }
    for (const ent of entries) {
      const p = path.join(dir, ent.name);
      const m = TMP_NAME.exec(ent.name);
      if (m) {
        let mtime: number;
        try {
          mtime = (await fs.lstat(p)).mtimeMs;
        } catch {
          continue;
        }
        // Stages that take no lock (extract) write their record into stages/ while we hold it:
        // there only a dead process's temporaries are garbage.
        const lockFree = depth === 1 && path.basename(dir) === 'stages';
        if (pidAlive(Number(m[1])) && (mtime >= runStartedMs || lockFree)) continue;
        try {
          await fs.rm(p, { recursive: true, force: true });
          removed.push(p);
        } catch {
          // a read-only leftover: the writability checks report the folder if it matters
        }
      } else if (depth === 0 && ent.isDirectory() && !ent.name.startsWith('.')) {
        await visit(p, 1);
      }
    }
  };
  await visit(root, 0);
  return removed;
}
