/**
 * The `import` stage: a COLMAP model or a nerfstudio / instant-ngp transforms.json → images/,
 * sparse/, priors.json (and masks/).
 */
import path from 'node:path';
import { z } from 'zod';
import { bool, defineStage, pathOpt, requiredPath } from '../pipeline/stage.js';
import type { StageRecord, Workspace } from '../pipeline/workspace.js';
import { importInputs, loadImportSource, writeImport, type ImportCounts, type LoadedSource } from '../import/import-model.js';
import { readColmapModel, writeColmapModel } from '../io/colmap.js';
import { triangulateKnownPoses } from '../sfm/point-triangulator.js';
import { replaceDirAtomic } from '../util/fsx.js';

const options = z.object({
  source: requiredPath('COLMAP model folder (or a folder holding sparse/0) or a transforms.json'),
  images: pathOpt('folder with the photos (default: ../images or ../../images next to a COLMAP model; paths relative to a transforms.json)', { placeholder: 'DIR' }),
  masks: pathOpt("masks named like the photos (white = use, black = ignore); a transforms.json's mask_path files are used without it", { placeholder: 'DIR' }),
  triangulate: bool('when the model has cameras but no points (e.g. ground-truth poses), triangulate points from the known poses (as COLMAP point_triangulator) so training starts from the scene, not from random points', { default: true, negate: 'both' }),
});

type Options = z.infer<typeof options>;
const loaded = new WeakMap<Options, LoadedSource>();

export const importStage = defineStage({
  name: 'import',
  summary: 'start a workspace from a COLMAP model or a nerfstudio / instant-ngp transforms.json',
  reads: [],
  writes: ['images/', 'sparse/', 'masks/', 'priors.json', 'sfm/'],
  after: [],
  options,
  positionals: [{ key: 'source', name: 'colmap-model-dir | transforms.json', noun: 'model' }],
  async plan(_ws, o) {
    const src = await loadImportSource(o.source, { imagesDir: o.images, masksDir: o.masks });
    loaded.set(o, src);
    return {
      inputs: importInputs(src),
      // triangulate is recorded only when off, so records written before the option existed stay current
      options: { source: src.source, images: o.images ? path.resolve(o.images) : null, masks: src.masksDir ?? null, ...(o.triangulate ? {} : { triangulate: false }) },
      outputs: ['images', 'sparse', 'priors.json', ...(src.masksDir ? ['masks'] : [])],
    };
  },
  async run(ws, o, ctx): Promise<ImportCounts> {
    const src = loaded.get(o) ?? (await loadImportSource(o.source, { imagesDir: o.images, masksDir: o.masks }));
    const counts = await writeImport(src, { imagesDir: ws.imagesDir, sparseDir: ws.sparseDir, priorsPath: ws.priorsPath, masksDir: ws.masksDir }, ctx.silent);
    if (counts.points === 0 && o.triangulate) {
      // cameras without points (ground-truth poses): points from features matched along the known epipolar geometry
      const model = await triangulateKnownPoses(await readColmapModel(ws.sparseDir), ws.imagesDir, { database: ws.sfmDatabasePath, silent: ctx.silent });
      await replaceDirAtomic(ws.sparseDir, (tmp) => writeColmapModel(tmp, model, { text: true, binary: true }));
      counts.points = model.points3D.size;
      ctx.log.info(`import: ${counts.points} points triangulated from the known poses`);
    }
    return counts;
  },
  optionsFromRecord(rec: StageRecord) {
    const o = rec.options as { source: string; images?: string | null; masks?: string | null; triangulate?: boolean };
    return { source: o.source, images: o.images ?? undefined, masks: o.masks ?? undefined, triangulate: o.triangulate ?? true };
  },
  refreshCommand(rec: StageRecord, ws: Workspace) {
    return `r2s import ${String(rec.options.source)} -w ${ws.root}`;
  },
});
