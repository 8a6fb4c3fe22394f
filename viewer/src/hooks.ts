// window.__r2s: what tests and benchmarks drive and read (see viewer/README.md).
import * as THREE from 'three';
import type { Arrangement } from '../../src/viewer-server/protocol.js';
import { app, camera, canvas, nextFrame, project, sceneToView, settle, stats, viewToScene, world } from './app.js';
import { errorMessages, warningMessages } from './ui.js';
import { compare, jumpToCamera, leaveCapture, nav, resetView, toggleCompare, togglePlay, views } from './views.js';
import { assets, editPanel, exportFrame, ground, measure, sceneBox, splatCount, state, surfacesAt } from './main.js';
import { screenshot, togglePanel } from './controls.js';
import { helpOpen } from './help.js';
import { assetObjects } from './asset-view.js';

type V3 = [number, number, number];

export function installHooks(): void {
  const hooks = {
    get loaded() {
      return state.loaded;
    },
    get error() {
      return errorMessages()[0] ?? null;
    },
    get errors() {
      return errorMessages();
    },
    get warnings() {
      return warningMessages();
    },
    get splatCount() {
      return splatCount();
    },
    get frameCount() {
      return stats.frameCount;
    },
    get cameraCount() {
      return views.cams.length;
    },
    get atCapture() {
      return views.atCapture;
    },
    get frustumsVisible() {
      return !!views.graphics?.frustums.visible;
    },
    get helpOpen() {
      return helpOpen();
    },
    get up() {
      return new THREE.Vector3(0, 1, 0).applyQuaternion(world.quaternion.clone().invert()).toArray();
    },
    /** local ground height (viewer y) under a scene-frame point */
    groundUnder(p: V3) {
      const v = sceneToView(new THREE.Vector3(...p));
      return ground.heightAt(v.x, v.z);
    },
    meanFrameMs: () => stats.meanFrameMs(),
    /** Jump to capture camera i and wait for the sorted frame. */
    async jumpToCamera(i: number) {
      jumpToCamera(i);
      await settle();
    },
    resetView: () => resetView(sceneBox()),
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
      const el = document.getElementById(`tgl-${name}`) as HTMLInputElement;
      el.checked = on;
      el.dispatchEvent(new Event('change'));
    },
    openCompare: () => toggleCompare(),
    get compareActive() {
      return compare.active;
    },
    get comparePhoto() {
      return compare.active ? (document.getElementById('compare-photo') as HTMLImageElement).getAttribute('src') : null;
    },
    placeAsset: async (id: string) => !!(await assets.place(id, null)),
    arrangement: (): Arrangement => assets.arrangement(),
    loadArrangement: (a: Arrangement) => assets.load(a),
    /** placed asset i: its bounding-box centre in client pixels, and whether it is in front */
    assetOnScreen(i: number) {
      const p = assets.placed[i];
      if (!p) return null;
      p.mesh.updateMatrixWorld();
      const box = p.mesh.getBoundingBox(true).applyMatrix4(p.mesh.matrixWorld);
      const s = project(box.getCenter(new THREE.Vector3()));
      return { ...s, w: innerWidth, h: innerHeight, bottomY: box.min.y };
    },
    togglePlay,
    get playing() {
      return views.playback !== null;
    },
    /**
     * The projection the page draws (and selects) with: scene frame → viewer (`world`), viewer →
     * camera (`view`), camera → clip (`proj`), all column-major; the canvas's client rectangle and
     * drawing-buffer size.
     */
    cameraState() {
      world.updateMatrixWorld();
      camera.updateMatrixWorld();
      const r = canvas.getBoundingClientRect();
      return {
        world: world.matrixWorld.toArray(),
        view: camera.matrixWorldInverse.toArray(),
        proj: camera.projectionMatrix.toArray(),
        rect: { left: r.left, top: r.top, width: r.width, height: r.height },
        buffer: { width: canvas.width, height: canvas.height },
      };
    },
    /** the Mesh / Collider objects of an asset folder: loaded, shown, their meshes and triangles */
    assetObjects() {
      const out: Record<string, { visible: boolean; meshes: number; triangles: number } | null> = {};
      for (const [k, o] of Object.entries(assetObjects)) {
        if (!o) {
          out[k] = null;
          continue;
        }
        let meshes = 0, triangles = 0, shown = o.visible && !!o.parent;
        for (let p = o.parent; p; p = p.parent) shown &&= p.visible;
        o.traverse((m) => {
          const g = (m as THREE.Mesh).isMesh ? (m as THREE.Mesh).geometry : null;
          if (!g) return;
          meshes++;
          triangles += (g.index ? g.index.count : g.attributes.position!.count) / 3;
        });
        out[k] = { visible: shown, meshes, triangles };
      }
      return out;
    },
    /** hold a fly key for one frame of dt seconds; returns the distance moved over nav.speed */
    flyStep(code: string, dt: number) {
      const before = camera.position.clone();
      // as the frame loop does with held keys: moving leaves the capture camera
      if (nav.simulate(code, dt)) leaveCapture();
      return camera.position.distanceTo(before) / nav.speed;
    },
    // ---- crop & clean ----
    openPanel: (name: 'edit' | 'measure' | 'settings', on = true) => togglePanel(name, on),
    /** box at a scene-frame centre / size (upright); returns the splats inside */
    setBox: (c: V3, s: V3) => editPanel.setBox(new THREE.Vector3(...c), new THREE.Vector3(...s)),
    boxSelection: () => editPanel.boxSelection(app.manifest?.workspacePath ?? app.manifest?.title ?? 'scene'),
    deleteSelection: () => editPanel.apply('delete'),
    keepSelection: () => editPanel.apply('keep'),
    undo: () => editPanel.undo(),
    redo: () => editPanel.redo(),
    invertSelection: () => editPanel.invert(),
    /** which crop outlines are drawn */
    get cropOutlines() {
      return editPanel.outlines();
    },
    lasso: (poly: Array<[number, number]>) => {
      editPanel.setTool('lasso');
      return editPanel.finishLasso(poly);
    },
    setSphere: (c: V3, r: number) => editPanel.setSphere(new THREE.Vector3(...c), r),
    get selectedCount() {
      const s = editPanel.selection;
      return s ? s.reduce((n, v) => n + v, 0) : 0;
    },
    previewFloaters: () => editPanel.previewFloaters(),
    /** indices (into the loaded file) of the splats the floater preview shows red; null without a preview */
    get floaterPreview() {
      const s = editPanel.previewed;
      if (!s) return null;
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) if (s[i]) out.push(i);
      return out;
    },
    get keptSplats() {
      return state.editable?.kept ?? 0;
    },
    removeFloaters: () => editPanel.removeFloaters(),
    /** the kept splats as .spz or .ply bytes (base64) */
    exportScene(kind: 'spz' | 'ply') {
      const ed = state.editable;
      if (!ed) return null;
      const bytes = kind === 'spz' ? ed.exportSpz() : ed.exportPly(exportFrame());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    // ---- measure ----
    /** client pixels of a scene-frame point */
    screenOf(p: V3) {
      return project(sceneToView(new THREE.Vector3(...p)));
    },
    /** look at a scene-frame point from a scene-frame position */
    lookAt(from: V3, at: V3) {
      leaveCapture();
      camera.position.copy(sceneToView(new THREE.Vector3(...from)));
      nav.orbit.target.copy(sceneToView(new THREE.Vector3(...at)));
      camera.lookAt(nav.orbit.target);
      nav.orbit.update();
    },
    pick: (x: number, y: number) => measure.pickAt(x, y)?.toArray() ?? null,
    /** the rendered surface under a client pixel (scene frame), without picking it */
    surfaceAt(x: number, y: number) {
      const p = surfacesAt([{ x, y }])[0];
      return p ? viewToScene(p).toArray() : null;
    },
    /** orbit point and camera position (scene frame) */
    orbit() {
      return { target: viewToScene(nav.orbit.target).toArray(), camera: viewToScene(camera.position).toArray() };
    },
    get flySpeed() {
      return nav.speed;
    },
    /** the question the measure panel asks before overriding a metric frame, if any */
    get measureQuestion() {
      return measure.pending?.text ?? null;
    },
    answerQuestion: (yes: boolean) => measure.answer(yes),
    fitGround: () => measure.fitGroundUnderView(),
    get lastFitAngle() {
      return measure.lastFitAngle;
    },
    /**
     * Placed asset i in viewer coordinates (y is the scene's up): its pivot, the lowest point of
     * its splats, and its own up (+Y) direction.
     */
    assetPose(i: number) {
      const p = assets.placed[i];
      if (!p) return null;
      p.root.updateMatrixWorld(true);
      let low = Infinity;
      const v = new THREE.Vector3();
      p.mesh.forEachSplat((_k, c) => {
        low = Math.min(low, v.copy(c).applyMatrix4(p.mesh.matrixWorld).y);
      });
      const up = new THREE.Vector3(0, 1, 0).transformDirection(p.mesh.matrixWorld);
      return { pivot: p.root.getWorldPosition(new THREE.Vector3()).toArray(), bottomY: low, up: up.toArray() };
    },
    /** a scene-frame point in viewer coordinates */
    toView: (p: V3) => sceneToView(new THREE.Vector3(...p)).toArray(),
    /** picked measure points (scene frame) */
    get measurePoints() {
      return measure.points.map((p) => p.toArray());
    },
    setMeasureMode: (m: 'measure' | 'ground') => measure.setMode(m),
    get measuredDistance() {
      return measure.distance;
    },
    setScale: (metres: number) => measure.setScale(metres),
    userFrame: () => measure.frame,
    get frameLabel() {
      return document.getElementById('frame-label')!.textContent;
    },
    get sceneScale() {
      return app.sceneScale;
    },
  };
  (window as unknown as { __r2s: typeof hooks }).__r2s = hooks;
}
