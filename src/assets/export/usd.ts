/**
 * OpenUSD output, written as USDA text (and packed into a .usdz): one asset's layer and the scene
 * `r2s compose` writes. Nothing here reads files; callers write the returned text / bytes.
 *
 * An asset layer (`asset.usda`, stage metadata `upAxis = "Y"`, `metersPerUnit` = 1 when the scale
 * is metric — the asset frame is then metres —, `defaultPrim` = the asset's root Xform, kind
 * component) holds:
 *   - `Mesh`: the visual mesh (UsdGeom.Mesh, triangles, right-handed = counter-clockwise seen from
 *     outside, vertex normals); with a baked texture it is bound to a UsdPreviewSurface material whose
 *     base colour is a UsdUVTexture (sRGB PNG next to the layer) read at `primvars:st`; without one
 *     the vertex colours are `primvars:displayColor` and no material is bound (renderers show
 *     displayColor then; a UsdPrimvarReader_float3 network is not read by every loader);
 *   - `Collision/part_N`: the convex pieces, each a guide-purpose Mesh with PhysicsCollisionAPI and
 *     PhysicsMeshCollisionAPI (`physics:approximation = "convexHull"`), static colliders;
 *   - `Splats`: the Gaussians as OpenUSD 26.03's `ParticleField3DGaussianSplat` (UsdVol): positions,
 *     orientations (quatf, real part first), linear scales (exp of the log-scales), opacities
 *     (sigmoid of the logits), `radiance:sphericalHarmonicsDegree` and
 *     `radiance:sphericalHarmonicsCoefficients` ((degree+1)² float3 per particle, DC first, in the
 *     3DGS coefficient order, elementSize = (degree+1)²), the layout of OpenUSD's own
 *     py3dgsPlyToUsd converter.
 * The composed scene references each placed asset's layer (a relative asset path) under an Xform
 * holding the placement as one `xformOp:transform` matrix (USD's row-vector convention).
 */
import { crc32 } from 'node:zlib';
import { SH_COEFFS, type GaussianParams } from '../../core/gaussians.js';
import { sigmoid } from '../../scene/gaussians.js';
import type { TriMesh } from '../mesh/types.js';
import { vertexNormals } from '../mesh/colors.js';
import { weldedNormals } from '../mesh/atlas.js';

/** A float as short text that reads back as the same float32 (7 significant digits). */
function usdFloat(x: number): string {
  if (!Number.isFinite(x)) return '0';
  if (x === 0) return '0';
  const s = Number(x.toPrecision(7)).toString();
  return s;
}

const tuple = (a: ArrayLike<number>, i: number, n: number): string => {
  let s = '(';
  for (let k = 0; k < n; k++) s += (k ? ', ' : '') + usdFloat(a[i + k]!);
  return s + ')';
};

/** `[(x, y, z), ...]` of an array of n-tuples. */
function tuples(a: ArrayLike<number>, n: number, map?: (v: number) => number): string {
  const parts: string[] = [];
  const src = map ? Float64Array.from(a as ArrayLike<number>, map) : a;
  for (let i = 0; i + n <= src.length; i += n) parts.push(tuple(src, i, n));
  return `[${parts.join(', ')}]`;
}

/** A valid USD prim name (identifier) made of `s`. */
function primName(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(t) ? t : `_${t}`;
}

const ind = (n: number) => ' '.repeat(4 * n);

function extentOf(p: ArrayLike<number>): [number[], number[]] {
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i + 2 < p.length; i += 3) for (let a = 0; a < 3; a++) {
    lo[a] = Math.min(lo[a]!, p[i + a]!);
    hi[a] = Math.max(hi[a]!, p[i + a]!);
  }
  if (!(lo[0]! <= hi[0]!)) return [[0, 0, 0], [0, 0, 0]];
  return [lo, hi];
}

/** The body lines of a triangle Mesh prim (points, faces, extent), at indent level `d`. */
function meshBody(m: TriMesh, d: number): string[] {
  const T = m.indices.length / 3;
  const [lo, hi] = extentOf(m.positions);
  return [
    `${ind(d)}uniform bool doubleSided = 0`,
    `${ind(d)}float3[] extent = [${tuple(lo, 0, 3)}, ${tuple(hi, 0, 3)}]`,
    `${ind(d)}int[] faceVertexCounts = [${new Array<string>(T).fill('3').join(', ')}]`,
    `${ind(d)}int[] faceVertexIndices = [${Array.from(m.indices).join(', ')}]`,
    `${ind(d)}uniform token orientation = "rightHanded"`,
    `${ind(d)}point3f[] points = ${tuples(m.positions, 3)}`,
    `${ind(d)}uniform token subdivisionScheme = "none"`,
  ];
}

export interface UsdAssetInput {
  /** asset name (the root prim is named after it) */
  name: string;
  /** whether the asset frame is metres (metersPerUnit = 1) or arbitrary scene units */
  metric: boolean;
  /** the visual mesh (LOD 0) in the asset frame */
  mesh?: TriMesh;
  /** file name of the base-colour PNG next to the layer, when the mesh is textured (`mesh.uvs`) */
  textureFile?: string;
  /** convex collider pieces, asset frame */
  colliders?: TriMesh[];
  /** the Gaussians in the asset frame and their SH degree */
  splats?: { params: GaussianParams; shDegree: number };
  /** free-form provenance written as customLayerData (strings only) */
  info?: Record<string, string>;
}

/** One asset as a USDA layer. */
export function assetToUsda(a: UsdAssetInput): string {
  const root = primName(a.name);
  const L: string[] = [];
  const info = Object.entries({ generator: 'r2s', units: a.metric ? 'metres' : 'scene units (scale unknown)', ...a.info })
    .map(([k, v]) => `${ind(2)}string ${primName(k)} = ${JSON.stringify(v)}`);
  L.push('#usda 1.0', '(', `${ind(1)}defaultPrim = "${root}"`, `${ind(1)}metersPerUnit = 1`, `${ind(1)}upAxis = "Y"`,
    `${ind(1)}doc = ${JSON.stringify(`r2s asset ${a.name}: +Y up, origin at the bottom centre`)}`,
    `${ind(1)}customLayerData = {`, ...info, `${ind(1)}}`, ')', '');
  L.push(`def Xform "${root}" (`, `${ind(1)}kind = "component"`, ')', '{');
  const mat = `/${root}/Materials/Surface`;
  if (a.mesh) {
    const m = a.mesh;
    const textured = !!(m.uvs && a.textureFile);
    L.push(`${ind(1)}def Mesh "Mesh"${textured ? ' (' : ''}`, ...(textured ? [`${ind(2)}prepend apiSchemas = ["MaterialBindingAPI"]`, `${ind(1)})`] : []), `${ind(1)}{`);
    L.push(...meshBody(m, 2));
    L.push(`${ind(2)}normal3f[] normals = ${tuples(textured ? weldedNormals(m) : vertexNormals(m), 3)} (`, `${ind(3)}interpolation = "vertex"`, `${ind(2)})`);
    if (textured) {
      const uv = m.uvs!;
      const st = new Float32Array(uv.length);
      for (let i = 0; i < uv.length; i += 2) { st[i] = uv[i]!; st[i + 1] = 1 - uv[i + 1]!; }
      L.push(`${ind(2)}texCoord2f[] primvars:st = ${tuples(st, 2)} (`, `${ind(3)}interpolation = "vertex"`, `${ind(2)})`);
    }
    if (m.colors) L.push(`${ind(2)}color3f[] primvars:displayColor = ${tuples(m.colors, 3)} (`, `${ind(3)}interpolation = "vertex"`, `${ind(2)})`);
    if (textured) L.push(`${ind(2)}rel material:binding = <${mat}>`);
    L.push(`${ind(1)}}`, '');
  }
  if (a.mesh && a.mesh.uvs && a.textureFile) {
    // material
    L.push(`${ind(1)}def Scope "Materials"`, `${ind(1)}{`, `${ind(2)}def Material "Surface"`, `${ind(2)}{`,
      `${ind(3)}token outputs:surface.connect = <${mat}/PreviewSurface.outputs:surface>`, '',
      `${ind(3)}def Shader "PreviewSurface"`, `${ind(3)}{`,
      `${ind(4)}uniform token info:id = "UsdPreviewSurface"`);
    L.push(`${ind(4)}color3f inputs:diffuseColor.connect = <${mat}/BaseColor.outputs:rgb>`);
    L.push(`${ind(4)}float inputs:metallic = 0`, `${ind(4)}float inputs:roughness = 1`, `${ind(4)}token outputs:surface`, `${ind(3)}}`);
    L.push('', `${ind(3)}def Shader "BaseColor"`, `${ind(3)}{`,
      `${ind(4)}uniform token info:id = "UsdUVTexture"`,
      `${ind(4)}asset inputs:file = @./${a.textureFile}@`,
      `${ind(4)}token inputs:sourceColorSpace = "sRGB"`,
      `${ind(4)}float2 inputs:st.connect = <${mat}/St.outputs:result>`,
      `${ind(4)}token inputs:wrapS = "clamp"`, `${ind(4)}token inputs:wrapT = "clamp"`,
      `${ind(4)}float3 outputs:rgb`, `${ind(3)}}`, '',
      `${ind(3)}def Shader "St"`, `${ind(3)}{`,
      `${ind(4)}uniform token info:id = "UsdPrimvarReader_float2"`,
      `${ind(4)}string inputs:varname = "st"`, `${ind(4)}float2 outputs:result`, `${ind(3)}}`);
    L.push(`${ind(2)}}`, `${ind(1)}}`, '');
  }
  if (a.colliders?.length) {
    L.push(`${ind(1)}def Xform "Collision"`, `${ind(1)}{`);
    a.colliders.forEach((p, i) => {
      L.push(`${ind(2)}def Mesh "part_${i}" (`, `${ind(3)}prepend apiSchemas = ["PhysicsCollisionAPI", "PhysicsMeshCollisionAPI"]`, `${ind(2)})`, `${ind(2)}{`,
        `${ind(3)}bool physics:collisionEnabled = 1`,
        `${ind(3)}uniform token physics:approximation = "convexHull"`,
        `${ind(3)}uniform token purpose = "guide"`,
        ...meshBody(p, 3), `${ind(2)}}`);
    });
    L.push(`${ind(1)}}`, '');
  }
  if (a.splats) L.push(...splatsPrim(a.splats.params, a.splats.shDegree, 1));
  L.push('}', '');
  return L.join('\n');
}

/** The Gaussians as a `ParticleField3DGaussianSplat` prim named "Splats", at indent level d. */
function splatsPrim(p: GaussianParams, shDegree: number, d: number): string[] {
  const n = p.count;
  const q = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const w = p.quats[4 * i]!, x = p.quats[4 * i + 1]!, y = p.quats[4 * i + 2]!, z = p.quats[4 * i + 3]!;
    const l = Math.hypot(w, x, y, z) || 1;
    q[4 * i] = w / l; q[4 * i + 1] = x / l; q[4 * i + 2] = y / l; q[4 * i + 3] = z / l;
  }
  const K = (shDegree + 1) ** 2;
  const sh = new Float32Array(n * K * 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) for (let c = 0; c < 3; c++) sh[(i * K + k) * 3 + c] = p.sh[i * SH_COEFFS * 3 + 3 * k + c]!;
  const op = Float32Array.from(p.opacityLogits.subarray(0, n), (v) => sigmoid(v));
  const [lo, hi] = extentOf(p.means.subarray(0, 3 * n));
  return [
    `${ind(d)}def ParticleField3DGaussianSplat "Splats"`, `${ind(d)}{`,
    `${ind(d + 1)}point3f[] positions = ${tuples(p.means.subarray(0, 3 * n), 3)}`,
    `${ind(d + 1)}quatf[] orientations = ${tuples(q, 4)}`,
    `${ind(d + 1)}float3[] scales = ${tuples(p.logScales.subarray(0, 3 * n), 3, Math.exp)}`,
    `${ind(d + 1)}float[] opacities = [${Array.from(op, usdFloat).join(', ')}]`,
    `${ind(d + 1)}uniform int radiance:sphericalHarmonicsDegree = ${shDegree}`,
    `${ind(d + 1)}float3[] radiance:sphericalHarmonicsCoefficients = ${tuples(sh, 3)} (`,
    `${ind(d + 2)}elementSize = ${K}`, `${ind(d + 2)}interpolation = "vertex"`, `${ind(d + 1)})`,
    `${ind(d + 1)}float3[] extent = [${tuple(lo, 0, 3)}, ${tuple(hi, 0, 3)}]`,
    `${ind(d + 1)}uniform token projectionModeHint = "perspective"`,
    `${ind(d + 1)}uniform token sortingModeHint = "zDepth"`,
    `${ind(d)}}`,
  ];
}

export interface UsdPlacement {
  /** prim name of the placed instance */
  name: string;
  /** the asset's layer, relative to the scene layer's folder ("/"-separated) */
  layer: string;
  /** scene ← asset: x_scene = s·R·x_asset + t (R row-major) */
  R: ArrayLike<number>;
  s: number;
  t: ArrayLike<number>;
}

/** The composed scene: each placement references its asset's layer at its transform. */
export function sceneToUsda(placements: UsdPlacement[], o: { metersPerUnit: number; upAxis: 'Y' | 'Z'; doc?: string }): string {
  const L = ['#usda 1.0', '(', `${ind(1)}defaultPrim = "World"`, `${ind(1)}metersPerUnit = ${usdFloat(o.metersPerUnit)}`, `${ind(1)}upAxis = "${o.upAxis}"`,
    `${ind(1)}doc = ${JSON.stringify(o.doc ?? 'r2s compose')}`, ')', '', 'def Xform "World"', '{'];
  const used = new Set<string>();
  for (const p of placements) {
    let name = primName(p.name);
    for (let k = 1; used.has(name); k++) name = `${primName(p.name)}_${k}`;
    used.add(name);
    // row-vector convention: row i = s·(column i of R), last row the translation
    const row = (i: number) => `(${[0, 1, 2].map((j) => usdMatrixNumber(p.s * p.R[3 * j + i]!)).join(', ')}, 0)`;
    const M = `( ${row(0)}, ${row(1)}, ${row(2)}, (${[0, 1, 2].map((j) => usdMatrixNumber(p.t[j]!)).join(', ')}, 1) )`;
    L.push(`${ind(1)}def Xform "${name}" (`, `${ind(2)}prepend references = @${p.layer.replace(/@/g, '')}@`, `${ind(1)})`, `${ind(1)}{`,
      `${ind(2)}matrix4d xformOp:transform = ${M}`,
      `${ind(2)}uniform token[] xformOpOrder = ["xformOp:transform"]`, `${ind(1)}}`);
  }
  L.push('}', '');
  return L.join('\n');
}

/** A double in full precision (placements are given to the millimetre and beyond). */
function usdMatrixNumber(x: number): string {
  return Number.isFinite(x) ? (Object.is(x, -0) ? '0' : String(x)) : '0';
}

/**
 * A .usdz package: an uncompressed zip whose first file is the root layer and every file's data
 * starts on a 64-byte boundary (the USDZ rules; the padding goes in each local header's extra
 * field).
 */
export function usdzPackage(files: { name: string; data: Uint8Array }[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = new TextEncoder().encode(f.name);
    const crc = crc32(f.data) >>> 0;
    const base = 30 + name.length;
    const pad = (64 - ((offset + base + 4) % 64)) % 64;
    const extra = new Uint8Array(4 + pad);
    const ev = new DataView(extra.buffer);
    ev.setUint16(0, 0x1986, true); // an unregistered id, as the USD reference writer uses for padding
    ev.setUint16(2, pad, true);
    const h = new Uint8Array(30);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x04034b50, true); v.setUint16(4, 20, true); v.setUint16(6, 0, true); v.setUint16(8, 0, true);
    v.setUint16(10, 0, true); v.setUint16(12, 0x21, true); v.setUint32(14, crc, true);
    v.setUint32(18, f.data.length, true); v.setUint32(22, f.data.length, true);
    v.setUint16(26, name.length, true); v.setUint16(28, extra.length, true);
    chunks.push(h, name, extra, f.data);
    const c = new Uint8Array(46);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true); cv.setUint16(4, 20, true); cv.setUint16(6, 20, true); cv.setUint16(8, 0, true); cv.setUint16(10, 0, true);
    cv.setUint16(12, 0, true); cv.setUint16(14, 0x21, true); cv.setUint32(16, crc, true);
    cv.setUint32(20, f.data.length, true); cv.setUint32(24, f.data.length, true);
    cv.setUint16(28, name.length, true); cv.setUint16(30, 0, true); cv.setUint16(32, 0, true);
    cv.setUint16(34, 0, true); cv.setUint16(36, 0, true); cv.setUint32(38, 0, true); cv.setUint32(42, offset, true);
    central.push(c, name);
    offset += h.length + name.length + extra.length + f.data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true); ev.setUint16(8, files.length, true); ev.setUint16(10, files.length, true);
  ev.setUint32(12, cdSize, true); ev.setUint32(16, offset, true);
  const all = [...chunks, ...central, end];
  const out = new Uint8Array(all.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of all) { out.set(c, o); o += c.length; }
  return out;
}

