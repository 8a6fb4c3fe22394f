/**
 * The `import` stage: a COLMAP model or a nerfstudio / instant-ngp transforms.json → images/,
 * sparse/, priors.json (and masks/).
 */
import path from 'node:path';
import { z } from 'zod';
import { defineStage, pathOpt, requiredPath } from '../pipeline/stage.js';
import type { StageRecord, Workspace } from '../pipeline/workspace.js';
import { importInputs, loadImportSource, writeImport, type ImportCounts, type LoadedSource } from '../import/import-model.js';

const options = z.object({
  source: requiredPath('COLMAP model folder (or a folder holding sparse/0) or a transforms.json'),
  images: pathOpt('folder with the photos (default: ../images or ../../images next to a COLMAP model; paths relative to a transforms.json)', { placeholder: 'DIR' }),
  masks: pathOpt("masks named like the photos (white = use, black = ignore); a transforms.json's mask_path files are used without it", { placeholder: 'DIR' }),
});

type Options = z.infer<typeof options>;
const loaded = new WeakMap<Options, LoadedSource>();

export const importStage = defineStage({
  name: 'import',
  summary: 'start a workspace from a COLMAP model or a nerfstudio / instant-ngp transforms.json',
  reads: [],
  writes: ['images/', 'sparse/', 'masks/', 'priors.json'],
  after: [],
  options,
  positionals: [{ key: 'source', name: 'colmap-model-dir | transforms.json', noun: 'model' }],
  async plan(_ws, o) {
    const src = await loadImportSource(o.source, { imagesDir: o.images, masksDir: o.masks });
    loaded.set(o, src);
    return {
      inputs: importInputs(src),
      options: { source: src.source, images: o.images ? path.resolve(o.images) : null, masks: src.masksDir ?? null },
      outputs: ['images', 'sparse', 'priors.json', ...(src.masksDir ? ['masks'] : [])],
    };
  },
  async run(ws, o, ctx): Promise<ImportCounts> {
    const src = loaded.get(o) ?? (await loadImportSource(o.source, { imagesDir: o.images, masksDir: o.masks }));
    return writeImport(src, { imagesDir: ws.imagesDir, sparseDir: ws.sparseDir, priorsPath: ws.priorsPath, masksDir: ws.masksDir }, ctx.silent);
  },
  optionsFromRecord(rec: StageRecord) {
    const o = rec.options as { source: string; images?: string | null; masks?: string | null };
    return { source: o.source, images: o.images ?? undefined, masks: o.masks ?? undefined };
  },
  refreshCommand(rec: StageRecord, ws: Workspace) {
    return `r2s import ${String(rec.options.source)} -w ${ws.root}`;
  },
});
