/** Shared helpers for the asset tests: a shape put into a scene, read-back of glb meshes, physics. */
import { NodeIO } from '@gltf-transform/core';
import RAPIER from '@dimforge/rapier3d-compat';
import type { TriMesh } from '../src/assets/mesh/types.js';

/** Every primitive of a .glb, in its node's frame (our files have identity node transforms). */
export async function readGlbMeshes(bytes: Uint8Array, namePrefix = ''): Promise<{ name: string; mesh: TriMesh }[]> {
  const doc = await new NodeIO().readBinary(bytes);
  const out: { name: string; mesh: TriMesh }[] = [];
  for (const m of doc.getRoot().listMeshes()) {
    if (!m.getName().startsWith(namePrefix)) continue;
    for (const p of m.listPrimitives()) {
      out.push({ name: m.getName(), mesh: { positions: Float32Array.from(p.getAttribute('POSITION')!.getArray()!), indices: Uint32Array.from(p.getIndices()!.getArray()!) } });
    }
  }
  return out;
}

export async function validateGlb(bytes: Uint8Array): Promise<{ numErrors: number; messages: string[] }> {
  // @ts-expect-error gltf-validator ships no types
  const validator = (await import('gltf-validator')).default as { validateBytes(b: Uint8Array): Promise<{ issues: { numErrors: number; messages: { code: string; message: string; severity: number }[] } }> };
  const r = await validator.validateBytes(new Uint8Array(bytes));
  return { numErrors: r.issues.numErrors, messages: r.issues.messages.filter((m) => m.severity === 0).map((m) => `${m.code}: ${m.message}`) };
}

/** Drop convex pieces (one rigid body) from `height` onto the plane y = 0; the resting pose. */
export async function dropOnPlane(parts: Float32Array[], height = 0.05, seconds = 4): Promise<{ up: number; bottom: number }> {
  await RAPIER.init();
  const world = new RAPIER.World({ x: 0, y: -9.81, z: 0 });
  world.createCollider(RAPIER.ColliderDesc.cuboid(50, 0.5, 50).setTranslation(0, -0.5, 0));
  const body = world.createRigidBody(RAPIER.RigidBodyDesc.dynamic().setTranslation(0, height, 0));
  for (const p of parts) {
    const desc = RAPIER.ColliderDesc.convexHull(p);
    if (desc) world.createCollider(desc.setDensity(500), body);
  }
  for (let i = 0; i < seconds * 60; i++) world.step();
  const q = body.rotation(), t = body.translation();
  // body's +Y in world: second column of the rotation matrix
  const up = 1 - 2 * (q.x * q.x + q.z * q.z);
  let bottom = Infinity;
  for (const p of parts) for (let i = 0; i < p.length; i += 3) {
    const [x, y, z] = [p[i]!, p[i + 1]!, p[i + 2]!];
    // rotate (x,y,z) by q, take y
    const ix = q.w * x + q.y * z - q.z * y, iy = q.w * y + q.z * x - q.x * z, iz = q.w * z + q.x * y - q.y * x, iw = -q.x * x - q.y * y - q.z * z;
    const wy = iy * q.w + iw * -q.y + iz * -q.x - ix * -q.z;
    bottom = Math.min(bottom, wy + t.y);
  }
  world.free();
  return { up, bottom };
}
