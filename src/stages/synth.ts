/**
 * The `synth` stage: a synthetic workspace (known Gaussian scene, exact cameras and points) for
 * tests: images/, priors.json, sparse/, synthetic-truth.json. `--scene objects`: three objects (box,
 * sphere, cylinder) on a textured ground with exact masks and meshes (src/synthetic/objects.ts):
 * images/, priors.json, sparse/ (+ frame.json), masks/, masks-amodal/, meshes/, synthetic-objects.json.
 */
import { existsSync, readdirSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { choice, defineStage, int, num } from '../pipeline/stage.js';
import { renderSyntheticCapture } from '../synthetic/generate.js';
import { writeSyntheticCapture } from '../synthetic/workspace.js';
import { OBJECTS_TRUTH_FILE, writeObjectsWorkspace } from '../synthetic/objects.js';

const options = z.object({
  scene: choice(['default', 'objects'], 'which scene: the default Gaussian blob scene, or three objects on a ground with exact masks and meshes (uses --views, --size, --seed)', { default: 'default' }),
  views: int('number of views on a hemisphere', { min: 2, max: 10_000, default: 40 }),
  size: int('long image side in pixels', { min: 16, max: 4096, default: 128, placeholder: 'S' }),
  exposureJitter: num('per-image exposure in ±EV (view 1, the anchor, stays at 0)', { min: 0, max: 10, default: 0, placeholder: 'EV' }),
  wbJitter: num('per-channel white-balance log-gain std', { min: 0, max: 10, default: 0, placeholder: 'S' }),
  noise: num('pixel noise std, 0..1 units', { min: 0, max: 1, default: 0, placeholder: 'S' }),
  poseNoise: num('rotate each given camera by DEG and move it by 2 % of its distance (true poses kept in synthetic-truth.json)', {
    min: 0, max: 180, default: 0, placeholder: 'DEG',
  }),
  seed: int('random seed', { min: 0, max: 2 ** 32 - 1, default: 1, placeholder: 'S' }),
  detail: num('scene detail (1 ≈ 2400 Gaussians)', { min: 0, exclusiveMin: true, max: 100, default: 1, placeholder: 'D' }),
});

export interface SynthSummary {
  views: number;
  width: number;
  height: number;
  gaussians: number;
}

export const synthStage = defineStage({
  name: 'synth',
  summary: 'make a synthetic workspace (known Gaussian scene, exact cameras and points) for tests',
  reads: [],
  writes: ['images/', 'sparse/', 'priors.json', 'synthetic-truth.json', 'masks/', 'masks-amodal/', 'meshes/', OBJECTS_TRUTH_FILE],
  after: [],
  options,
  workspacePositional: true,
  plan(ws, o, how) {
    if (!how.force && existsSync(ws.root) && readdirSync(ws.root).some((f) => f === 'images' || f === 'sparse')) {
      throw new UserError(`${ws.root} already holds a workspace`, { file: ws.root, fix: 'choose an empty folder or pass --force' });
    }
    const truth = o.scene === 'objects' ? [OBJECTS_TRUTH_FILE, 'masks', 'masks-amodal', 'meshes'] : ['synthetic-truth.json'];
    return { inputs: [], options: { ...o }, outputs: ['images', 'sparse', 'priors.json', ...truth], seed: o.seed, force: true };
  },
  async run(ws, o): Promise<SynthSummary> {
    if (o.scene === 'objects') {
      const { capture } = await writeObjectsWorkspace(ws.root, { views: o.views, size: o.size, seed: o.seed });
      return { views: o.views, width: capture.intrinsics.width, height: capture.intrinsics.height, gaussians: capture.scene.params.count };
    }
    const cap = renderSyntheticCapture({
      views: o.views,
      size: o.size,
      exposureJitter: o.exposureJitter,
      wbJitter: o.wbJitter,
      noise: o.noise,
      poseNoiseDeg: o.poseNoise,
      seed: o.seed,
      detail: o.detail,
    });
    await writeSyntheticCapture(cap, { imagesDir: ws.imagesDir, priorsPath: ws.priorsPath, sparseDir: ws.sparseDir, truthPath: ws.syntheticTruthPath });
    return { views: o.views, width: cap.intrinsics.width, height: cap.intrinsics.height, gaussians: cap.scene.count };
  },
});
