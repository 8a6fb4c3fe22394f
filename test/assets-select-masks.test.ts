import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { buildObjectsScene, objectsCameras, objectsRenderer, defaultObjectsSceneOptions, maskIoU, thresholdAlpha, OBJECTS_RASTER } from '../src/synthetic/objects-scene.js';
import { liftMasks, readObjectMasks, cleanCut } from '../src/assets/select/index.js';
import { rasterizeReference } from '../src/scene/raster/reference.js';
import { gatherGaussians } from '../src/scene/gaussians.js';
import { UserError } from '../src/util/errors.js';

// The TRUE Gaussians stand in for the trained scene (training is slow on the CPU).
const opts = { ...defaultObjectsSceneOptions, views: 40, size: 160 };
const scene = buildObjectsScene(opts);
const { intrinsics: k, views } = objectsCameras(opts);
const renderer = objectsRenderer(scene);
const masked = views.map((_, i) => i).filter((i) => i % 10 === 0); // 10 % of the views
const others = views.map((_, i) => i).filter((i) => i % 10 !== 0);

describe('--masks: lift masks of 10 % of the views', () => {
  it('asset alpha vs exact amodal masks on the other views: IoU ≥ 0.95 per view, every object', async () => {
    const inputs = masked.map((i) => renderer.render(`view_${i}`, views[i]!, k, { rgb: false, amodal: false }));
    const truth = others.map((i) => renderer.render(`view_${i}`, views[i]!, k, { rgb: false, visible: false }));
    const report: string[] = [];
    for (const [j, ob] of scene.objects.entries()) {
      const lift = await liftMasks(scene.params, inputs.map((v) => ({ name: v.name, camera: v.camera, mask: v.visible[j]! })), { raster: OBJECTS_RASTER });
      const cut = cleanCut(scene.params, lift.indices);
      const asset = gatherGaussians(scene.params, cut.indices);
      const ious = truth.map((v) => maskIoU(thresholdAlpha(rasterizeReference(asset, v.camera, OBJECTS_RASTER).alpha), v.amodal[j]!));
      const min = Math.min(...ious), mean = ious.reduce((a, b) => a + b, 0) / ious.length;
      report.push(`${ob.name}: IoU min ${min.toFixed(4)} mean ${mean.toFixed(4)} (${cut.indices.length} of ${ob.gaussians[1] - ob.gaussians[0]} splats)`);
      expect(min, ob.name).toBeGreaterThanOrEqual(0.95);
    }
    console.log(report.join('\n'));
  });
});

describe('--masks: bad input', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-masks-'));
  const images = [{ name: 'view_000.png', width: 32, height: 24 }, { name: 'view_001.png', width: 32, height: 24 }];
  it('reads matching masks by name (stem or full name), any subset', async () => {
    const ok = path.join(dir, 'ok');
    mkdirSync(ok);
    await sharp(Buffer.alloc(32 * 24, 255), { raw: { width: 32, height: 24, channels: 1 } }).png().toFile(path.join(ok, 'view_001.png'));
    const m = await readObjectMasks(ok, images);
    expect([...m.keys()]).toEqual(['view_001.png']);
    expect(m.get('view_001.png')!.every((v) => v === 1)).toBe(true);
  });
  it('masks that match no image, masks of the wrong size, no folder → one-line UserError naming the file and the fix', async () => {
    const none = path.join(dir, 'none');
    mkdirSync(none);
    await sharp(Buffer.alloc(32 * 24), { raw: { width: 32, height: 24, channels: 1 } }).png().toFile(path.join(none, 'other.png'));
    const wrong = path.join(dir, 'wrong');
    mkdirSync(wrong);
    await sharp(Buffer.alloc(16 * 12), { raw: { width: 16, height: 12, channels: 1 } }).png().toFile(path.join(wrong, 'view_000.png'));
    for (const [d, name, says] of [[none, none, 'no mask matches'], [wrong, path.join(wrong, 'view_000.png'), '32×24'], [path.join(dir, 'missing'), 'missing', 'no such folder']] as const) {
      const err = await readObjectMasks(d, images).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      const line = (err as UserError).oneLine();
      expect(line).toContain(name);
      expect(line).toContain(says);
      expect(line).toContain('fix:');
    }
  });
});
