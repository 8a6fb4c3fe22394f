// Capture cameras: frustum wireframes, the capture path, and putting the viewer camera exactly
// where a photo was taken (pose and intrinsics, principal point included).
import * as THREE from 'three';
import { colmapToThreePose, projectionFromIntrinsics, verticalFovDeg } from '../../src/geometry/three-convert.js';
import type { ViewerCamera } from '../../src/viewer-server/protocol.js';

/** Pose of a capture camera in the frame of `world` (the workspace's coordinates). */
export function localPose(cam: ViewerCamera): THREE.Matrix4 {
  return new THREE.Matrix4().fromArray(colmapToThreePose(cam.qvec, cam.tvec).matrix);
}

/** Typical spacing of the cameras, to size frustums and movement speed. */
export function cameraSpacing(cams: ViewerCamera[]): number {
  const centres = cams.map((c) => new THREE.Vector3().setFromMatrixPosition(localPose(c)));
  if (centres.length < 2) return 1;
  const box = new THREE.Box3().setFromPoints(centres);
  const diag = box.getSize(new THREE.Vector3()).length();
  return diag > 0 ? diag : 1;
}

/** Median distance between consecutive capture cameras (scene units); 0 with fewer than two. */
export function medianStep(cams: ViewerCamera[]): number {
  const c = cams.map((k) => new THREE.Vector3().setFromMatrixPosition(localPose(k)));
  const d = c.slice(1).map((p, i) => p.distanceTo(c[i]!)).filter((v) => v > 0).sort((a, b) => a - b);
  return d.length ? d[d.length >> 1]! : 0;
}

/** Line vertices drawn per camera: 4 edges to the corners, 4 image edges, 2 for the up tick. */
const VERTS_PER_CAMERA = 20;

/**
 * Frustum wireframes (one LineSegments for all cameras) and the path through the camera centres.
 * `hide(i)` removes camera i's frustum while the view stands in it (it would outline the image).
 */
export class CameraGraphics {
  readonly frustums: THREE.LineSegments;
  readonly path: THREE.Line;
  private original: Float32Array;
  private hidden: number | null = null;

  constructor(cams: ViewerCamera[], size: number) {
    const pos: number[] = [];
    const centres: number[] = [];
    for (const c of cams) {
      const m = localPose(c);
      // image corners at depth `size` in three camera axes (y up, −z forward)
      const corner = (u: number, v: number) =>
        new THREE.Vector3(((u - c.cx) / c.fx) * size, (-(v - c.cy) / c.fy) * size, -size).applyMatrix4(m);
      const o = new THREE.Vector3().applyMatrix4(m);
      const k = [corner(0, 0), corner(c.width, 0), corner(c.width, c.height), corner(0, c.height)];
      for (let i = 0; i < 4; i++) {
        pos.push(o.x, o.y, o.z, k[i]!.x, k[i]!.y, k[i]!.z);
        const n = k[(i + 1) % 4]!;
        pos.push(k[i]!.x, k[i]!.y, k[i]!.z, n.x, n.y, n.z);
      }
      // a tick on the top edge shows which way is up in the photo
      const top = corner(c.width / 2, -0.15 * c.height);
      pos.push(k[0]!.x, k[0]!.y, k[0]!.z, top.x, top.y, top.z, top.x, top.y, top.z, k[1]!.x, k[1]!.y, k[1]!.z);
      centres.push(o.x, o.y, o.z);
    }
    this.original = new Float32Array(pos);
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(this.original.slice(), 3));
    this.frustums = new THREE.LineSegments(g, new THREE.LineBasicMaterial({ color: 0xffaa33 }));
    this.frustums.name = 'frustums';
    const pg = new THREE.BufferGeometry();
    pg.setAttribute('position', new THREE.Float32BufferAttribute(centres, 3));
    this.path = new THREE.Line(pg, new THREE.LineBasicMaterial({ color: 0x33aaff }));
    this.path.name = 'capture-path';
  }

  /** Collapse camera i's lines onto its centre (clipped by the near plane from there). */
  hide(i: number | null): void {
    if (i === this.hidden) return;
    const attr = this.frustums.geometry.getAttribute('position') as THREE.BufferAttribute;
    const arr = attr.array as Float32Array;
    const span = VERTS_PER_CAMERA * 3;
    if (this.hidden !== null) arr.set(this.original.subarray(this.hidden * span, (this.hidden + 1) * span), this.hidden * span);
    if (i !== null) {
      const o = this.original.subarray(i * span, i * span + 3); // first vertex is the centre
      for (let v = 0; v < VERTS_PER_CAMERA; v++) arr.set(o, i * span + v * 3);
    }
    this.hidden = i;
    attr.needsUpdate = true;
  }
}

/**
 * Put `camera` at capture camera `cam`. `world` is the scene root (up-axis rotation). Uses the
 * photo's intrinsics, fitted into the viewport.
 */
export function applyCapturePose(camera: THREE.PerspectiveCamera, world: THREE.Object3D, cam: ViewerCamera, viewportW: number, viewportH: number): void {
  world.updateMatrixWorld();
  const m = world.matrixWorld.clone().multiply(localPose(cam));
  m.decompose(camera.position, camera.quaternion, new THREE.Vector3());
  camera.updateMatrixWorld(true);
  camera.projectionMatrix.fromArray(projectionFromIntrinsics(cam, viewportW, viewportH, camera.near, camera.far));
  camera.projectionMatrixInverse.copy(camera.projectionMatrix).invert();
}

/** Leave capture intrinsics: an ordinary perspective camera with the photo's vertical FOV. */
export function releaseCaptureProjection(camera: THREE.PerspectiveCamera, cam: ViewerCamera | null, aspect: number): void {
  if (cam) camera.fov = verticalFovDeg(cam);
  camera.aspect = aspect;
  camera.updateProjectionMatrix();
}

/** Pose between capture cameras i and i+1 (t in 0..1), for path playback. */
export function interpolatePose(
  world: THREE.Object3D,
  a: ViewerCamera,
  b: ViewerCamera,
  t: number,
  out: { position: THREE.Vector3; quaternion: THREE.Quaternion },
): void {
  world.updateMatrixWorld();
  const pa = new THREE.Vector3(), qa = new THREE.Quaternion(), pb = new THREE.Vector3(), qb = new THREE.Quaternion();
  const s = new THREE.Vector3();
  world.matrixWorld.clone().multiply(localPose(a)).decompose(pa, qa, s);
  world.matrixWorld.clone().multiply(localPose(b)).decompose(pb, qb, s);
  // smoothstep eases in and out of each photo
  const e = t * t * (3 - 2 * t);
  out.position.copy(pa).lerp(pb, e);
  out.quaternion.copy(qa).slerp(qb, e);
}
