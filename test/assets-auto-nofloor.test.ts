/**
 * `--auto` without a floor (a turntable-like capture: one object on a black backdrop, cameras on a
 * ring, the scene's up unknown, the capture in an arbitrary orientation): the best plane runs
 * through the object, so the ground must be refused (it does not carry the scene) and the cleaned
 * foreground returned as one object — its extents those of the object in the capture's units,
 * its bottom (the pivot) at the object's lowest point, up along the ring's axis. The same object
 * standing on a floor keeps the floor.
 */
import { describe, expect, it } from 'vitest';
import type { GaussianParams } from '../src/core/gaussians.js';
import { findObjectsAuto, gaussianCentres, groundPlane, heightOf } from '../src/assets/select/index.js';
import { boxShape } from '../src/assets/mesh/test-shapes.js';
import { concatGaussians } from '../src/assets/export/transform-gaussians.js';
import { Rng } from '../src/util/rng.js';

/** Rotation taking +Z to the unit vector `up` and turning about it by `yaw` (row-major). */
function frameRotation(up: [number, number, number], yaw: number): number[] {
  const l = Math.hypot(...up), z = up.map((v) => v / l);
  const a = Math.abs(z[0]!) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  let x = [z[1]! * a[2]! - z[2]! * a[1]!, z[2]! * a[0]! - z[0]! * a[2]!, z[0]! * a[1]! - z[1]! * a[0]!];
  const xl = Math.hypot(...x); x = x.map((v) => v / xl);
  let y = [z[1]! * x[2]! - z[2]! * x[1]!, z[2]! * x[0]! - z[0]! * x[2]!, z[0]! * x[1]! - z[1]! * x[0]!];
  const c = Math.cos(yaw), s = Math.sin(yaw);
  [x, y] = [x.map((v, k) => c * v + s * y[k]!), y.map((v, k) => -s * x[k]! + c * v)];
  // columns x, y, z: local → capture
  return [x[0]!, y[0]!, z[0]!, x[1]!, y[1]!, z[1]!, x[2]!, y[2]!, z[2]!];
}

function rotate(p: GaussianParams, R: number[], t: number[]): GaussianParams {
  const out = { ...p, means: new Float32Array(p.means.length), quats: new Float32Array(p.quats.length) };
  // rotation R as a quaternion (w, x, y, z)
  const w = Math.sqrt(Math.max(0, 1 + R[0]! + R[4]! + R[8]!)) / 2;
  const q = [w, (R[7]! - R[5]!) / (4 * w), (R[2]! - R[6]!) / (4 * w), (R[3]! - R[1]!) / (4 * w)];
  for (let i = 0; i < p.count; i++) {
    const x = p.means[3 * i]!, y = p.means[3 * i + 1]!, z = p.means[3 * i + 2]!;
    for (let r = 0; r < 3; r++) out.means[3 * i + r] = R[3 * r]! * x + R[3 * r + 1]! * y + R[3 * r + 2]! * z + t[r]!;
    const [bw, bx, by, bz] = [p.quats[4 * i]!, p.quats[4 * i + 1]!, p.quats[4 * i + 2]!, p.quats[4 * i + 3]!];
    out.quats[4 * i] = q[0]! * bw - q[1]! * bx - q[2]! * by - q[3]! * bz;
    out.quats[4 * i + 1] = q[0]! * bx + q[1]! * bw + q[2]! * bz - q[3]! * by;
    out.quats[4 * i + 2] = q[0]! * by - q[1]! * bz + q[2]! * bw + q[3]! * bx;
    out.quats[4 * i + 3] = q[0]! * bz + q[1]! * by - q[2]! * bx + q[3]! * bw;
  }
  return out;
}

/** Faint and small floaters scattered around the object (what a short training leaves). */
function floaters(n: number, seed: number): GaussianParams {
  const rng = new Rng(seed);
  const g: GaussianParams = { count: n, means: new Float32Array(3 * n), logScales: new Float32Array(3 * n).fill(Math.log(0.004)), quats: new Float32Array(4 * n), opacityLogits: new Float32Array(n), sh: new Float32Array(48 * n) };
  for (let i = 0; i < n; i++) {
    g.means.set([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-0.5, 1.3)], 3 * i);
    g.quats[4 * i] = 1;
    g.opacityLogits[i] = rng.uniform(-3, 1);
  }
  return g;
}

const UP: [number, number, number] = [0.3, -0.5, 0.81]; // the capture's (unknown) up
const R = frameRotation(UP, 0.7), T = [0.4, -1.2, 2.5];
const upUnit = UP.map((v) => v / Math.hypot(...UP));

/** Camera centres on a ring 30° above the object, in the capture frame. */
function ring(n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const az = (2 * Math.PI * k) / n, d = 2;
    const p = [d * Math.cos(az) * Math.cos(0.5), d * Math.sin(az) * Math.cos(0.5), 0.4 + d * Math.sin(0.5)];
    for (let r = 0; r < 3; r++) out.push(R[3 * r]! * p[0]! + R[3 * r + 1]! * p[1]! + R[3 * r + 2]! * p[2]! + T[r]!);
  }
  return out;
}

describe('--auto without a floor', () => {
  // a 0.5 × 0.3 × 0.8 box (its big flat faces are where RANSAC finds its "ground"), no floor
  const object = boxShape(0.5, 0.3, 0.8, 12000, 5).params;
  const scene = rotate(concatGaussians([object, floaters(300, 9)]), R, T);

  it('refuses the plane through the object and returns the foreground as one object at its lowest point', () => {
    const ground = groundPlane(gaussianCentres(scene).xyz, { up: null, towards: ring(16) });
    expect(ground.carries).toBe(false);
    const objs = findObjectsAuto(scene, ground);
    expect(objs.length).toBe(1);
    const o = objs[0]!;
    // up: the ring's axis, within 2°
    const cos = ground.normal[0] * upUnit[0]! + ground.normal[1] * upUnit[1]! + ground.normal[2] * upUnit[2]!;
    expect(Math.acos(Math.min(1, cos)) * 180 / Math.PI).toBeLessThan(2);
    // extents in the capture's units: footprint 0.5 × 0.3 (either order), height 0.8, within 3 %
    const foot = [o.box.size[0], o.box.size[1]].sort((a, b) => b - a);
    console.log(`no floor: support ${JSON.stringify(ground.support)}, box ${o.box.size.map((v) => v.toFixed(4)).join(' × ')}, ${o.indices.length} Gaussians`);
    expect(Math.abs(foot[0]! / 0.5 - 1)).toBeLessThan(0.03);
    expect(Math.abs(foot[1]! / 0.3 - 1)).toBeLessThan(0.03);
    expect(Math.abs(o.box.size[2] / 0.8 - 1)).toBeLessThan(0.03);
    // pivot: the support plane passes through the object's lowest point (its true bottom at local z = 0)
    const bottom = [0, 1, 2].map((r) => T[r]!); // local origin = bottom centre of the box
    expect(Math.abs(heightOf(ground, bottom, 0))).toBeLessThan(0.01 * 0.8);
    // the floaters are not part of it: at most a few of the 300
    expect(o.indices.length).toBeLessThanOrEqual(object.count + 10);
  });

  it('keeps a floor that carries the object', () => {
    // the same object on a 3 × 3 floor of flat Gaussians at its bottom
    const rng = new Rng(4), n = 20000;
    const floor: GaussianParams = { count: n, means: new Float32Array(3 * n), logScales: new Float32Array(3 * n), quats: new Float32Array(4 * n), opacityLogits: new Float32Array(n).fill(4), sh: new Float32Array(48 * n) };
    for (let i = 0; i < n; i++) {
      floor.means.set([rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5), 0], 3 * i);
      floor.logScales.set([Math.log(0.02), Math.log(0.02), Math.log(0.001)], 3 * i);
      floor.quats[4 * i] = 1;
    }
    const withFloor = rotate(concatGaussians([object, floor]), R, T);
    const ground = groundPlane(gaussianCentres(withFloor).xyz, { up: null, towards: ring(16) });
    expect(ground.carries).toBe(true);
    expect(ground.inliers.length).toBeGreaterThan(0.9 * n);
    const objs = findObjectsAuto(withFloor, ground);
    expect(objs.length).toBe(1);
    expect(Math.abs(objs[0]!.box.size[2] / 0.8 - 1)).toBeLessThan(0.03);
  });
});
