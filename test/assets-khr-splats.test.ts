/**
 * splats.glb against the ratified KHR_gaussian_splatting text (KhronosGroup/glTF, after the
 * editorial review that fixed SCALE as linear): POINTS primitive; `kernel` "ellipse" and a
 * `colorSpace`; attributes POSITION, KHR_gaussian_splatting:ROTATION (unit quaternion, x y z w),
 * :SCALE (linear, never negative), :OPACITY (linear 0..1), :SH_DEGREE_0_COEF_0 and complete higher
 * degrees :SH_DEGREE_l_COEF_n in the 3DGS coefficient order. Read back by a second implementation —
 * three.js' GLTFLoader with its GLTFGaussianSplatLoaderExtension — whose covariances, colours and
 * opacities must equal the ones of the source Gaussians; and by @gltf-transform. gltf-validator
 * 2.0.0-dev.3.10 (the newest on npm) predates the extension: it reports each
 * "KHR_gaussian_splatting:*" attribute name as invalid and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { Logger, NodeIO } from '@gltf-transform/core';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { GLTFGaussianSplatLoaderExtension } from 'three/examples/jsm/loaders/GLTFGaussianSplatLoaderExtension.js';
import { SH_COEFFS, type GaussianParams } from '../src/core/gaussians.js';
import { quatToMat } from '../src/geometry/rotation.js';
import { splatsToGlb } from '../src/assets/export/splats-glb.js';
import { Rng } from '../src/util/rng.js';
import { validateGlb } from './assets-fixtures.js';

function randomGaussians(n: number, seed = 5): GaussianParams {
  const r = new Rng(seed);
  const f = (k: number, lo = -1, hi = 1) => Float32Array.from({ length: k }, () => r.uniform(lo, hi));
  return { count: n, means: f(3 * n), logScales: f(3 * n, -4, -1), quats: f(4 * n), opacityLogits: f(n, -4, 4), sh: f(n * SH_COEFFS * 3, -0.4, 0.4) };
}

function glbJson(bytes: Uint8Array): any {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + v.getUint32(12, true))));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const PREFIX = 'KHR_gaussian_splatting:';

describe('splats.glb: ratified KHR_gaussian_splatting', () => {
  for (const degree of [0, 1, 3]) {
    it(`SH degree ${degree}: attribute names, types and value ranges as the text says; three.js reads the same Gaussians`, async () => {
      const n = 64, p = randomGaussians(n, 7 + degree);
      const bytes = await splatsToGlb(p, degree);
      const json = glbJson(bytes);
      expect(json.extensionsUsed).toContain('KHR_gaussian_splatting');
      const prim = json.meshes[0].primitives[0];
      expect(prim.mode).toBe(0);
      const ext = prim.extensions.KHR_gaussian_splatting;
      expect(ext.kernel).toBe('ellipse');
      expect(['srgb_rec709_display', 'lin_rec709_display']).toContain(ext.colorSpace);
      expect(ext.projection ?? 'perspective').toBe('perspective');
      expect(ext.sortingMethod ?? 'cameraDistance').toBe('cameraDistance');
      const acc = (name: string) => json.accessors[prim.attributes[name]];
      const want: Record<string, [string, number]> = { POSITION: ['VEC3', 5126], [`${PREFIX}ROTATION`]: ['VEC4', 5126], [`${PREFIX}SCALE`]: ['VEC3', 5126], [`${PREFIX}OPACITY`]: ['SCALAR', 5126], [`${PREFIX}SH_DEGREE_0_COEF_0`]: ['VEC3', 5126] };
      for (let l = 1; l <= degree; l++) for (let k = 0; k < 2 * l + 1; k++) want[`${PREFIX}SH_DEGREE_${l}_COEF_${k}`] = ['VEC3', 5126];
      for (const [name, [type, comp]] of Object.entries(want)) {
        expect(acc(name), name).toBeDefined();
        expect([acc(name).type, acc(name).componentType, acc(name).count], name).toEqual([type, comp, n]);
      }
      // nothing beyond: no pre-ratification names (_ROTATION, _SCALE), no partial degree
      const extra = Object.keys(prim.attributes).filter((a) => !(a in want) && a !== 'COLOR_0');
      expect(extra).toEqual([]);
      expect(acc('POSITION').min).toHaveLength(3);

      // values through @gltf-transform: linear scale, linear opacity, unit xyzw rotation, raw SH
      // (it does not implement the extension: it keeps the attributes and says so at verbosity WARN)
      const doc = await new NodeIO().setLogger(new Logger(Logger.Verbosity.ERROR)).readBinary(bytes);
      const gp = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
      const arr = (name: string) => gp.getAttribute(name)!.getArray()! as Float32Array;
      const S = arr(`${PREFIX}SCALE`), O = arr(`${PREFIX}OPACITY`), Q = arr(`${PREFIX}ROTATION`);
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < 3; a++) expect(S[3 * i + a]!).toBeCloseTo(Math.exp(p.logScales[3 * i + a]!), 6);
        expect(O[i]!).toBeGreaterThanOrEqual(0);
        expect(O[i]!).toBeLessThanOrEqual(1);
        expect(O[i]!).toBeCloseTo(sigmoid(p.opacityLogits[i]!), 6);
        expect(Math.hypot(Q[4 * i]!, Q[4 * i + 1]!, Q[4 * i + 2]!, Q[4 * i + 3]!)).toBeCloseTo(Math.hypot(...p.quats.subarray(4 * i, 4 * i + 4)), 5);
      }
      for (let l = 0; l <= degree; l++) for (let k = 0; k < 2 * l + 1; k++) {
        const A = arr(`${PREFIX}SH_DEGREE_${l}_COEF_${k}`), j = l * l + k; // 3DGS coefficient index
        for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) expect(A[3 * i + c]).toBeCloseTo(p.sh[i * SH_COEFFS * 3 + 3 * j + c]!, 6);
      }

      // a second implementation: three.js' loader builds each splat's covariance R·S²·Rᵀ
      const loader = new GLTFLoader();
      loader.register((parser: any) => new GLTFGaussianSplatLoaderExtension(parser));
      const gltf: any = await loader.parseAsync(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, '');
      let splat: any = null;
      gltf.scene.traverse((o: any) => { if (o.splatGeometry) splat = o; });
      expect(splat, 'three.js made no GaussianSplat').not.toBeNull();
      const g = splat.splatGeometry;
      const cov = g.getAttribute('covariance').array as Float32Array, col = g.getAttribute('color').array as Uint8ClampedArray;
      expect(g.getAttribute('position').count).toBe(n);
      for (let i = 0; i < n; i++) {
        const q = Array.from(p.quats.subarray(4 * i, 4 * i + 4));
        const l = Math.hypot(...q);
        const R = quatToMat(q.map((v) => v / l) as [number, number, number, number]);
        const s2 = [0, 1, 2].map((a) => Math.exp(2 * p.logScales[3 * i + a]!));
        const C = (r: number, c: number) => R[3 * r]! * s2[0]! * R[3 * c]! + R[3 * r + 1]! * s2[1]! * R[3 * c + 1]! + R[3 * r + 2]! * s2[2]! * R[3 * c + 2]!;
        const mine = [C(0, 0), C(0, 1), C(0, 2), C(1, 1), C(1, 2), C(2, 2)];
        for (let k = 0; k < 6; k++) expect(cov[6 * i + k]!).toBeCloseTo(mine[k]!, 5);
        expect(Math.abs(col[4 * i + 3]! - 255 * sigmoid(p.opacityLogits[i]!))).toBeLessThanOrEqual(1);
        expect(Math.abs(col[4 * i]! - 255 * Math.min(1, Math.max(0, 0.5 + 0.2820948 * p.sh[i * SH_COEFFS * 3]!)))).toBeLessThanOrEqual(1);
      }
      for (let l = 1; l <= 3; l++) expect(!!g.getAttribute(`sphericalHarmonics${l}`), `band ${l}`).toBe(l <= degree);

      // the validator knows every other rule of glTF 2.0
      const v = await validateGlb(bytes);
      const ours = Object.keys(prim.attributes).filter((a) => a.startsWith(PREFIX)).length;
      expect(new Set(v.messages.map((m) => m.split(':')[0]))).toEqual(new Set(['MESH_PRIMITIVE_INVALID_ATTRIBUTE']));
      expect(v.numErrors).toBe(ours);
    });
  }
});
