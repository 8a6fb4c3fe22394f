/**
 * glTF 2.0 binary output through @gltf-transform/core: visual meshes (vertex colours, or a baked
 * base-colour texture with its UVs when the mesh carries one; unlit-free
 * PBR material, metres, +Y up) and collision shapes (one mesh per convex piece, tagged in extras
 * so a loader can tell the hull from the decomposition).
 */
import { Document, NodeIO, type Node } from '@gltf-transform/core';
import type { TriMesh } from '../mesh/types.js';
import { vertexNormals } from '../mesh/colors.js';
import { weldedNormals } from '../mesh/atlas.js';
import { texturePng } from '../mesh/texture.js';

function addMesh(doc: Document, name: string, m: TriMesh, withColor: boolean): Node {
  const buffer = doc.getRoot().listBuffers()[0] ?? doc.createBuffer();
  const prim = doc.createPrimitive()
    .setAttribute('POSITION', doc.createAccessor().setType('VEC3').setArray(m.positions).setBuffer(buffer))
    .setAttribute('NORMAL', doc.createAccessor().setType('VEC3').setArray(vertexNormals(m)).setBuffer(buffer))
    .setIndices(doc.createAccessor().setType('SCALAR').setArray(m.indices).setBuffer(buffer));
  if (withColor && m.colors) prim.setAttribute('COLOR_0', doc.createAccessor().setType('VEC3').setArray(m.colors).setBuffer(buffer));
  const mat = doc.createMaterial(`${name}-material`).setBaseColorFactor([1, 1, 1, 1]).setMetallicFactor(0).setRoughnessFactor(1);
  prim.setMaterial(mat);
  return doc.createNode(name).setMesh(doc.createMesh(name).addPrimitive(prim));
}

/**
 * The baked base-colour texture (PNG) on the mesh's material, with TEXCOORD_0 from `m.uvs` (glTF's
 * uv convention already). COLOR_0 is left out: glTF multiplies it into the texture; the vertex
 * colours stay in the TriMesh as the fallback where no texture is written. Normals are computed on
 * the welded surface, so the atlas' seams (duplicated vertices) do not show in the shading.
 */
async function addTexture(doc: Document, node: Node, m: TriMesh, name: string): Promise<void> {
  const buffer = doc.getRoot().listBuffers()[0]!;
  const prim = node.getMesh()!.listPrimitives()[0]!;
  const stale = [prim.getAttribute('COLOR_0'), prim.getAttribute('NORMAL')];
  prim.setAttribute('COLOR_0', null);
  prim.setAttribute('NORMAL', doc.createAccessor().setType('VEC3').setArray(weldedNormals(m)).setBuffer(buffer));
  for (const a of stale) a?.dispose(); // not left in the file unreferenced
  prim.setAttribute('TEXCOORD_0', doc.createAccessor().setType('VEC2').setArray(m.uvs!).setBuffer(buffer));
  const tex = doc.createTexture(`${name}-basecolor`).setImage(await texturePng(m.texture!)).setMimeType('image/png');
  prim.getMaterial()!.setBaseColorTexture(tex);
}

/** A single visual mesh as a .glb (with its base-colour texture when it has one). */
export async function meshToGlb(m: TriMesh, name: string, extras: Record<string, unknown> = {}): Promise<Uint8Array> {
  const doc = new Document();
  doc.createBuffer();
  const node = addMesh(doc, name, m, true);
  if (m.uvs && m.texture) await addTexture(doc, node, m, name);
  node.setExtras(extras);
  doc.createScene(name).addChild(node);
  doc.getRoot().getAsset().generator = 'r2s';
  return new NodeIO().writeBinary(doc);
}

/** Collision shapes: the convex hull and the convex pieces, each its own node. */
export async function collisionToGlb(hull: TriMesh, parts: TriMesh[], name: string): Promise<Uint8Array> {
  const doc = new Document();
  doc.createBuffer();
  const scene = doc.createScene(`${name}-collision`);
  const h = addMesh(doc, 'hull', hull, false).setExtras({ r2s: { collider: 'convex-hull' } });
  const group = doc.createNode('decomposition').setExtras({ r2s: { collider: 'convex-decomposition', parts: parts.length } });
  parts.forEach((p, i) => group.addChild(addMesh(doc, `part_${i}`, p, false).setExtras({ r2s: { collider: 'convex' } })));
  scene.addChild(h).addChild(group);
  doc.getRoot().getAsset().generator = 'r2s';
  return new NodeIO().writeBinary(doc);
}
