/**
 * glTF 2.0 binary output through @gltf-transform/core: visual meshes (vertex colours, unlit-free
 * PBR material, metres, +Y up) and collision shapes (one mesh per convex piece, tagged in extras
 * so a loader can tell the hull from the decomposition).
 */
import { Document, NodeIO, type Node } from '@gltf-transform/core';
import type { TriMesh } from '../mesh/types.js';
import { vertexNormals } from '../mesh/colors.js';

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

/** A single visual mesh as a .glb. */
export async function meshToGlb(m: TriMesh, name: string, extras: Record<string, unknown> = {}): Promise<Uint8Array> {
  const doc = new Document();
  doc.createBuffer();
  const node = addMesh(doc, name, m, true);
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
