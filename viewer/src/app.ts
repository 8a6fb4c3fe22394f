// The page's shared pieces: renderer, scene, camera, the `world` group (scene frame turned so its
// up is +y) and the render-on-demand loop's dirty flag. One module so the tools can share them
// without threading a context through every call.
import * as THREE from 'three';
import { SparkRenderer } from '@sparkjsdev/spark';
import type { ViewerManifest } from '../../src/viewer-server/protocol.js';
import { $ } from './ui.js';
import { FrameStats } from './overlay.js';

export const params = new URLSearchParams(location.search);
export const continuous = params.has('continuous');

export const renderer = new THREE.WebGLRenderer({ antialias: false });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.setSize(window.innerWidth, window.innerHeight);
renderer.setClearColor(0x000000, 1);
$('stage').appendChild(renderer.domElement);
export const canvas = renderer.domElement;

export const scene = new THREE.Scene();
export const camera = new THREE.PerspectiveCamera(60, window.innerWidth / window.innerHeight, 0.01, 1000);
// 3DGS-trained scenes add 0.3 px² to each 2D covariance without opacity compensation
export const spark = new SparkRenderer({ renderer, onDirty: () => markDirty(), preBlurAmount: 0.3, blurAmount: 0 });
scene.add(spark);
/** the workspace's coordinates (the scene frame), turned so that its up is +y */
export const world = new THREE.Group();
world.name = 'world';
scene.add(world);

export const stats = new FrameStats();

export const app = {
  manifest: null as ViewerManifest | null,
  /** typical size of the scene (camera path diagonal, else splat bounds), in scene units */
  sceneScale: 1,
  dirty: true,
  frameWaiters: [] as Array<() => void>,
};

export function markDirty(): void {
  app.dirty = true;
}

export function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    app.frameWaiters.push(resolve);
    markDirty();
  });
}

/** Render until Spark's sort for the current view has landed (bounded). */
export async function settle(minFrames = 3, maxMs = 5000): Promise<void> {
  const t0 = performance.now();
  let calm = 0;
  while (calm < minFrames && performance.now() - t0 < maxMs) {
    await nextFrame();
    calm = spark.sorting || spark.sortDirty ? 0 : calm + 1;
  }
}

const pixel = new Uint8Array(4);
let lastSync = 0;

export function renderFrame(): void {
  const t0 = performance.now();
  renderer.render(scene, camera);
  // render() only queues the GPU's work (on software WebGL that is most of a frame): about once a
  // second, wait for it (a one-pixel read) so the overlay shows what a frame really costs
  let synced: number | undefined;
  // (not the first frames: they compile the shaders)
  if (stats.frameCount > 5 && t0 - lastSync > 1000 && !renderer.xr.isPresenting) {
    const gl = renderer.getContext();
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
    synced = performance.now() - t0;
    lastSync = performance.now();
  }
  stats.tick(t0, performance.now() - t0, synced);
  while (app.frameWaiters.length) app.frameWaiters.shift()!();
}

/** Scene frame (workspace coordinates) → viewer (y-up display) coordinates, and back. */
export function sceneToView(p: THREE.Vector3): THREE.Vector3 {
  world.updateMatrixWorld();
  return p.clone().applyMatrix4(world.matrixWorld);
}
export function viewToScene(p: THREE.Vector3): THREE.Vector3 {
  world.updateMatrixWorld();
  return world.worldToLocal(p.clone());
}

/** Screen point (client pixels) → normalised device coordinates. */
export function ndcOf(x: number, y: number): THREE.Vector2 {
  const r = canvas.getBoundingClientRect();
  return new THREE.Vector2(((x - r.left) / r.width) * 2 - 1, -((y - r.top) / r.height) * 2 + 1);
}

/** Viewer-space point → client pixels, with whether it is in front of the camera. */
export function project(p: THREE.Vector3): { x: number; y: number; inFront: boolean } {
  const r = canvas.getBoundingClientRect();
  camera.updateMatrixWorld();
  const v = p.clone().project(camera);
  const inFront = p.clone().applyMatrix4(camera.matrixWorldInverse).z < 0;
  return { x: r.left + ((v.x + 1) / 2) * r.width, y: r.top + ((1 - v.y) / 2) * r.height, inFront };
}
