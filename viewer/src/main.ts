// r2s viewer: a workspace's splat scene (Spark on three.js) with its capture cameras, sparse
// points, photo/render comparison, asset placement, crop & clean, measuring and WebXR. Talks to
// `r2s view`'s server (src/viewer-server) through /api/*.json and /files/*. Renders on demand
// (when something changed) to spare the CPU; `?continuous` renders every frame.
import * as THREE from 'three';
import type { SplatMesh } from '@sparkjsdev/spark';
import { upToYQuaternion } from '../../src/geometry/three-convert.js';
import type { ViewerCameras, ViewerCatalog, ViewerManifest, ViewerPoints, ViewerUserFrame } from '../../src/viewer-server/protocol.js';
import { app, camera, canvas, continuous, markDirty, params, renderer, renderFrame, scene, settle, stats, world, sceneToView } from './app.js';
import { $, clearStatus, fetchJson, messageOf, setStatus, showError } from './ui.js';
import { loadSplats, splatCountOf, splatsFromBytes, type FileFrame } from './splats.js';
import { CameraGraphics, cameraSpacing, localPose, medianStep } from './capture.js';
import { buildPointCloud } from './points.js';
import { AssetPanel } from './assets.js';
import { LocalGround } from './ground.js';
import { EditableScene } from './edit.js';
import { EditPanel } from './edit-panel.js';
import { MeasurePanel, UP_AGREE_DEG, type KnownFrame } from './measure.js';
import { SurfaceProbe, pointAtDepth } from './depth.js';
import { QualityPanel } from './quality.js';
import { buildHelp } from './help.js';
import { acceptDrops, fileFromUrl, type OpenedFile } from './open-file.js';
import { addAssetLights, showAssetFiles } from './asset-view.js';
import { compare, jumpToCamera, leaveCapture, nav, resetView, setCameras, stepPlayback, surface, views } from './views.js';
import { setSpeedFactor, wireControls } from './controls.js';
import { installHooks } from './hooks.js';
import { setupXR } from './xr.js';

export const state = {
  sceneMesh: null as SplatMesh | null,
  editable: null as EditableScene | null,
  points: null as THREE.Points | null,
  grid: null as THREE.GridHelper | null,
  loaded: false,
  /** the frame a lone exported .ply carried (when no workspace gives one) */
  fileFrame: null as FileFrame | null,
  /** scene-frame sparse points (or splat centres) the local ground is estimated from */
  groundSource: [] as THREE.Vector3[],
};

export const ground = new LocalGround();

export const assets = new AssetPanel({
  camera,
  canvas,
  scene,
  world,
  ground,
  surfaces: (at) => surfacesAt(at),
  onPlaced: (box) => {
    // nothing else to see (an asset library): look at what was placed
    if (!state.sceneMesh) resetView(box);
  },
  placeDistance: () => app.sceneScale * 0.5,
  setOrbitEnabled: (on) => (nav.orbit.enabled = on),
  onChange: () => markDirty(),
  onSplatsChanged: () => updateSplatCount(),
});

export const editPanel = new EditPanel({
  editable: () => state.editable,
  up: () => sceneUp(),
  target: () => nav.orbit.target.clone(),
  setOrbitEnabled: (on) => (nav.orbit.enabled = on),
  onEdited: () => updateSplatCount(),
  frame: () => exportFrame(),
});

/** The frame a .ply export carries: the scene's up as shown, and what its scale is. */
export function exportFrame(): FileFrame {
  const f = app.manifest?.frame;
  const ff = state.fileFrame;
  const scale = measure.frame.scale || f?.scale === 'metric' || ff?.scale === 'metric' ? 'metric' : 'arbitrary';
  const method = measure.frame.scale ? 'measured' : f?.scale === 'metric' ? f.method : (ff?.method ?? 'none');
  return { kind: 'r2s.frame', up: sceneUp(), scale, method };
}

const probe = new SurfaceProbe();

/** Viewer-space points of the rendered scene surface at client pixels (null where none). */
export function surfacesAt(at: Array<{ x: number; y: number }>): Array<THREE.Vector3 | null> {
  const mesh = state.sceneMesh;
  if (!mesh) return at.map(() => null);
  const rect = canvas.getBoundingClientRect();
  return probe.depths(mesh, camera, rect, at).map((d, i) => (d == null ? null : pointAtDepth(camera, rect, at[i]!.x, at[i]!.y, d)));
}

/** The metric frame the reconstruction came with (GPS or camera height), if any. */
export function knownFrame(): KnownFrame | null {
  const f = app.manifest?.frame;
  if (f?.scale !== 'metric' || !app.manifest) return null;
  return { what: f.method === 'gps' ? 'GPS (ENU)' : 'camera-height', up: new THREE.Vector3(...app.manifest.up).normalize() };
}

surface.centreDepth = () => {
  const mesh = state.sceneMesh;
  if (!mesh) return null;
  // the median over the middle of the view: the exact centre of a street view is its far end
  const r = canvas.getBoundingClientRect();
  const at: Array<{ x: number; y: number }> = [];
  for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) at.push({ x: r.left + r.width * (0.3 + 0.1 * i), y: r.top + r.height * (0.4 + 0.1 * j) });
  const d = probe.depths(mesh, camera, r, at, { radius: 6, step: 3 }).filter((v): v is number => v != null).sort((a, b) => a - b);
  return d.length ? d[d.length >> 1]! : null;
};

export const measure = new MeasurePanel({ surfaces: surfacesAt, known: knownFrame, onFrame: (f) => applyUserFrame(f) });

export const quality = new QualityPanel({
  meshes: () => [state.sceneMesh, ...assets.placed.map((p) => p.mesh)].filter((m): m is SplatMesh => !!m),
  setBudget: (n) => {
    if (!state.editable) return;
    state.editable.budget = n;
    state.editable.show();
  },
});

export function splatCount(): number {
  let n = state.sceneMesh ? splatCountOf(state.sceneMesh) : 0;
  for (const p of assets.placed) n += splatCountOf(p.mesh);
  return n;
}

function updateSplatCount(): void {
  stats.setSplats(splatCount());
  markDirty();
}

/** Scene-frame up: the user's, else the one the page turned to +y. */
export function sceneUp(): [number, number, number] {
  const u = new THREE.Vector3(0, 1, 0).applyQuaternion(world.quaternion.clone().invert());
  return [u.x, u.y, u.z].map((v) => Number(v.toFixed(9))) as [number, number, number];
}

/** Swap the displayed scene splats (an edit rebuilt them). */
function setSceneMesh(mesh: SplatMesh): void {
  if (state.sceneMesh) {
    state.sceneMesh.removeFromParent();
    state.sceneMesh.dispose();
  }
  mesh.name = 'scene';
  mesh.maxSh = quality.q.shDegree;
  state.sceneMesh = mesh;
  world.add(mesh);
  updateSplatCount();
}

/** Show a decoded scene: the edit layer wraps it, the budget applies. */
function showScene(mesh: SplatMesh): void {
  state.editable = null;
  // a file the viewer exported keeps its frame; a workspace's own frame comes first
  const ff = mesh.userData.r2sFrame as FileFrame | undefined;
  if (ff && !app.manifest?.frame && app.manifest?.kind !== 'workspace') {
    state.fileFrame = ff;
    world.quaternion.fromArray(upToYQuaternion(ff.up));
    world.updateMatrixWorld(true);
    $('frame-label').textContent = frameLabel();
  }
  setSceneMesh(mesh);
  try {
    state.editable = new EditableScene(mesh, setSceneMesh);
    if (quality.q.budget && quality.q.budget < state.editable.count) {
      state.editable.budget = quality.q.budget;
      state.editable.show();
    }
  } catch (e) {
    showError(`editing disabled: ${messageOf(e)}`);
  }
}

// ---- ground and frame ----
function refreshGround(): void {
  world.updateMatrixWorld(true);
  ground.setPoints(state.groundSource.map(sceneToView), app.sceneScale);
  const centres = views.cams.map((c) => sceneToView(new THREE.Vector3().setFromMatrixPosition(localPose(c))));
  const f = app.manifest?.frame;
  ground.setCameras(centres, f?.method === 'camera-height' && !measure.frame.scale ? (f.cameraHeight ?? null) : null);
  updateGrid();
}

/** Grid under the view: at the local ground below the orbit target. */
export function updateGrid(): void {
  const g = state.grid;
  if (!g || !g.visible) return;
  const t = nav.orbit.target;
  g.position.set(t.x, ground.heightAt(t.x, t.z), t.z);
}

function frameLabel(): string {
  const f = app.manifest?.frame;
  const known = knownFrame();
  let label: string;
  if (measure.frame.scale) label = `metric (from measurement, ×${measure.frame.scale.factor.toPrecision(4)}${known ? `, overriding ${known.what}` : ''})`;
  else if (f?.scale === 'metric') label = f.method === 'gps' ? 'metric (GPS, ENU up)' : `metric (camera height ${f.cameraHeight ?? '?'} m)`;
  else if (state.fileFrame) label = `${state.fileFrame.scale === 'metric' ? `metric (${state.fileFrame.method})` : 'arbitrary scale'}, frame from the file`;
  else label = 'arbitrary scale';
  if (measure.frame.up && known) {
    const deg = THREE.MathUtils.radToDeg(new THREE.Vector3(...measure.frame.up).angleTo(known.up));
    label = label.replace(', ENU up', '') + ` · up from the ground, ${deg.toFixed(1)}° from ${known.what} up${deg > UP_AGREE_DEG ? ' (disagrees)' : ''}`;
  } else if (measure.frame.up) label += ' · up from the ground';
  return label;
}

function applyUserFrame(f: ViewerUserFrame): void {
  measure.frame = f;
  if (f.up) {
    world.quaternion.fromArray(upToYQuaternion(f.up));
    world.updateMatrixWorld(true);
  }
  $('frame-label').textContent = frameLabel();
  refreshGround();
  markDirty();
}

// ---- frame loop ----
let lastTime = performance.now();
renderer.setAnimationLoop(() => {
  const now = performance.now();
  const dt = (now - lastTime) / 1000;
  lastTime = now;
  if (nav.update(dt)) {
    leaveCapture();
    markDirty();
  }
  if (views.playback) {
    stepPlayback(dt);
    markDirty();
  }
  if (!app.dirty && !continuous && !renderer.xr.isPresenting && app.frameWaiters.length === 0) {
    stats.idle();
    return;
  }
  app.dirty = false;
  updateGrid();
  renderFrame();
});

window.addEventListener('resize', () => {
  renderer.setSize(window.innerWidth, window.innerHeight);
  if (views.atCapture !== null) {
    jumpToCamera(views.atCapture);
  } else {
    camera.aspect = window.innerWidth / window.innerHeight;
    camera.updateProjectionMatrix();
  }
  compare.layout();
  markDirty();
});

// ---- loading ----
async function loadCameras(): Promise<void> {
  const data = await fetchJson<ViewerCameras>('/api/cameras.json');
  const cams = data.cameras;
  if (!cams.length) return setCameras([], null);
  app.sceneScale = cameraSpacing(cams);
  // fly at about two capture steps a second (a walk's photo spacing is a stride or two)
  const stepLen = medianStep(cams);
  nav.setBaseSpeed(stepLen > 0 ? stepLen * 2 : app.sceneScale * 0.05);
  const g = new CameraGraphics(cams, app.sceneScale * 0.02);
  world.add(g.frustums, g.path);
  setCameras(cams, g);
}

async function loadPoints(): Promise<void> {
  const data = await fetchJson<ViewerPoints>('/api/points.json');
  state.points = buildPointCloud(data, app.sceneScale * 0.004);
  state.points.visible = $<HTMLInputElement>('tgl-points').checked;
  world.add(state.points);
  const step = Math.max(1, Math.floor(data.count / 50000));
  for (let i = 0; i < data.count; i += step) state.groundSource.push(new THREE.Vector3(data.xyz[i * 3], data.xyz[i * 3 + 1], data.xyz[i * 3 + 2]));
}

function groundFromSplats(mesh: SplatMesh): void {
  const n = splatCountOf(mesh);
  const step = Math.max(1, Math.floor(n / 50000));
  mesh.forEachSplat((i, c) => {
    if (i % step === 0) state.groundSource.push(c.clone());
  });
}

async function openScene(file: OpenedFile | null, fallback: ViewerManifest['splats']): Promise<void> {
  if (file) showScene(await splatsFromBytes(file.bytes, file.format, file.name, (p, f) => setStatus(p, f)));
  else if (fallback) showScene(await loadSplats(fallback.url, fallback.format, fallback.name, (p, f) => setStatus(p, f)));
}

async function main(): Promise<void> {
  wireControls();
  buildHelp();
  setStatus('Loading scene description…');
  const manifest = (app.manifest = await fetchJson<ViewerManifest>('/api/manifest.json'));
  document.title = `r2s · ${manifest.title}`;
  $('title').textContent = manifest.title;
  for (const w of manifest.warnings) showError(w);
  world.quaternion.fromArray(upToYQuaternion(manifest.up));
  world.updateMatrixWorld(true);
  $('camera-controls').hidden = !manifest.cameras;

  if (manifest.cameras) await loadCameras().catch((e) => showError(`cameras: ${messageOf(e)}`));
  if (manifest.points) await loadPoints().catch((e) => showError(`sparse points: ${messageOf(e)}`));

  const url = params.get('file');
  const name = url ? decodeURIComponent(url.split('/').pop() ?? url) : manifest.splats?.name;
  try {
    await openScene(url ? await fileFromUrl(url, (f) => setStatus(`Downloading ${name}`, f)) : null, manifest.splats);
    const mesh = state.sceneMesh;
    if (mesh && !views.cams.length) {
      const box = mesh.getBoundingBox(true);
      app.sceneScale = Math.max(1e-3, box.getSize(new THREE.Vector3()).length());
      nav.setBaseSpeed(app.sceneScale * 0.15);
    }
    if (mesh && !state.groundSource.length) groundFromSplats(mesh);
  } catch (e) {
    showError(`Could not load ${name}: ${messageOf(e)}`);
  }
  if (!manifest.splats && !url && !manifest.cameras && !manifest.catalog) showError('Nothing to show: no splats, no cameras, no assets.');
  camera.near = app.sceneScale * 1e-3;
  camera.far = app.sceneScale * 1e3;
  state.grid = new THREE.GridHelper(Math.max(1e-3, app.sceneScale * 0.5), 20, 0x888888, 0x444444);
  state.grid.visible = $<HTMLInputElement>('tgl-grid').checked;
  scene.add(state.grid);
  if (manifest.userFrame) applyUserFrame(manifest.userFrame);
  else {
    $('frame-label').textContent = frameLabel();
    refreshGround();
  }
  updateSplatCount();
  resetView(sceneBox());
  setSpeedFactor(nav.factor);

  if (manifest.assetFiles) {
    addAssetLights(scene);
    await showAssetFiles(manifest.assetFiles).catch((e) => showError(`asset files: ${messageOf(e)}`));
  }
  if (manifest.catalog) {
    await fetchJson<ViewerCatalog>('/api/catalog.json')
      .then((c) => assets.show(c))
      .catch((e) => showError(`asset catalog: ${messageOf(e)}`));
  }
  acceptDrops(document.body, (f) => void openDropped(f), (m) => showError(m));
  await setupXR().catch(() => {});
  clearStatus();
  await settle();
  state.loaded = true;
}

/** Scene splats' bounds in viewer coordinates (for the first view without cameras). */
export function sceneBox(): THREE.Box3 | null {
  const m = state.sceneMesh;
  return m ? m.getBoundingBox(true).applyMatrix4(m.matrixWorld) : null;
}

async function openDropped(f: OpenedFile): Promise<void> {
  try {
    setStatus(`Decoding ${f.name}`);
    await openScene(f, null);
    $('title').textContent = f.name;
    resetView(views.cams.length ? null : sceneBox());
  } catch (e) {
    showError(`Could not load ${f.name}: ${messageOf(e)}`);
  } finally {
    clearStatus();
  }
}

installHooks();

main().catch((e) => {
  clearStatus();
  showError(`Viewer failed to start: ${messageOf(e)}`);
  state.loaded = true;
});
