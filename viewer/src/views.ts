// Camera moves: capture cameras (jump, step, dropdown), free view, path playback and the
// photo-vs-render compare, kept consistent with each other: the dropdown shows "free view" when
// the view left the capture cameras, the compare photo always belongs to the camera shown, and
// ◀/▶ step from the capture camera nearest to the view.
import * as THREE from 'three';
import type { ViewerCamera } from '../../src/viewer-server/protocol.js';
import { camera, canvas, markDirty, world, sceneToView } from './app.js';
import { applyCapturePose, CameraGraphics, interpolatePose, localPose, releaseCaptureProjection } from './capture.js';
import { Compare } from './compare.js';
import { Navigation } from './nav.js';
import { $, messageOf, showError } from './ui.js';

const FREE = '';

export const views = {
  cams: [] as ViewerCamera[],
  graphics: null as CameraGraphics | null,
  /** index of the capture camera the view is at (with its intrinsics), or null */
  atCapture: null as number | null,
  playback: null as { from: number; t: number } | null,
  /** what the Cameras toggle asks for; frustums are also hidden at a capture camera */
  showFrustums: false,
};

/**
 * Depth (viewer units) of the rendered surface under the screen centre, or null; main.ts sets it.
 * The orbit point goes there, so a drag turns about what is in view, not about a point half the
 * capture path ahead.
 */
export const surface = { centreDepth: (): number | null => null };

/** Orbit about the surface under the centre of the view (else a short way ahead). */
export function retargetToSurface(): void {
  const d = surface.centreDepth();
  nav.retarget(d ?? nav.speed * 2);
}

export const nav = new Navigation(camera, canvas, () => leaveCapture(), () => markDirty());
export const compare = new Compare(() => markDirty());

function aspect(): number {
  return (canvas.clientWidth || window.innerWidth) / (canvas.clientHeight || window.innerHeight);
}

/**
 * Frustums help to find cameras in free view; standing in one, in Compare or playing the path,
 * the others are drawn as a tunnel over the image, so they are hidden there.
 */
export function updateFrustums(): void {
  const g = views.graphics;
  if (!g) return;
  const on = views.showFrustums && views.atCapture === null && !views.playback && !compare.active;
  g.frustums.visible = on;
  g.path.visible = on;
  markDirty();
}

function syncSelect(label: string): void {
  const sel = $<HTMLSelectElement>('sel-camera');
  const free = sel.querySelector<HTMLOptionElement>(`option[value="${FREE}"]`);
  if (views.atCapture !== null) {
    sel.value = String(views.atCapture);
  } else {
    if (free) free.textContent = label;
    sel.value = FREE;
  }
}

export function jumpToCamera(i: number): void {
  const cam = views.cams[i];
  if (!cam) throw new Error(`no capture camera ${i} (have ${views.cams.length})`);
  stopPlayback();
  views.atCapture = i;
  views.graphics?.hide(i);
  applyCapturePose(camera, world, cam, canvas.clientWidth || window.innerWidth, canvas.clientHeight || window.innerHeight);
  retargetToSurface();
  syncSelect('');
  $('camera-label').textContent = `camera ${i + 1}/${views.cams.length}: ${cam.name}`;
  // the photo must follow the camera
  if (compare.active) void compare.open(cam).catch((e) => showError(messageOf(e)));
  updateFrustums();
}

/** The user took over: back to an ordinary camera (keeps the pose). */
export function leaveCapture(): void {
  stopPlayback();
  if (views.atCapture !== null) {
    releaseCaptureProjection(camera, views.cams[views.atCapture] ?? null, aspect());
    views.atCapture = null;
    views.graphics?.hide(null);
    $('camera-label').textContent = '';
    if (compare.active) compare.close();
    syncSelect('— free view —');
  }
  updateFrustums();
}

/** Capture camera whose centre is nearest to the view (for ◀/▶ from free view). */
export function nearestCamera(): number {
  let best = 0, bd = Infinity;
  const p = new THREE.Vector3();
  views.cams.forEach((c, i) => {
    const d = sceneToView(p.setFromMatrixPosition(localPose(c))).distanceToSquared(camera.position);
    if (d < bd) (bd = d), (best = i);
  });
  return best;
}

export function step(d: number): void {
  const n = views.cams.length;
  if (!n) return;
  const from = views.playback ? views.playback.from + (d > 0 ? 0 : 1) : views.atCapture ?? nearestCamera();
  jumpToCamera((((from + d) % n) + n) % n);
}

export function resetView(box: THREE.Box3 | null): void {
  if (views.cams.length) return jumpToCamera(0);
  leaveCapture();
  const b = box ?? new THREE.Box3(new THREE.Vector3(-1, -1, -1), new THREE.Vector3(1, 1, 1));
  const centre = b.getCenter(new THREE.Vector3());
  const radius = Math.max(1e-3, b.getSize(new THREE.Vector3()).length() / 2);
  camera.fov = 60;
  camera.aspect = aspect();
  camera.position.copy(centre).add(new THREE.Vector3(0, 0.35, 1).normalize().multiplyScalar(radius * 2));
  camera.lookAt(centre);
  camera.updateProjectionMatrix();
  nav.orbit.target.copy(centre);
  nav.orbit.update();
  markDirty();
}

function stopPlayback(): void {
  if (!views.playback) return;
  views.playback = null;
  $('btn-play').textContent = 'Play path';
  // a stopped path no longer says it is playing
  syncSelect(views.atCapture === null ? '— free view —' : '');
}

export function togglePlay(): void {
  if (views.playback) {
    stopPlayback();
    leaveCapture();
    return;
  }
  const n = views.cams.length;
  if (n < 2) return;
  const start = views.atCapture !== null && views.atCapture < n - 1 ? views.atCapture : 0;
  leaveCapture();
  releaseCaptureProjection(camera, views.cams[start]!, aspect());
  views.playback = { from: start, t: 0 };
  $('btn-play').textContent = 'Stop';
  syncSelect('— playing the path —');
  updateFrustums();
}

export function stepPlayback(dt: number): void {
  const pb = views.playback;
  if (!pb) return;
  pb.t += dt / 1.2; // seconds per photo
  while (pb.t >= 1) {
    pb.t -= 1;
    pb.from++;
  }
  const n = views.cams.length;
  if (pb.from >= n - 1) {
    jumpToCamera(n - 1);
    return;
  }
  interpolatePose(world, views.cams[pb.from]!, views.cams[pb.from + 1]!, pb.t, camera);
  $('camera-label').textContent = `path ${pb.from + 1}→${pb.from + 2}/${n}`;
  nav.retarget(nav.speed * 2);
}

export async function toggleCompare(): Promise<void> {
  if (compare.active) {
    compare.close();
    updateFrustums();
    return;
  }
  if (!views.cams.length) return showError('no capture cameras to compare with');
  if (views.atCapture === null) jumpToCamera(views.playback ? views.playback.from : nearestCamera());
  try {
    await compare.open(views.cams[views.atCapture!]!);
  } catch (e) {
    showError(messageOf(e));
  }
  updateFrustums();
}

export function closeCompare(): void {
  if (!compare.active) return;
  compare.close();
  updateFrustums();
}

/** Fill the camera dropdown (with a "free view" entry shown while away from the cameras). */
export function setCameras(cams: ViewerCamera[], graphics: CameraGraphics | null): void {
  views.cams = cams;
  views.graphics = graphics;
  const sel = $<HTMLSelectElement>('sel-camera');
  const free = new Option('— free view —', FREE);
  free.disabled = true;
  sel.replaceChildren(free, ...cams.map((c, i) => new Option(`${i + 1}: ${c.name}`, String(i))));
  sel.value = FREE;
  // no cameras: none of the camera controls mean anything
  $('camera-controls').hidden = cams.length === 0;
  updateFrustums();
}
