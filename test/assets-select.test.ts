import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildObjectsScene, type ObjectsScene } from '../src/synthetic/objects-scene.js';
import { cleanCut, findObjectsAuto, gaussianCentres, groundPlane, parseBoxSpec, readBoxSelection, resolveBoxArg, selectByBox, type GroundPlane } from '../src/assets/select/index.js';
import { allocGaussians, logit } from '../src/scene/gaussians.js';
import type { GaussianParams } from '../src/core/gaussians.js';
import { UserError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { quatToMat } from '../src/geometry/rotation.js';

const scene = buildObjectsScene();

/**
 * Scene plus floaters: faint haze and opaque specks in the air, at least 0.15 m from every object
 * (a speck touching a surface is indistinguishable from the surface).
 */
function withFloaters(s: ObjectsScene, n: number, seed: number): GaussianParams {
  const rng = new Rng(seed);
  const g = allocGaussians(s.params.count + n);
  for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) (g[k] as Float32Array).set(s.params[k]);
  const m = s.params.means;
  const clear = (p: number[]) => {
    for (let i = s.groundCount; i < s.params.count; i++) if (Math.hypot(m[3 * i]! - p[0]!, m[3 * i + 1]! - p[1]!, m[3 * i + 2]! - p[2]!) < 0.15) return false;
    return true;
  };
  for (let j = 0; j < n; j++) {
    const i = s.params.count + j;
    let p: number[];
    do p = [rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5), rng.uniform(0.05, 1.2)];
    while (!clear(p));
    g.means.set(p, 3 * i);
    g.logScales.set([Math.log(0.01), Math.log(0.01), Math.log(0.01)], 3 * i);
    g.quats.set([1, 0, 0, 0], 4 * i);
    g.opacityLogits[i] = logit(j % 4 === 0 ? 0.9 : 0.01);
  }
  return g;
}

function sortedExtents(size: number[]): number[] {
  return [...size.slice(0, 2).sort((a, b) => a - b), size[2]!];
}

function checkObjects(params: GaussianParams, ground: GroundPlane) {
  const objs = findObjectsAuto(params, ground);
  expect(objs.map((o) => o.rank)).toEqual([1, 2, 3]);
  for (const truth of scene.objects) {
    const o = objs.find((x) => Math.hypot(x.box.center[0] - truth.centre[0], x.box.center[1] - truth.centre[1]) < 0.05);
    expect(o, truth.name).toBeDefined();
    const got = sortedExtents(o!.box.size), want = sortedExtents(truth.extents);
    for (let a = 0; a < 3; a++) expect(Math.abs(got[a]! - want[a]!) / want[a]!, `${truth.name} axis ${a}`).toBeLessThan(0.02);
    // every selected Gaussian is this object's; at least 95 % of them are selected
    const [s, e] = truth.gaussians;
    const own = Array.from(o!.indices).filter((i) => i >= s && i < e).length;
    expect(own).toBe(o!.indices.length);
    expect(own / (e - s)).toBeGreaterThan(0.95);
    expect(o!.score).toBeGreaterThan(0);
  }
  return objs;
}

describe('ground plane', () => {
  const pts = gaussianCentres(scene.params).xyz;
  for (const up of [[0, 0, 1], null] as const) {
    it(`finds z = 0 (${up ? 'from frame up' : 'RANSAC'})`, () => {
      const g = groundPlane(pts, { up });
      expect(g.normal[2]).toBeGreaterThan(Math.cos((0.5 * Math.PI) / 180));
      expect(Math.abs(g.offset)).toBeLessThan(0.005);
      // the ground's Gaussians are inliers
      const inl = new Set(g.inliers);
      let hit = 0;
      for (let i = 0; i < scene.groundCount; i++) if (inl.has(i)) hit++;
      expect(hit / scene.groundCount).toBeGreaterThan(0.99);
    });
  }
  it('RANSAC orients the normal up even when the scene is upside down', () => {
    const flipped = Float64Array.from(pts, (v, k) => (k % 3 === 2 ? -v : v));
    expect(groundPlane(flipped).normal[2]).toBeLessThan(-0.99);
  });
});

describe('--auto', () => {
  it('finds exactly the three objects, extents within 2 %', () => {
    const g = groundPlane(gaussianCentres(scene.params).xyz, { up: [0, 0, 1] });
    checkObjects(scene.params, g);
  });
  it('is robust to floaters (faint haze and opaque specks in the air)', () => {
    const p = withFloaters(scene, 400, 3);
    const g = groundPlane(gaussianCentres(p).xyz);
    checkObjects(p, g);
  });
});

describe('cleanCut', () => {
  it('removes faint and isolated floaters from a cut, keeps the object', () => {
    const p = withFloaters(scene, 400, 5);
    const [s, e] = scene.objects[0]!.gaussians;
    const cut = [...Array.from({ length: e - s }, (_, k) => s + k), ...Array.from({ length: 400 }, (_, k) => scene.params.count + k)];
    const r = cleanCut(p, cut);
    const kept = Array.from(r.indices);
    expect(kept.filter((i) => i >= s && i < e).length).toBe(e - s);
    expect(kept.length - (e - s)).toBeLessThanOrEqual(2);
    expect(r.removed.faint).toBe(300);
    expect(r.removed.isolated).toBeGreaterThanOrEqual(98);
  });

  it('keeps a sparsely trained object whole: fragments just beyond the first link radius are the object, not specks', () => {
    // a dense core (half the mass) and a chain of 40 small clusters leading away from it, each 1/80
    // of the mass (2.5 % of the core's: below minPartFraction), 1.2 cm apart; plus 10 opaque specks 1 m away
    const rng = new Rng(3);
    const pts: number[][] = [];
    for (let k = 0; k < 800; k++) pts.push([rng.uniform(-0.02, 0.02), rng.uniform(-0.02, 0.02), rng.uniform(0.03, 0.07)]);
    for (let c = 0; c < 40; c++) {
      for (let k = 0; k < 20; k++) pts.push([0.03 + 0.012 * c + rng.uniform(-0.002, 0.002), rng.uniform(-0.002, 0.002), 0.05 + rng.uniform(-0.002, 0.002)]);
    }
    const object = pts.length;
    for (let k = 0; k < 10; k++) pts.push([1.3 + 0.3 * k, 1.3, 0.5]);
    const g = allocGaussians(pts.length);
    pts.forEach((p, i) => {
      g.means.set(p, 3 * i);
      g.logScales.set([Math.log(0.003), Math.log(0.003), Math.log(0.003)], 3 * i);
      g.quats.set([1, 0, 0, 0], 4 * i);
      g.opacityLogits[i] = logit(0.8);
    });
    const all = Array.from({ length: pts.length }, (_, i) => i);
    const r = cleanCut(g, all);
    expect(Array.from(r.indices).filter((i) => i < object).length).toBe(object);
    expect(r.removed.isolated).toBe(10);
    // with a radius that links the core but not the chain held fixed, the chain is lost (the failure this guards against)
    const fixed = cleanCut(g, all, { linkRadius: 0.006 });
    expect(fixed.removed.isolated).toBe(800 + 10);
  });
});

describe('--box', () => {
  const box = scene.objects[0]!;
  // from 1 cm above the ground (the ground's splats under the box are not the box) to its top
  const c = [box.centre[0], box.centre[1], box.centre[2] + 0.01], size = [box.extents[0] * 1.06, box.extents[1] * 1.06, box.extents[2]];
  const spec = `${c.join(',')},${size.join(',')},${box.yawDeg}`;
  it('selects exactly the box Gaussians (spec with yaw)', () => {
    const sel = selectByBox(scene.params, parseBoxSpec(spec).box);
    expect(Array.from(sel)).toEqual(Array.from({ length: box.gaussians[1] - box.gaussians[0] }, (_, k) => box.gaussians[0] + k));
  });
  it('yaw matters: the same box unrotated misses corners', () => {
    const s0 = `${c.join(',')},${size.join(',')}`;
    expect(selectByBox(scene.params, parseBoxSpec(s0).box).length).toBeLessThan(box.gaussians[1] - box.gaussians[0]);
  });
  it('reads a viewer selection file; rotation maps local to scene axes', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-box-'));
    const file = path.join(dir, 'sel.json');
    const q = parseBoxSpec(spec).box.rotation;
    writeFileSync(file, JSON.stringify({ kind: 'r2s.box-selection', version: 1, center: c, size, rotation: q, up: [0, 0, 1], splats: 1, source: 'x' }));
    const b = resolveBoxArg(file);
    expect(b.origin).toBe(file);
    const R = quatToMat(b.box.rotation);
    const yaw = (Math.atan2(R[3]!, R[0]!) * 180) / Math.PI;
    expect(yaw).toBeCloseTo(25, 6);
    expect(selectByBox(scene.params, b.box, { origin: file }).length).toBe(box.gaussians[1] - box.gaussians[0]);
  });
  it('bad input: one-line UserErrors naming the file and the fix', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-box-'));
    const empty = path.join(dir, 'empty.json');
    writeFileSync(empty, JSON.stringify({ kind: 'r2s.box-selection', version: 1, center: [9, 9, 9], size: [0.1, 0.1, 0.1], rotation: [1, 0, 0, 0] }));
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ kind: 'r2s.box-selection', version: 1, center: [0, 0], size: [1, 1, 1], rotation: [1, 0, 0, 0] }));
    const cases: [() => unknown, string][] = [
      [() => selectByBox(scene.params, readBoxSelection(empty).box, { origin: empty }), empty],
      [() => readBoxSelection(bad), bad],
      [() => readBoxSelection(path.join(dir, 'missing.json')), 'missing.json'],
      [() => parseBoxSpec('1,2,3'), '--box 1,2,3'],
      [() => parseBoxSpec('0,0,0,1,-1,1'), '--box'],
      [() => selectByBox(scene.params, parseBoxSpec('9,9,9,0.1,0.1,0.1').box, { origin: '--box 9,9,9,0.1,0.1,0.1' }), '--box 9,9,9'],
    ];
    for (const [f, name] of cases) {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(UserError);
      const line = (err as UserError).oneLine();
      expect(line).toContain(name);
      expect(line).toContain('fix:');
      expect(line).not.toContain('\n');
    }
  });
});
