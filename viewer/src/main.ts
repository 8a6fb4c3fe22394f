// r2s viewer: a workspace's splat scene (Spark on three.js) with its capture cameras, sparse
// points, photo/render comparison, asset placement and WebXR. Talks to `r2s view`'s server
// (src/viewer-server) through /api/*.json and /files/*. Renders on demand (when something changed)
// to spare the CPU; `?continuous` renders every frame.
import * as THREE from 'three';
import { SparkRenderer, type SplatMesh } from '@sparkjsdev/spark';
import { VRButton } from 'three/addons/webxr/VRButton.js';
import { ARButton } from 'three/addons/webxr/ARButton.js';
import { upToYQuaternion } from '../../src/geometry/three-convert.js';
import type { Arrangement, ViewerCamera, ViewerCameras, ViewerCatalog, ViewerManifest, ViewerPoints } from '../../src/viewer-server/protocol.js';
import { $, clearStatus, download, errorMessages, fetchJson, messageOf, setStatus, showError } from './ui.js';
import { loadSplats, splatCountOf } from './splats.js';
import { applyCapturePose, CameraGraphics, cameraSpacing, interpolatePose, releaseCaptureProjection } from './capture.js';
import { buildPointCloud, groundHeight } from './points.js';
import { FrameStats } from './overlay.js';
import { Compare } from './compare.js';
import { Navigation } from './nav.js';
import { AssetPanel } from './assets.js';

const params = new URLSearchParams(location.search);
const continuous = params.has('continuous');

// ---- three.js + Spark ----
const renderer = new THREE.WebGLRenderer({ antialias: false });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.setSize(window.innerWidth, window.innerHeight);
renderer.setClearColor(0x000000, 1);
$('stage').appendChild(renderer.domElement);
const canvas = renderer.domElement;

const scene = new THREE.Scene();
const camera = new THREE.PerspectiveCamera(60, window.innerWidth / window.innerHeight, 0.01, 1000);
// 3DGS-trained scenes add 0.3 px² to each 2D covariance without opacity compensation
const spark = new SparkRenderer({ renderer, onDirty: () => markDirty(), preBlurAmount: 0.3, blurAmount: 0 });
scene.add(spark);
/** the workspace's coordinates, turned so that its up is +y */
const world = new THREE.Group();
world.name = 'world';
scene.add(world);

// ---- state ----
let dirty = true;
let manifest: ViewerManifest | null = null;
let cams: ViewerCamera[] = [];
let sceneMesh: SplatMesh | null = null;
let camGraphics: CameraGraphics | null = null;
let points: THREE.Points | null = null;
let grid: THREE.GridHelper | null = null;
let groundY = 0;
let sceneScale = 1;
/** index of the capture camera the view is at (with its intrinsics), or null */
let atCapture: number | null = null;
let playback: { from: number; t: number } | null = null;
let loaded = false;
let lastTime = performance.now();
const stats = new FrameStats();
const frameWaiters: Array<() => void> = [];

function markDirty(): void {
  dirty = true;
}

const nav = new Navigation(camera, canvas, () => leaveCapture(), () => markDirty());
const compare = new Compare(() => markDirty());
const assets = new AssetPanel({
  camera,
  canvas,
  scene,
  world,
  groundY: () => groundY,
  setOrbitEnabled: (on) => (nav.orbit.enabled = on),
  onChange: () => markDirty(),
  onSplatsChanged: () => updateSplatCount(),
});

function splatCount(): number {
  let n = sceneMesh ? splatCountOf(sceneMesh) : 0;
  for (const p of assets.placed) n += splatCountOf(p.mesh);
  return n;
}

function updateSplatCount(): void {
  stats.setSplats(splatCount());
  markDirty();
}

// ---- camera moves ----
function jumpToCamera(i: number): void {
  const cam = cams[i];
  if (!cam) throw new Error(`no capture camera ${i} (have ${cams.length})`);
  playback = null;
  atCapture = i;
  camGraphics?.hide(i);
  applyCapturePose(camera, world, cam, canvas.clientWidth || window.innerWidth, canvas.clientHeight || window.innerHeight);
  nav.retarget(sceneScale * 0.5);
  $<HTMLSelectElement>('sel-camera').value = String(i);
  $('camera-label').textContent = `camera ${i + 1}/${cams.length}: ${cam.name}`;
  markDirty();
}

/** The user took over: back to an ordinary camera (keeps the pose). */
function leaveCapture(): void {
  playback = null;
  if (atCapture !== null) {
    releaseCaptureProjection(camera, cams[atCapture] ?? null, window.innerWidth / window.innerHeight);
    atCapture = null;
    camGraphics?.hide(null);
    $('camera-label').textContent = '';
    if (compare.active) compare.close();
  }
  markDirty();
}

function resetView(): void {
  if (cams.length) return jumpToCamera(0);
  leaveCapture();
  const box = sceneMesh ? sceneMesh.getBoundingBox(true).applyMatrix4(sceneMesh.matrixWorld) : new THREE.Box3(new THREE.Vector3(-1, -1, -1), new THREE.Vector3(1, 1, 1));
  const centre = box.getCenter(new THREE.Vector3());
  const radius = Math.max(1e-3, box.getSize(new THREE.Vector3()).length() / 2);
  camera.fov = 60;
  camera.aspect = window.innerWidth / window.innerHeight;
  camera.position.copy(centre).add(new THREE.Vector3(0, 0.35, 1).normalize().multiplyScalar(radius * 2));
  camera.lookAt(centre);
  camera.updateProjectionMatrix();
  nav.orbit.target.copy(centre);
  nav.orbit.update();
  markDirty();
}

function togglePlay(): void {
  if (playback) {
    playback = null;
    $('btn-play').textContent = 'Play path';
    return;
  }
  if (cams.length < 2) return;
  const start = atCapture !== null && atCapture < cams.length - 1 ? atCapture : 0;
  leaveCapture();
  releaseCaptureProjection(camera, cams[start]!, window.innerWidth / window.innerHeight);
  playback = { from: start, t: 0 };
  $('btn-play').textContent = 'Stop';
}

function stepPlayback(dt: number): void {
  if (!playback) return;
  playback.t += dt / 1.2; // seconds per photo
  while (playback.t >= 1) {
    playback.t -= 1;
    playback.from++;
  }
  if (playback.from >= cams.length - 1) {
    playback = null;
    $('btn-play').textContent = 'Play path';
    jumpToCamera(cams.length - 1);
    return;
  }
  interpolatePose(world, cams[playback.from]!, cams[playback.from + 1]!, playback.t, camera);
  $('camera-label').textContent = `path ${playback.from + 1}→${playback.from + 2}/${cams.length}`;
  nav.retarget(sceneScale * 0.5);
}

// ---- frame loop ----
function renderFrame(): void {
  const t0 = performance.now();
  renderer.render(scene, camera);
  stats.tick(t0, performance.now() - t0);
  while (frameWaiters.length) frameWaiters.shift()!();
}

renderer.setAnimationLoop(() => {
  const now = performance.now();
  const dt = (now - lastTime) / 1000;
  lastTime = now;
  if (nav.update(dt)) {
    leaveCapture();
    markDirty();
  }
  if (playback) {
    stepPlayback(dt);
    markDirty();
  }
  if (!dirty && !continuous && !renderer.xr.isPresenting && frameWaiters.length === 0) {
    stats.idle();
    return;
  }
  dirty = false;
  renderFrame();
});

function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    frameWaiters.push(resolve);
    markDirty();
  });
}

/** Render until Spark's sort for the current view has landed (bounded). */
async function settle(minFrames = 3, maxMs = 5000): Promise<void> {
  const t0 = performance.now();
  let calm = 0;
  while (calm < minFrames && performance.now() - t0 < maxMs) {
    await nextFrame();
    calm = spark.sorting || spark.sortDirty ? 0 : calm + 1;
  }
}

window.addEventListener('resize', () => {
  renderer.setSize(window.innerWidth, window.innerHeight);
  if (atCapture !== null) applyCapturePose(camera, world, cams[atCapture]!, window.innerWidth, window.innerHeight);
  else {
    camera.aspect = window.innerWidth / window.innerHeight;
    camera.updateProjectionMatrix();
  }
  compare.layout();
  markDirty();
});

// ---- toolbar ----
function setVisible(obj: THREE.Object3D | null, on: boolean): void {
  if (obj) obj.visible = on;
  markDirty();
}

function wireToolbar(): void {
  $('btn-reset').addEventListener('click', resetView);
  $('btn-fly').addEventListener('click', () => {
    nav.setFly(!nav.fly);
    $('btn-fly').setAttribute('aria-pressed', String(nav.fly));
  });
  const frus = $<HTMLInputElement>('tgl-frustums');
  frus.addEventListener('change', () => {
    setVisible(camGraphics?.frustums ?? null, frus.checked);
    setVisible(camGraphics?.path ?? null, frus.checked);
  });
  const pts = $<HTMLInputElement>('tgl-points');
  pts.addEventListener('change', () => setVisible(points, pts.checked));
  const gr = $<HTMLInputElement>('tgl-grid');
  gr.addEventListener('change', () => setVisible(grid, gr.checked));
  const sel = $<HTMLSelectElement>('sel-camera');
  sel.addEventListener('change', () => jumpToCamera(Number(sel.value)));
  const step = (d: number) => cams.length && jumpToCamera(((atCapture ?? -d) + d + cams.length) % cams.length);
  $('btn-prev').addEventListener('click', () => step(-1));
  $('btn-next').addEventListener('click', () => step(1));
  $('btn-play').addEventListener('click', togglePlay);
  $('btn-compare').addEventListener('click', () => void toggleCompare());
  $('btn-shot').addEventListener('click', () => download(`r2s-${manifest?.title ?? 'view'}-${Date.now()}.png`, screenshot()));
  window.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey) return;
    const actions: Record<string, () => void> = {
      KeyR: resetView,
      KeyF: () => $('btn-fly').click(),
      BracketLeft: () => step(-1),
      BracketRight: () => step(1),
      KeyP: togglePlay,
      KeyC: () => void toggleCompare(),
      KeyG: () => assets.cycleMode(),
    };
    actions[e.code]?.();
  });
}

async function toggleCompare(): Promise<void> {
  if (compare.active) return compare.close();
  if (!cams.length) return showError('no capture cameras to compare with');
  if (atCapture === null) jumpToCamera(Number($<HTMLSelectElement>('sel-camera').value) || 0);
  try {
    await compare.open(cams[atCapture!]!);
  } catch (e) {
    showError(messageOf(e));
  }
}

function screenshot(): string {
  // drawing and reading in the same task: no preserveDrawingBuffer needed
  renderFrame();
  return canvas.toDataURL('image/png');
}

async function setupXR(): Promise<void> {
  const xr = (navigator as Navigator & { xr?: { isSessionSupported(m: string): Promise<boolean> } }).xr;
  if (!xr) return;
  const [vr, ar] = await Promise.all([
    xr.isSessionSupported('immersive-vr').catch(() => false),
    xr.isSessionSupported('immersive-ar').catch(() => false),
  ]);
  if (!vr && !ar) return;
  renderer.xr.enabled = true;
  const slot = $('xr-slot');
  for (const b of [vr ? VRButton.createButton(renderer) : null, ar ? ARButton.createButton(renderer) : null]) {
    if (!b) continue;
    // three styles these buttons for the bottom centre; put them in the toolbar instead
    Object.assign(b.style, { position: 'static', left: '', bottom: '', width: 'auto', padding: '3px 8px', fontSize: '13px' });
    slot.appendChild(b);
  }
}

// ---- loading ----
async function loadCameras(): Promise<void> {
  const data = await fetchJson<ViewerCameras>('/api/cameras.json');
  cams = data.cameras;
  if (!cams.length) return;
  sceneScale = cameraSpacing(cams);
  nav.speed = sceneScale * 0.25;
  camGraphics = new CameraGraphics(cams, sceneScale * 0.04);
  world.add(camGraphics.frustums, camGraphics.path);
  const sel = $<HTMLSelectElement>('sel-camera');
  sel.replaceChildren(...cams.map((c, i) => new Option(`${i + 1}: ${c.name}`, String(i))));
}

async function loadPoints(): Promise<void> {
  const data = await fetchJson<ViewerPoints>('/api/points.json');
  points = buildPointCloud(data, sceneScale * 0.004);
  points.visible = $<HTMLInputElement>('tgl-points').checked;
  world.add(points);
  world.updateMatrixWorld(true);
  const ys: THREE.Vector3[] = [];
  const pos = points.geometry.getAttribute('position');
  for (let i = 0; i < pos.count; i += Math.max(1, Math.floor(pos.count / 20000))) {
    ys.push(new THREE.Vector3(pos.getX(i), pos.getY(i), pos.getZ(i)).applyMatrix4(world.matrixWorld));
  }
  groundY = groundHeight(ys) ?? groundY;
}

function addGrid(): void {
  const size = Math.max(1, sceneScale * 3);
  grid = new THREE.GridHelper(size, 20, 0x888888, 0x444444);
  grid.position.y = groundY;
  grid.visible = $<HTMLInputElement>('tgl-grid').checked;
  scene.add(grid);
}

async function main(): Promise<void> {
  wireToolbar();
  setStatus('Loading scene description…');
  manifest = await fetchJson<ViewerManifest>('/api/manifest.json');
  document.title = `r2s · ${manifest.title}`;
  $('title').textContent = manifest.title;
  for (const w of manifest.warnings) showError(w);
  world.quaternion.fromArray(upToYQuaternion(manifest.up));
  world.updateMatrixWorld(true);

  if (manifest.cameras) await loadCameras().catch((e) => showError(`cameras: ${messageOf(e)}`));
  if (manifest.points) await loadPoints().catch((e) => showError(`sparse points: ${messageOf(e)}`));

  if (manifest.splats) {
    const s = manifest.splats;
    try {
      sceneMesh = await loadSplats(s.url, s.format, s.name, (phase, f) => setStatus(phase, f));
      sceneMesh.name = 'scene';
      world.add(sceneMesh);
      if (!cams.length) {
        const box = sceneMesh.getBoundingBox(true);
        sceneScale = Math.max(1e-3, box.getSize(new THREE.Vector3()).length());
        nav.speed = sceneScale * 0.15;
        if (!manifest.points) groundY = box.clone().applyMatrix4(world.matrixWorld).min.y;
      }
    } catch (e) {
      showError(`Could not load ${s.name}: ${messageOf(e)}`);
    }
  } else if (!manifest.cameras && !manifest.catalog) {
    showError('Nothing to show: no splats, no cameras, no assets.');
  }
  camera.near = sceneScale * 1e-3;
  camera.far = sceneScale * 1e3;
  addGrid();
  updateSplatCount();
  resetView();

  if (manifest.catalog) {
    await fetchJson<ViewerCatalog>('/api/catalog.json')
      .then((c) => assets.show(c))
      .catch((e) => showError(`asset catalog: ${messageOf(e)}`));
  }
  await setupXR().catch(() => {});
  clearStatus();
  await settle();
  loaded = true;
}

// ---- hooks for tests and benchmarks ----
const hooks = {
  get loaded() {
    return loaded;
  },
  get error() {
    return errorMessages()[0] ?? null;
  },
  get errors() {
    return errorMessages();
  },
  get splatCount() {
    return splatCount();
  },
  get frameCount() {
    return stats.frameCount;
  },
  get cameraCount() {
    return cams.length;
  },
  get atCapture() {
    return atCapture;
  },
  get groundY() {
    return groundY;
  },
  meanFrameMs: () => stats.meanFrameMs(),
  /** Jump to capture camera i and wait for the sorted frame. */
  async jumpToCamera(i: number) {
    jumpToCamera(i);
    await settle();
  },
  resetView,
  settle,
  screenshot,
  /**
   * Render n frames back to back and return their mean interval (ms). With `orbitDeg`, the camera
   * turns that much about the orbit target each frame, so Spark keeps re-sorting as in real use.
   */
  async measureFrames(n: number, orbitDeg = 0) {
    leaveCapture();
    await nextFrame();
    const q = new THREE.Quaternion().setFromAxisAngle(new THREE.Vector3(0, 1, 0), (orbitDeg * Math.PI) / 180);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (orbitDeg) {
        const off = camera.position.clone().sub(nav.orbit.target).applyQuaternion(q);
        camera.position.copy(nav.orbit.target).add(off);
        camera.lookAt(nav.orbit.target);
      }
      await nextFrame();
    }
    return (performance.now() - t0) / n;
  },
  setToggle(name: 'frustums' | 'points' | 'grid', on: boolean) {
    const el = $<HTMLInputElement>(`tgl-${name}`);
    el.checked = on;
    el.dispatchEvent(new Event('change'));
  },
  openCompare: () => toggleCompare(),
  get compareActive() {
    return compare.active;
  },
  placeAsset: async (id: string) => !!(await assets.place(id, null)),
  arrangement: () => assets.arrangement(),
  loadArrangement: (a: Arrangement) => assets.load(a),
  togglePlay,
  get playing() {
    return playback !== null;
  },
};
(window as unknown as { __r2s: typeof hooks }).__r2s = hooks;

main().catch((e) => {
  clearStatus();
  showError(`Viewer failed to start: ${messageOf(e)}`);
  loaded = true;
});
