/**
 * The ingest stage: a photo folder or a video → workspace/images, workspace/masks (optional) and
 * workspace/priors.json. Everything is built in temporary folders and swapped in only when the
 * whole input went through, so a bad input never damages an earlier ingest.
 */
import { promises as fs, statSync, accessSync, constants as fsc, existsSync } from 'node:fs';
import path from 'node:path';
import { Workspace } from '../pipeline/workspace.js';
import { replaceDirAtomic, writeJsonAtomic, readJson } from '../util/fsx.js';
import { UserError } from '../util/errors.js';
import { warn } from '../util/log.js';
import { isImageFile } from '../io/images.js';
import { isVideoFile } from '../io/video.js';
import { ingestPhotos, listPhotos } from './photos.js';
import { DEFAULT_FPS, ingestVideo } from './video.js';
import { ingestMasks } from './masks.js';
import type { Priors } from './priors.js';

export interface IngestOptions {
  input: string;
  workspace: string;
  maxSize?: number;
  fps?: number;
  masks?: string;
  force?: boolean;
  /** no progress bars (tests) */
  silent?: boolean;
}

export interface IngestSummary {
  skipped: boolean;
  kind: 'photos' | 'video';
  images: number;
  dropped: number;
  /** dropped counts by reason's first word ("blurry", "near-duplicate", "not") */
  droppedBy: Record<string, number>;
  focalSources: Record<string, number>;
  gps: number;
  masks: number;
  priors: string;
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

function checkOptions(o: IngestOptions, kind: 'photos' | 'video'): void {
  if (o.maxSize !== undefined && (!Number.isInteger(o.maxSize) || o.maxSize < 16)) {
    throw new UserError(`--max-size must be a whole number of pixels ≥ 16, got ${o.maxSize}`, { fix: 'e.g. --max-size 1600' });
  }
  if (o.fps !== undefined && (!(o.fps > 0) || o.fps > 240)) throw new UserError(`--fps must be between 0 and 240, got ${o.fps}`, { fix: `e.g. --fps ${DEFAULT_FPS}` });
  // Batch pipelines may set --fps for every input: for photos it just does not apply.
  if (o.fps !== undefined && kind === 'photos') warn(`--fps applies to videos; ignored for the photo folder ${o.input}`);
}

export async function ingest(o: IngestOptions): Promise<IngestSummary> {
  const input = path.resolve(o.input);
  const kind = inputKind(input);
  checkOptions(o, kind);
  // Read the folder now, so an unreadable or empty one fails with a clear message before the
  // stage machinery touches it.
  if (kind === 'photos') await listPhotos(input);
  const masks = o.masks ? path.resolve(o.masks) : undefined;
  if (masks && !(existsSync(masks) && statSync(masks).isDirectory())) {
    throw new UserError(`${masks}: no such folder`, { file: masks, fix: 'pass --masks <folder of mask images named like the photos>' });
  }
  if (existsSync(o.workspace) && !statSync(o.workspace).isDirectory()) {
    throw new UserError(`${o.workspace}: exists and is not a folder`, { file: o.workspace, fix: 'pass -w <a new or existing workspace folder>' });
  }
  const ws = new Workspace(o.workspace);
  const fps = kind === 'video' ? (o.fps ?? DEFAULT_FPS) : undefined;

  const res = await ws.runStage(
    'ingest',
    {
      inputs: masks ? [input, masks] : [input],
      options: { kind, maxSize: o.maxSize ?? null, fps: fps ?? null, masks: masks ?? null },
      outputs: masks ? ['images', 'priors.json', 'masks'] : ['images', 'priors.json'],
      force: o.force,
    },
    async () => {
      let priors: Priors | undefined;
      await replaceDirAtomic(ws.imagesDir, async (tmpImages) => {
        const r = kind === 'photos' ? await ingestPhotos(input, tmpImages, o) : await ingestVideo(input, tmpImages, { ...o, fps });
        priors = {
          version: 1,
          input: { kind, path: input },
          ...('enuOrigin' in r && r.enuOrigin ? { enuOrigin: r.enuOrigin } : {}),
          images: r.images,
          dropped: r.dropped,
        };
        // Masks are built inside the images build: a bad mask leaves both folders untouched.
        if (masks) await replaceDirAtomic(ws.masksDir, (tmpMasks) => ingestMasks(masks, r.images, tmpMasks).then(() => undefined));
      });
      await writeJsonAtomic(ws.priorsPath, priors);
      // Masks of an earlier ingest no longer belong to these images.
      if (!masks) await fs.rm(ws.masksDir, { recursive: true, force: true });
      return { summary: summarise(priors!) };
    },
  );
  const priors = await readJson<Priors>(ws.priorsPath);
  return { skipped: res.skipped, ...summariseFull(priors), priors: ws.priorsPath };
}

function summarise(p: Priors): Record<string, unknown> {
  const s = summariseFull(p);
  return { kind: s.kind, images: s.images, dropped: s.dropped, droppedBy: s.droppedBy, focalSources: s.focalSources, gps: s.gps, masks: s.masks };
}

function summariseFull(p: Priors): Omit<IngestSummary, 'skipped' | 'priors'> {
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
