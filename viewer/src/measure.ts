// Measure and set scale, origin and up. Clicks pick surface points (the depth of the rendered
// splats under the cursor, a median over a small window: depth.ts); two give a distance, drawn as
// markers and a line; typing the true length gives the scale factor. Three ground points (or a
// plane fitted to the surface under the view) give up and origin. On a frame that is already
// metric (GPS or camera height) both ask before overriding it and say what changes — a fitted up
// that disagrees with the known one by more than 5° says so. The result is an `r2s.user-frame`
// file (src/io/user-frame.ts) the viewer downloads, with the command that puts it in the
// workspace, where later stages (r2s extract) read it.
import * as THREE from 'three';
import type { ViewerUserFrame } from '../../src/viewer-server/protocol.js';
import { app, camera, canvas, markDirty, viewToScene, world } from './app.js';
import { $, downloadBytes, escapeHtml, showNote } from './ui.js';

type V3 = [number, number, number];
type Mode = 'measure' | 'ground';

/** a fitted up further than this from a known (GPS / camera-height) up is called a disagreement */
export const UP_AGREE_DEG = 5;

export interface KnownFrame {
  /** what made it metric, for messages: "GPS (ENU up)" */
  what: string;
  /** scene-frame unit up */
  up: THREE.Vector3;
}

export interface MeasureHost {
  /** viewer-space points of the rendered surface at client pixels (null where none) */
  surfaces: (at: Array<{ x: number; y: number }>) => Array<THREE.Vector3 | null>;
  /** the metric frame the reconstruction came with, if any */
  known: () => KnownFrame | null;
  /** the frame changed (scale / up / origin): re-orient and relabel */
  onFrame: (f: ViewerUserFrame) => void;
}

export class MeasurePanel {
  mode: Mode = 'measure';
  /** picked points, scene frame */
  points: THREE.Vector3[] = [];
  frame: ViewerUserFrame = { kind: 'r2s.user-frame', version: 1 };
  /** angle (degrees) between the last fitted up and the known up; null without a known up */
  lastFitAngle: number | null = null;
  /** the question on screen (override a metric frame?), if any */
  pending: { text: string; apply: () => void } | null = null;
  // drawn after the splats (transparent, late render order) and over them (no depth test); the
  // markers are screen-sized dots so they show at any scale
  private markers = new THREE.Points(new THREE.BufferGeometry(), new THREE.PointsMaterial({ color: 0xffee33, size: 10, sizeAttenuation: false, depthTest: false, depthWrite: false, transparent: true }));
  private line = new THREE.Line(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ color: 0xffee33, depthTest: false, depthWrite: false, transparent: true }));

  constructor(private host: MeasureHost) {
    this.markers.name = 'measure-markers';
    this.line.name = 'measure-line';
    this.markers.renderOrder = this.line.renderOrder = 1000;
    this.markers.frustumCulled = this.line.frustumCulled = false;
    world.add(this.markers, this.line);
    let down: { x: number; y: number } | null = null;
    canvas.addEventListener('pointerdown', (e) => (down = { x: e.clientX, y: e.clientY }));
    canvas.addEventListener('pointerup', (e) => {
      if (!this.open || !down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4) return;
      this.pickAt(e.clientX, e.clientY);
    });
    $('measure-mode-distance').addEventListener('click', () => this.setMode('measure'));
    $('measure-mode-ground').addEventListener('click', () => this.setMode('ground'));
    $('btn-set-scale').addEventListener('click', () => this.setScale(Number($<HTMLInputElement>('true-length').value)));
    $('btn-fit-ground').addEventListener('click', () => this.fitGroundUnderView());
    $('btn-save-frame').addEventListener('click', () => this.save());
    $('btn-measure-clear').addEventListener('click', () => this.clear());
    $('btn-confirm-yes').addEventListener('click', () => this.answer(true));
    $('btn-confirm-no').addEventListener('click', () => this.answer(false));
  }

  private ask(text: string, apply: () => void): void {
    this.pending = { text, apply };
    $('measure-confirm-text').textContent = text;
    $('measure-confirm').hidden = false;
  }

  /** Answer the question on screen: override the metric frame or keep it. */
  answer(yes: boolean): void {
    const p = this.pending;
    this.pending = null;
    $('measure-confirm').hidden = true;
    if (p && yes) p.apply();
    else if (p) $('measure-result').textContent = 'kept the frame the reconstruction came with';
  }

  get open(): boolean {
    return !$('panel-measure').hidden;
  }

  setOpen(on: boolean): void {
    $('panel-measure').hidden = !on;
    this.markers.visible = this.line.visible = on;
    markDirty();
  }

  setMode(m: Mode): void {
    this.mode = m;
    $('measure-mode-distance').setAttribute('aria-pressed', String(m === 'measure'));
    $('measure-mode-ground').setAttribute('aria-pressed', String(m === 'ground'));
    this.clear();
  }

  clear(): void {
    this.points = [];
    this.redraw();
  }

  /** Surface point under a screen point (scene frame), from the rendered splats; null when none. */
  surfaceAt(x: number, y: number): THREE.Vector3 | null {
    const p = this.host.surfaces([{ x, y }])[0];
    return p ? viewToScene(p) : null;
  }

  pickAt(x: number, y: number): THREE.Vector3 | null {
    const p = this.surfaceAt(x, y);
    if (!p) {
      $('measure-result').textContent = 'no surface under the pointer';
      return null;
    }
    const max = this.mode === 'measure' ? 2 : 3;
    if (this.points.length >= max) this.points = [];
    this.points.push(p);
    if (this.mode === 'ground' && this.points.length === 3) this.setGround(this.points);
    this.redraw();
    return p;
  }

  /** Distance between the two picked points, scene units. */
  get distance(): number | null {
    return this.mode === 'measure' && this.points.length === 2 ? this.points[0]!.distanceTo(this.points[1]!) : null;
  }

  private redraw(): void {
    // new geometries: three's setFromPoints on a smaller existing buffer warns and draws nothing
    this.markers.geometry.dispose();
    this.markers.geometry = new THREE.BufferGeometry().setFromPoints(this.points);
    this.line.geometry.dispose();
    this.line.geometry = new THREE.BufferGeometry().setFromPoints(this.points.length >= 2 ? [...this.points, ...(this.points.length === 3 ? [this.points[0]!] : [])] : []);
    const d = this.distance;
    const f = this.frame.scale?.factor;
    if (d !== null) $('measure-result').textContent = f ? `${(d * f).toFixed(3)} m (${d.toPrecision(4)} scene units)` : `${d.toPrecision(4)} ${app.manifest?.frame?.scale === 'metric' ? 'm' : 'scene units'}`;
    else $('measure-result').textContent = this.mode === 'measure' ? `click ${2 - this.points.length} more point(s) on the surface` : `click ${3 - this.points.length} more ground point(s)`;
    markDirty();
  }

  /**
   * The measured distance is `trueLength` metres: factor = metres per scene unit. On a frame that
   * is metric already this asks first (the answer applies it); returns the factor, or null when
   * nothing changed (yet).
   */
  setScale(trueLength: number, confirmed = false): number | null {
    const d = this.distance;
    if (d === null || !(d > 0) || !(trueLength > 0)) {
      $('measure-result').textContent = 'measure two points first, then type their true length in metres';
      return null;
    }
    const [a, b] = this.points.map((p) => p.clone()) as [THREE.Vector3, THREE.Vector3];
    const factor = trueLength / d;
    const apply = () => {
      this.frame = { ...this.frame, scale: { factor, from: 'measured', distance: trueLength, points: [a.toArray() as V3, b.toArray() as V3] } };
      this.host.onFrame(this.frame);
      this.redraw();
    };
    const known = this.host.known();
    if (known && !confirmed && !this.frame.scale) {
      this.ask(`This scene is already metric from ${known.what}: the two points are ${d.toFixed(3)} m apart. Setting ${trueLength} m rescales every length ×${factor.toPrecision(4)}. Override?`, apply);
      return null;
    }
    apply();
    return factor;
  }

  /**
   * Up = the normal of the plane through the points, on the side the camera sees it from (the
   * ground is picked from above; the current up only decides when the view is edge-on, since it
   * may be arbitrary, e.g. COLMAP's −y for a lone file); origin = their centroid.
   */
  setGround(pts: THREE.Vector3[], confirmed = false): void {
    const n = fitPlaneNormal(pts);
    if (!n) return;
    const c = pts.reduce((s, p) => s.add(p.clone()), new THREE.Vector3()).divideScalar(pts.length);
    // scene-frame current up and camera: world turns the current up to +y
    const curUp = new THREE.Vector3(0, 1, 0).applyQuaternion(world.quaternion.clone().invert());
    const toCam = viewToScene(camera.position).sub(c);
    const side = n.dot(toCam);
    if (Math.abs(side) > 1e-3 * toCam.length() ? side < 0 : n.dot(curUp) < 0) n.negate();
    const apply = () => {
      this.frame = { ...this.frame, up: n.toArray() as V3, origin: c.toArray() as V3 };
      this.host.onFrame(this.frame);
    };
    const known = this.host.known();
    this.lastFitAngle = known ? THREE.MathUtils.radToDeg(n.angleTo(known.up)) : null;
    if (known && !confirmed) {
      const deg = this.lastFitAngle!;
      const off = deg > UP_AGREE_DEG ? ` — they disagree by more than ${UP_AGREE_DEG}°: the ground here may slope, or the points missed it` : ' — they agree';
      this.ask(`The fitted ground's up is ${deg.toFixed(1)}° from the ${known.what} up${off}. Override up and origin?`, apply);
      return;
    }
    apply();
  }

  /**
   * Fit the ground to splat surface points under the lower part of the view. Objects standing on
   * the ground are hit too, so the plane is the one most of the points lie on (every plane through
   * three of them is tried; inliers within 1 % of the points' spread), refined by least squares
   * over its inliers.
   */
  fitGroundUnderView(): boolean {
    const r = canvas.getBoundingClientRect();
    const at: Array<{ x: number; y: number }> = [];
    for (let i = 0; i < 7; i++) for (let j = 0; j < 4; j++) at.push({ x: r.left + r.width * (0.2 + 0.1 * i), y: r.top + r.height * (0.6 + 0.09 * j) });
    const pts = this.host.surfaces(at).filter((p): p is THREE.Vector3 => !!p).map((p) => viewToScene(p));
    const inliers = pts.length >= 3 ? dominantPlane(pts) : [];
    if (inliers.length < 3) {
      $('measure-result').textContent = 'not enough surface under the view to fit the ground';
      return false;
    }
    $('measure-result').textContent = `ground fitted to ${inliers.length} of ${pts.length} points`;
    this.setGround(inliers);
    return true;
  }

  /** The user frame file, downloaded, with the command that puts it in place. */
  save(): string {
    const json = JSON.stringify(this.frame, null, 2) + '\n';
    downloadBytes('user-frame.json', json, 'application/json');
    const ws = app.manifest?.workspacePath;
    showNote(
      `Saved <b>user-frame.json</b>. The viewer cannot write to the workspace; put it in place with:<br><code>cp ~/Downloads/user-frame.json ${escapeHtml(ws ?? '<workspace>')}/user-frame.json</code>`,
    );
    return json;
  }
}

/** The points on the plane most of them lie on (within 1 % of their spread). */
export function dominantPlane(pts: THREE.Vector3[]): THREE.Vector3[] {
  const c = pts.reduce((s, p) => s.add(p), new THREE.Vector3()).divideScalar(pts.length);
  const spread = Math.max(...pts.map((p) => p.distanceTo(c)));
  const tol = 0.01 * spread;
  const n = new THREE.Vector3(), u = new THREE.Vector3(), v = new THREE.Vector3();
  let best: THREE.Vector3[] = [];
  let bestErr = Infinity;
  for (let a = 0; a < pts.length; a++)
    for (let b = a + 1; b < pts.length; b++)
      for (let k = b + 1; k < pts.length; k++) {
        n.crossVectors(u.subVectors(pts[b]!, pts[a]!), v.subVectors(pts[k]!, pts[a]!));
        // nearly collinear triples give no plane
        if (n.length() < 1e-6 * u.length() * v.length() || n.lengthSq() === 0) continue;
        n.normalize();
        const d = n.dot(pts[a]!);
        const on = pts.filter((p) => Math.abs(n.dot(p) - d) <= tol);
        const err = on.reduce((s, p) => s + Math.abs(n.dot(p) - d), 0);
        if (on.length > best.length || (on.length === best.length && err < bestErr)) (best = on), (bestErr = err);
      }
  return best;
}

/** Unit normal of the least-squares plane through ≥ 3 points (smallest principal axis). */
export function fitPlaneNormal(pts: THREE.Vector3[]): THREE.Vector3 | null {
  if (pts.length < 3) return null;
  if (pts.length === 3) {
    const n = new THREE.Vector3().subVectors(pts[1]!, pts[0]!).cross(new THREE.Vector3().subVectors(pts[2]!, pts[0]!));
    return n.lengthSq() > 0 ? n.normalize() : null;
  }
  const c = pts.reduce((s, p) => s.add(p), new THREE.Vector3()).divideScalar(pts.length);
  const m = new THREE.Matrix3().set(0, 0, 0, 0, 0, 0, 0, 0, 0);
  const e = m.elements;
  for (const p of pts) {
    const d = [p.x - c.x, p.y - c.y, p.z - c.z];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) e[i * 3 + j]! += d[i]! * d[j]!;
  }
  // the smallest axis is the largest of the inverse (shifted to stay invertible): power iteration
  const tr = e[0]! + e[4]! + e[8]!;
  const inv = m.clone();
  for (let i = 0; i < 3; i++) inv.elements[i * 4]! += 1e-9 * (tr || 1);
  inv.invert();
  const v = new THREE.Vector3(0.3, 1, 0.2);
  for (let k = 0; k < 50; k++) v.applyMatrix3(inv).normalize();
  return Number.isFinite(v.x) ? v : null;
}
