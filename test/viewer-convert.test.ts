/**
 * src/geometry/three-convert.ts: COLMAP pose → three.js camera, intrinsics → projection matrix.
 * Checked against three.js itself: a world point projected by three's camera must land on the
 * pixel COLMAP's pinhole model gives.
 */
import { describe, it, expect } from 'vitest';
import * as THREE from 'three';
import { colmapToThreePose, projectionFromIntrinsics, estimateUp, upToYQuaternion, verticalFovDeg } from '../src/geometry/three-convert.js';
import { expSO3, matToQuat, matVec3, transpose3 } from '../src/geometry/rotation.js';

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** COLMAP pinhole projection (pixel coordinates, centres at +0.5). */
function colmapPixel(R: number[], t: number[], k: { fx: number; fy: number; cx: number; cy: number }, X: number[]): [number, number, number] {
  const p = matVec3(R, X);
  const x = p[0] + t[0]!, y = p[1] + t[1]!, z = p[2] + t[2]!;
  return [(k.fx * x) / z + k.cx, (k.fy * y) / z + k.cy, z];
}

/** three.js projection of X to pixel coordinates in a W×H viewport. */
function threePixel(cam: THREE.Camera, X: number[], W: number, H: number): [number, number] {
  const v = new THREE.Vector3(X[0], X[1], X[2]).project(cam);
  return [((v.x + 1) / 2) * W, ((1 - v.y) / 2) * H];
}

describe('three-convert', () => {
  it('puts three cameras where COLMAP cameras are, with the same pixels', () => {
    const r = rand(7);
    for (let trial = 0; trial < 20; trial++) {
      const R = expSO3([(r() - 0.5) * 4, (r() - 0.5) * 4, (r() - 0.5) * 4]);
      const t = [(r() - 0.5) * 6, (r() - 0.5) * 6, (r() - 0.5) * 6];
      const k = { width: 640, height: 480, fx: 500 + r() * 200, fy: 480 + r() * 200, cx: 300 + r() * 40, cy: 230 + r() * 30 };
      const pose = colmapToThreePose(matToQuat(R), t);
      const cam = new THREE.PerspectiveCamera();
      cam.matrixAutoUpdate = false;
      cam.matrix.fromArray(pose.matrix);
      cam.matrixWorld.copy(cam.matrix);
      cam.matrixWorldInverse.copy(cam.matrixWorld).invert();
      cam.projectionMatrix.fromArray(projectionFromIntrinsics(k, k.width, k.height, 0.01, 100));
      cam.projectionMatrixInverse.copy(cam.projectionMatrix).invert();
      // the quaternion and position agree with the matrix
      const m2 = new THREE.Matrix4().compose(new THREE.Vector3(...pose.position), new THREE.Quaternion(...pose.quaternion), new THREE.Vector3(1, 1, 1));
      m2.elements.forEach((e, i) => expect(e).toBeCloseTo(pose.matrix[i]!, 9));
      let checked = 0;
      for (let n = 0; n < 50; n++) {
        // a point in front of the camera
        const xc = [(r() - 0.5) * 4, (r() - 0.5) * 3, 1 + r() * 8];
        const X = matVec3(transpose3(R), [xc[0]! - t[0]!, xc[1]! - t[1]!, xc[2]! - t[2]!]);
        const [u, v, z] = colmapPixel(R, t, k, X);
        expect(z).toBeCloseTo(xc[2]!, 9);
        const [tu, tv] = threePixel(cam, X, k.width, k.height);
        expect(Math.abs(tu - u)).toBeLessThan(1e-6 * k.width);
        expect(Math.abs(tv - v)).toBeLessThan(1e-6 * k.height);
        checked++;
      }
      expect(checked).toBe(50);
    }
  });

  it('looks down −z with y up: a camera with identity rotation looks along +z of the world', () => {
    const pose = colmapToThreePose([1, 0, 0, 0], [0, 0, 0]);
    const cam = new THREE.Object3D();
    cam.quaternion.fromArray(pose.quaternion);
    const fwd = new THREE.Vector3(0, 0, -1).applyQuaternion(cam.quaternion);
    const up = new THREE.Vector3(0, 1, 0).applyQuaternion(cam.quaternion);
    expect(fwd.toArray().map((x) => Math.round(x * 1e9) / 1e9)).toEqual([0, 0, 1]);
    expect(up.toArray().map((x) => Math.round(x * 1e9) / 1e9)).toEqual([0, -1, 0]);
  });

  it('letterboxes the photo into a viewport of another aspect at the same scale', () => {
    const k = { width: 400, height: 300, fx: 350, fy: 350, cx: 200, cy: 150 };
    // viewport twice as wide: photo fills the height, centred horizontally
    const P = new THREE.Matrix4().fromArray(projectionFromIntrinsics(k, 800, 300, 0.1, 10));
    // three camera point (1, 0.5, −2): OpenCV x/z = 0.5 → u = 200 + 175 = 375 px in the photo,
    // which sits 200 px from the viewport's left edge
    const ndc = new THREE.Vector3(1, 0.5, -2).applyMatrix4(P);
    expect(((ndc.x + 1) / 2) * 800).toBeCloseTo(200 + 375, 6);
    // OpenCV y/z = −0.25 → v = 150 − 87.5 px, no vertical offset
    expect(((1 - ndc.y) / 2) * 300).toBeCloseTo(150 - 87.5, 6);
    expect(verticalFovDeg(k)).toBeCloseTo((2 * Math.atan(150 / 350) * 180) / Math.PI, 9);
  });

  it('estimates the up direction from cameras and turns it to +y', () => {
    // cameras whose image "up" (−y) is world +z, looking horizontally in several directions
    const qs = [0, 1, 2, 3].map((i) => {
      const a = (i * Math.PI) / 2;
      const f = [Math.cos(a), Math.sin(a), 0];
      const x = [Math.sin(a), -Math.cos(a), 0]; // right = f × up(z)
      const y = [0, 0, -1];
      return matToQuat([...x, ...y, ...f]);
    });
    const up = estimateUp(qs);
    expect(up[2]).toBeCloseTo(1, 9);
    const q = new THREE.Quaternion(...upToYQuaternion(up));
    const v = new THREE.Vector3(...up).applyQuaternion(q);
    expect(v.y).toBeCloseTo(1, 9);
    expect(estimateUp([])).toEqual([0, -1, 0]);
    // cameras on a ring looking down at the centre (pitch biases their mean "up"): still z
    const ring = [0, 1, 2].map((i) => {
      const a = (i * 2 * Math.PI) / 3 + 0.3, el = [0.4, 0.7, 0.95][i]!;
      const eye = [4 * Math.cos(el) * Math.cos(a), 4 * Math.cos(el) * Math.sin(a), 4 * Math.sin(el)];
      const f = eye.map((e) => -e / 4);
      const x = [f[1]!, -f[0]!, 0].map((v, _, arr) => v / Math.hypot(arr[0]!, arr[1]!));
      const y = [f[1]! * x[2]! - f[2]! * x[1]!, f[2]! * x[0]! - f[0]! * x[2]!, f[0]! * x[1]! - f[1]! * x[0]!];
      return matToQuat([...x, ...y, ...f]);
    });
    const ringUp = estimateUp(ring);
    expect(ringUp[2]).toBeGreaterThan(0.99999);
    // all cameras facing one way, pitched down 30°: up stays perpendicular to their x axis
    const fwdOnly = [0, 1, 2].map(() => {
      const p = Math.PI / 6;
      const f = [0, Math.cos(p), -Math.sin(p)];
      const x = [1, 0, 0];
      const y = [f[1]! * x[2]! - f[2]! * x[1]!, f[2]! * x[0]! - f[0]! * x[2]!, f[0]! * x[1]! - f[1]! * x[0]!];
      return matToQuat([...x, ...y, ...f]);
    });
    const fu = estimateUp(fwdOnly);
    expect(Math.abs(fu[0])).toBeLessThan(1e-9);
    expect(fu[2]).toBeGreaterThan(0.8);
    const down = new THREE.Vector3(0, -1, 0).applyQuaternion(new THREE.Quaternion(...upToYQuaternion([0, -1, 0])));
    expect(down.y).toBeCloseTo(1, 9);
  });
});
