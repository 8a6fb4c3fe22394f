/**
 * A real USD parser for the tests: TinyUSDZ's WebAssembly build (npm `tinyusdz`). Its module is
 * built for the browser only; it loads under Node when it cannot tell it is Node (a `window`, and
 * `process.type` set for the instant of its import) and is handed the .wasm bytes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Native = any;
let mod: Promise<Native> | null = null;

export async function tinyusdz(): Promise<Native> {
  mod ??= (async () => {
    const dir = path.dirname(createRequire(import.meta.url).resolve('tinyusdz/package.json'));
    const g = globalThis as { window?: unknown };
    const hadWindow = 'window' in g;
    const proc = process as unknown as { type?: string };
    if (!hadWindow) g.window = globalThis;
    proc.type = 'renderer';
    try {
      // @ts-expect-error tinyusdz ships no types
      const init = (await import('tinyusdz/tinyusdz.js')).default as (o: object) => Promise<Native>;
      return await init({ wasmBinary: readFileSync(path.join(dir, 'tinyusdz.wasm')) });
    } finally {
      delete proc.type;
      if (!hadWindow) delete g.window;
    }
  })();
  return mod;
}

export interface UsdNode { primName: string; absPath: string; nodeType: string; globalMatrix: number[]; children: UsdNode[] }
export interface UsdMesh { absPath: string; points: Float32Array; faceVertexIndices: Uint32Array | Int32Array; faceVertexCounts?: ArrayLike<number>; texcoords?: Float32Array; materialId: number }

/** Load a stage (a .usda / .usdz); `assets` resolves referenced layers by the path written in the file. */
export async function loadStage(bytes: Uint8Array, name: string, assets: Record<string, Uint8Array> = {}): Promise<{ meshes: UsdMesh[]; root: UsdNode; layer: string; loader: Native }> {
  const m = await tinyusdz();
  const u = new m.TinyUSDZLoaderNative();
  if (Object.keys(assets).length) {
    u.setEnableComposition(true);
    if (!u.loadAsLayerFromBinary(bytes, name)) throw new Error(`tinyusdz: ${name}: ${u.error()}`);
    for (const [k, v] of Object.entries(assets)) u.setAsset(k, v);
    if (!u.composeReferences()) throw new Error(`tinyusdz: ${name}: references: ${u.error()}`);
    if (!u.layerToRenderScene()) throw new Error(`tinyusdz: ${name}: ${u.error()}`);
  } else if (!u.loadFromBinary(bytes, name)) throw new Error(`tinyusdz: ${name}: ${u.error()}`);
  const meshes: UsdMesh[] = [];
  // the arrays are views of the module's memory, which the next allocation may move: copied now
  const copy = <T>(a: T): T => (a && ArrayBuffer.isView(a) ? ((a as unknown as { slice(): T }).slice()) : a);
  for (let i = 0; i < u.numMeshes(); i++) {
    const m = u.getMesh(i);
    meshes.push({ ...m, points: copy(m.points), faceVertexIndices: copy(m.faceVertexIndices), faceVertexCounts: copy(m.faceVertexCounts), texcoords: copy(m.texcoords), absPath: m.absPath, materialId: m.materialId });
  }
  const L = new m.TinyUSDZLoaderNative();
  const layer = name.endsWith('.usdz') ? '' : L.loadAsLayerFromBinary(bytes, name) ? (L.layerToString() as string) : '';
  return { meshes, root: u.getDefaultRootNode(), layer, loader: u };
}

/** Number of tuples in the array attribute `decl` (e.g. "point3f[] positions") of the re-serialised layer. */
export function countTuples(layer: string, decl: string): number {
  const at = layer.indexOf(`${decl} = [`);
  if (at < 0) return -1;
  const end = layer.indexOf(']', at + decl.length + 4);
  return (layer.slice(at, end).match(/\(/g) ?? []).length;
}
