/**
 * Textured meshes: a box whose Gaussians carry a checkerboard finer than the mesh's vertices is
 * meshed (meshFromGaussians: UV atlas + texture baked from the splat renders on every LOD), and
 * each LOD is drawn from held-out viewpoints (not among the views the bake used) with its texture
 * and with its vertex colours, against the render of the true Gaussians there. The texture must
 * gain ≥ 3 dB PSNR over the vertex colours at the same triangle count; mesh.glb must carry the
 * texture (PNG, TEXCOORD_0) and pass the glTF validator.
 */
import { NodeIO } from '@gltf-transform/core';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GaussianParams } from '../src/core/gaussians.js';
import { defaultRasterOptions, type RasterCamera } from '../src/core/raster.js';
import { meshToGlb } from '../src/assets/export/gltf.js';
import { rotationUpToY } from '../src/assets/export/frame.js';
import { transformGaussians } from '../src/assets/export/transform-gaussians.js';
import { buildAtlas } from '../src/assets/mesh/atlas.js';
import { meshFromGaussians, type MeshResult } from '../src/assets/mesh/index.js';
import { maskedPsnr, renderMesh } from '../src/assets/mesh/raster-mesh.js';
import { defaultBackend, type RasterBackend } from '../src/assets/mesh/render.js';
import { boxShape, checkerColour } from '../src/assets/mesh/test-shapes.js';
import { lookAtCamera } from '../src/assets/mesh/views.js';
import { triangleCount } from '../src/assets/mesh/types.js';
import { validateGlb } from './assets-fixtures.js';

let backend: RasterBackend;
let params: GaussianParams;
let res: MeshResult;
const held: { cam: RasterCamera; rgb: Float32Array; alpha: Float32Array }[] = [];

beforeAll(async () => {
  backend = await defaultBackend();
  // 1.2 × 0.8 × 0.9 box, 0.1 checker cells; scene z-up → asset frame y-up
  const s = boxShape(1.2, 0.8, 0.9, 40000, 3, checkerColour(0.1));
  params = transformGaussians(s.params, { R: rotationUpToY([0, 0, 1]), s: 1, t: [0, 0, 0] }, undefined, 0);
  res = await meshFromGaussians(params, backend, [], { simplify: { maxTriangles: 8000, lodRatios: [0.25], maxRelativeError: 0.01 } });
  // held-out views (320 px, closer than the 192-px orbit the bake used, at other azimuths and elevations)
  const center: [number, number, number] = [0, 0.45, 0], radius = 0.5 * Math.hypot(1.2, 0.8, 0.9);
  for (let i = 0; i < 6; i++) {
    const az = (2 * Math.PI * i) / 6 + 0.3, el = ((i % 2 ? 24 : 47) * Math.PI) / 180, d = 2.3 * radius;
    const cam = lookAtCamera([d * Math.cos(el) * Math.cos(az), 0.45 + d * Math.sin(el), d * Math.cos(el) * Math.sin(az)], center, [0, 1, 0], 320, radius);
    const pass = await backend.render(params, cam, { ...defaultRasterOptions, shDegree: 0, background: [0, 0, 0] });
    held.push({ cam, rgb: Float32Array.from(pass.out.rgb), alpha: Float32Array.from(pass.out.alpha) });
    pass.dispose();
  }
}, 300_000);

describe('textured mesh', () => {
  it('atlas: same triangles, every one with a non-degenerate place inside the unit square', () => {
    const m = res.lods[0]!;
    const a = buildAtlas({ positions: m.positions, indices: m.indices }, { size: 512 });
    expect(triangleCount(a.mesh)).toBe(triangleCount(m));
    const uv = a.mesh.uvs!, I = a.mesh.indices, P = a.mesh.positions;
    for (const x of uv) { expect(x).toBeGreaterThanOrEqual(0); expect(x).toBeLessThanOrEqual(1); }
    let flat = 0;
    for (let t = 0; t < I.length; t += 3) {
      const [i, j, k] = [I[t]!, I[t + 1]!, I[t + 2]!];
      // same corners as the input triangle, and a UV area wherever the 3D one is not zero
      for (let c = 0; c < 3; c++) expect(P[3 * i + c]).toBe(m.positions[3 * m.indices[t]! + c]);
      const area2 = (uv[2 * j]! - uv[2 * i]!) * (uv[2 * k + 1]! - uv[2 * i + 1]!) - (uv[2 * k]! - uv[2 * i]!) * (uv[2 * j + 1]! - uv[2 * i + 1]!);
      if (Math.abs(area2) < 1e-12) flat++;
    }
    expect(flat / triangleCount(m)).toBeLessThan(0.01);
    expect(a.fill).toBeGreaterThan(0.3);
  });

  it('held-out views: texture ≥ 3 dB above vertex colours at the same triangle count, on every LOD', () => {
    for (const lod of res.lods) {
      let tex = 0, vert = 0;
      for (const h of held) {
        const a = renderMesh(lod, h.cam, 'texture'), b = renderMesh(lod, h.cam, 'vertex');
        // colour where both the truth and the mesh are (the geometry is the same for both colourings)
        const mask = Float32Array.from(h.alpha, (x, i) => (x > 0.5 && a.alpha[i]! > 0 ? 1 : 0));
        tex += maskedPsnr(a.rgb, h.rgb, mask) / held.length;
        vert += maskedPsnr(b.rgb, h.rgb, mask) / held.length;
      }
      console.log(`${triangleCount(lod)} triangles, texture ${lod.texture!.width}²: PSNR textured ${tex.toFixed(2)} dB, vertex colours ${vert.toFixed(2)} dB (+${(tex - vert).toFixed(2)})`);
      expect(tex - vert).toBeGreaterThanOrEqual(3);
    }
  });

  it('mesh.glb carries the texture: PNG base colour, TEXCOORD_0, valid glTF', async () => {
    const lod = res.lods[0]!;
    const glb = await meshToGlb(lod, 'box');
    const v = await validateGlb(glb);
    expect(v.messages).toEqual([]);
    const doc = await new NodeIO().readBinary(glb);
    const prim = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
    expect(prim.getAttribute('TEXCOORD_0')!.getCount()).toBe(lod.positions.length / 3);
    expect(prim.getAttribute('COLOR_0')).toBeNull();
    const tex = prim.getMaterial()!.getBaseColorTexture()!;
    expect(tex.getMimeType()).toBe('image/png');
    const meta = await sharp(Buffer.from(tex.getImage()!)).metadata();
    expect([meta.width, meta.height]).toEqual([lod.texture!.width, lod.texture!.height]);
  });
});
