// Crop & clean panel: a box or sphere (moved / turned / sized with three's TransformControls) or a
// screen lasso selects splats; delete, keep only, undo; a floater filter with a preview; export of
// what is kept; and the box saved as an `r2s.box-selection` file for `r2s extract --box FILE`.
// Only the active shape's outline is drawn; the selected splats are tinted cyan while the panel
// is open (the floater preview red).
import * as THREE from 'three';
import { TransformControls } from 'three/addons/controls/TransformControls.js';
import type { BoxSelection } from '../../src/viewer-server/protocol.js';
import { app, camera, canvas, markDirty, ndcOf, project, scene, world, sceneToView } from './app.js';
import { countOf, type EditableScene } from './edit.js';
import { $, downloadBytes, escapeHtml, showNote } from './ui.js';

export interface EditHost {
  editable: () => EditableScene | null;
  /** scene-frame unit up */
  up: () => [number, number, number];
  /** orbit target (viewer coordinates), where new shapes appear */
  target: () => THREE.Vector3;
  setOrbitEnabled: (on: boolean) => void;
  onEdited: () => void;
  /** the frame (up, scale) a .ply export carries in its header */
  frame: () => object;
}

type Tool = 'box' | 'sphere' | 'lasso';
const GIZMO_MODES = ['translate', 'rotate', 'scale'] as const;

export class EditPanel {
  /** the box or sphere, a child of `world`: its transform is in the scene frame */
  readonly shape = new THREE.Group();
  tool: Tool = 'box';
  selection: Uint8Array | null = null;
  private gizmo: TransformControls;
  private gizmoMode = 0;
  private boxLines: THREE.LineSegments;
  private sphereLines: THREE.LineSegments;
  private lasso: Array<[number, number]> = [];
  private lassoActive = false;
  private preview = false;
  /** the floaters the red preview shows (null when no preview is shown) */
  previewed: Uint8Array | null = null;
  private placed = false;

  constructor(private host: EditHost) {
    const mat = new THREE.LineBasicMaterial({ color: 0x44ddff, depthTest: false, transparent: true });
    this.boxLines = new THREE.LineSegments(new THREE.EdgesGeometry(new THREE.BoxGeometry(1, 1, 1)), mat);
    this.sphereLines = new THREE.LineSegments(new THREE.WireframeGeometry(new THREE.SphereGeometry(0.5, 16, 8)), mat);
    this.boxLines.renderOrder = this.sphereLines.renderOrder = 10;
    this.sphereLines.visible = false;
    this.shape.add(this.boxLines, this.sphereLines);
    this.shape.name = 'selection-shape';
    this.shape.visible = false;
    world.add(this.shape);
    this.gizmo = new TransformControls(camera, canvas);
    this.gizmo.addEventListener('dragging-changed', (e) => host.setOrbitEnabled(!(e as unknown as { value: boolean }).value));
    this.gizmo.addEventListener('change', () => markDirty());
    this.gizmo.addEventListener('objectChange', () => this.scheduleCount());
    scene.add(this.gizmo.getHelper());
    this.gizmo.getHelper().visible = false;
    this.wire();
  }

  get open(): boolean {
    return !$('panel-edit').hidden;
  }

  setOpen(on: boolean): void {
    $('panel-edit').hidden = !on;
    if (on && !this.placed) this.placeShape();
    this.shape.visible = on && this.tool !== 'lasso';
    this.gizmo.getHelper().visible = this.shape.visible;
    if (this.shape.visible) this.gizmo.attach(this.shape);
    else this.gizmo.detach();
    if (on) this.recount();
    else if (this.tinted) {
      this.tinted = false;
      if (!this.preview) this.host.editable()?.show();
      this.host.onEdited();
    }
    markDirty();
  }

  /** whether the displayed splats carry the selection tint */
  private tinted = false;
  private tintTimer = 0;

  /** Tint the selection (soon: gizmo drags recount often and a rebuild costs a frame or two). */
  private highlight(): void {
    if (this.tintTimer) return;
    this.tintTimer = window.setTimeout(() => {
      this.tintTimer = 0;
      const ed = this.host.editable();
      if (!ed || !this.open || this.preview) return;
      const any = !!this.selection && countOf(this.selection) > 0;
      if (!any && !this.tinted) return;
      ed.show(any ? this.selection! : undefined, 'cyan');
      this.tinted = any;
      this.host.onEdited();
    }, 120);
  }

  /** Put the shape at the orbit target, upright (local y along the scene's up), a tenth of the scene. */
  placeShape(centreView?: THREE.Vector3, size?: THREE.Vector3): void {
    this.placed = true;
    world.updateMatrixWorld();
    const c = world.worldToLocal((centreView ?? this.host.target()).clone());
    this.shape.position.copy(c);
    // world turns the scene's up to +y; its inverse turns +y back to the scene's up
    this.shape.quaternion.copy(world.quaternion).invert();
    const s = app.sceneScale * 0.15;
    this.shape.scale.copy(size ?? new THREE.Vector3(s, s, s));
    this.shape.updateMatrixWorld();
    this.recount();
  }

  setTool(t: Tool): void {
    this.tool = t;
    for (const k of ['box', 'sphere', 'lasso'] as const) $(`tool-${k}`).setAttribute('aria-pressed', String(k === t));
    this.boxLines.visible = t === 'box';
    this.sphereLines.visible = t === 'sphere';
    if (t === 'sphere') {
      const r = Math.max(this.shape.scale.x, this.shape.scale.y, this.shape.scale.z);
      this.shape.scale.set(r, r, r);
    }
    $('box-tools').hidden = t !== 'box';
    this.setOpen(this.open);
    if (t === 'lasso') {
      this.selection = null;
      this.showCount();
    }
  }

  private wire(): void {
    for (const k of ['box', 'sphere', 'lasso'] as const) $(`tool-${k}`).addEventListener('click', () => this.setTool(k));
    $('btn-edit-gizmo').addEventListener('click', () => this.cycleGizmo());
    $('btn-sel-delete').addEventListener('click', () => this.apply('delete'));
    $('btn-sel-keep').addEventListener('click', () => this.apply('keep'));
    $('btn-undo').addEventListener('click', () => this.undo());
    $('btn-redo').addEventListener('click', () => this.redo());
    $('btn-sel-invert').addEventListener('click', () => this.invert());
    $('btn-box-save').addEventListener('click', () => this.saveBox());
    $('btn-floater-preview').addEventListener('click', () => this.previewFloaters());
    $('btn-floater-remove').addEventListener('click', () => this.removeFloaters());
    $('btn-export-spz').addEventListener('click', () => this.export('spz'));
    $('btn-export-ply').addEventListener('click', () => this.export('ply'));
    // lasso: drag on the canvas draws the outline (orbit paused meanwhile)
    canvas.addEventListener('pointerdown', (e) => {
      if (!this.open || this.tool !== 'lasso' || e.button !== 0) return;
      this.lassoActive = true;
      this.lasso = [[e.clientX, e.clientY]];
      this.host.setOrbitEnabled(false);
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.lassoActive) return;
      this.lasso.push([e.clientX, e.clientY]);
      this.drawLasso();
    });
    canvas.addEventListener('pointerup', () => {
      if (!this.lassoActive) return;
      this.lassoActive = false;
      this.host.setOrbitEnabled(true);
      this.finishLasso(this.lasso);
    });
  }

  cycleGizmo(): void {
    this.gizmoMode = (this.gizmoMode + 1) % GIZMO_MODES.length;
    this.gizmo.setMode(GIZMO_MODES[this.gizmoMode]!);
    $('btn-edit-gizmo').textContent = { translate: 'Move', rotate: 'Rotate', scale: 'Size' }[GIZMO_MODES[this.gizmoMode]!];
  }

  private drawLasso(): void {
    const svg = $('lasso');
    svg.hidden = this.lasso.length < 2;
    svg.querySelector('polygon')!.setAttribute('points', this.lasso.map((p) => p.join(',')).join(' '));
  }

  /** Select by a screen polygon (client pixels). */
  finishLasso(poly: Array<[number, number]>): number {
    $('lasso').hidden = true;
    const ed = this.host.editable();
    if (!ed || poly.length < 3) return 0;
    world.updateMatrixWorld();
    camera.updateMatrixWorld();
    const m = world.matrixWorld;
    const v = new THREE.Vector3();
    this.selection = ed.selectLasso(poly, (x, y, z) => {
      const s = project(v.set(x, y, z).applyMatrix4(m));
      return s.inFront ? [s.x, s.y] : null;
    });
    if (this.inverted) this.selection = ed.invert(this.selection);
    this.showCount();
    this.highlight();
    return countOf(this.selection);
  }

  private countTimer = 0;
  private scheduleCount(): void {
    if (this.countTimer) return;
    this.countTimer = window.setTimeout(() => {
      this.countTimer = 0;
      this.recount();
    }, 60);
  }

  /** Selection of the box / sphere as it stands. */
  recount(): number {
    const ed = this.host.editable();
    if (!ed || this.tool === 'lasso') return this.selection ? countOf(this.selection) : 0;
    this.shape.updateMatrix();
    this.selection = ed.selectShape(this.shape.matrix, this.tool);
    if (this.inverted) this.selection = ed.invert(this.selection);
    this.showCount();
    this.highlight();
    return countOf(this.selection);
  }

  private showCount(): void {
    const ed = this.host.editable();
    $('sel-count').textContent = this.selection ? countOf(this.selection).toLocaleString('en-US') : '0';
    $('edit-kept').textContent = ed ? `${ed.kept.toLocaleString('en-US')} of ${ed.count.toLocaleString('en-US')} kept` : 'no scene splats to edit';
    $<HTMLButtonElement>('btn-undo').disabled = !ed?.canUndo;
    $<HTMLButtonElement>('btn-redo').disabled = !ed?.canRedo;
  }

  apply(mode: 'delete' | 'keep'): number {
    const ed = this.host.editable();
    if (!ed) return 0;
    if (this.tool !== 'lasso') this.recount();
    if (!this.selection) return 0;
    const gone = ed.apply(this.selection, mode);
    this.preview = false;
    this.previewed = null;
    this.afterEdit();
    return gone;
  }

  /** which outlines are drawn (shown, with their parents) */
  outlines(): { box: boolean; sphere: boolean } {
    const on = (o: THREE.Object3D) => o.visible && this.shape.visible;
    return { box: on(this.boxLines), sphere: on(this.sphereLines) };
  }

  /** whether the selection is what the shape (or lasso) leaves out */
  inverted = false;

  /** Select the complement (kept splats outside the shape / lasso). */
  invert(): number {
    const ed = this.host.editable();
    this.inverted = !this.inverted;
    $('btn-sel-invert').setAttribute('aria-pressed', String(this.inverted));
    if (!ed) return 0;
    if (this.tool === 'lasso') {
      if (this.selection) this.selection = ed.invert(this.selection);
      this.showCount();
      this.highlight();
      return this.selection ? countOf(this.selection) : 0;
    }
    return this.recount();
  }

  redo(): void {
    const ed = this.host.editable();
    if (!ed?.redo()) return;
    this.preview = false;
    this.previewed = null;
    this.afterEdit();
  }

  undo(): void {
    const ed = this.host.editable();
    if (!ed?.undo()) return;
    // undo redraws without the red tint: the preview is off
    this.preview = false;
    this.previewed = null;
    this.afterEdit();
  }

  private afterEdit(): void {
    if (this.tool === 'lasso') this.selection = null;
    this.recount();
    this.showCount();
    this.host.onEdited();
  }

  private floaterParams(): [number, number, number] {
    const minOpacity = Number($<HTMLInputElement>('floater-opacity').value) || 0;
    const minNeighbours = Number($<HTMLInputElement>('floater-neighbours').value) || 0;
    const r = Number($<HTMLInputElement>('floater-radius').value);
    return [minOpacity, minNeighbours, r > 0 ? r : app.sceneScale * 0.01];
  }

  /** Tint the floaters red without removing them. */
  previewFloaters(): number {
    const ed = this.host.editable();
    if (!ed) return 0;
    const sel = ed.selectFloaters(...this.floaterParams());
    this.preview = !this.preview;
    this.previewed = this.preview ? sel : null;
    ed.show(this.preview ? sel : undefined);
    const n = countOf(sel);
    $('floater-count').textContent = `${n.toLocaleString('en-US')} floaters`;
    this.host.onEdited();
    return n;
  }

  removeFloaters(): number {
    const ed = this.host.editable();
    if (!ed) return 0;
    const gone = ed.apply(ed.selectFloaters(...this.floaterParams()), 'delete');
    this.preview = false;
    this.previewed = null;
    $('floater-count').textContent = `${gone.toLocaleString('en-US')} removed`;
    this.afterEdit();
    return gone;
  }

  /** The box as `r2s extract --box` reads it (scene frame). */
  boxSelection(source: string): BoxSelection {
    this.shape.updateMatrix();
    const q = this.shape.quaternion;
    const r = (v: number) => Number(v.toPrecision(9));
    return {
      kind: 'r2s.box-selection',
      version: 1,
      center: this.shape.position.toArray().map(r) as [number, number, number],
      size: this.shape.scale.toArray().map(r) as [number, number, number],
      rotation: [q.w, q.x, q.y, q.z].map(r) as [number, number, number, number],
      up: this.host.up(),
      splats: this.recount(),
      source,
    };
  }

  saveBox(): void {
    const m = app.manifest;
    const source = m?.workspacePath ?? m?.title ?? 'scene';
    const sel = this.boxSelection(source);
    const file = `${(m?.title ?? 'scene').replace(/[^\w.-]+/g, '_')}-box.json`;
    downloadBytes(file, JSON.stringify(sel, null, 2) + '\n', 'application/json');
    const ws = m?.workspacePath ?? '<workspace>';
    showNote(`Saved <b>${escapeHtml(file)}</b> (${sel.splats.toLocaleString('en-US')} splats). The viewer cannot write to the workspace; extract with:<br><code>r2s extract -w ${escapeHtml(ws)} --box ~/Downloads/${escapeHtml(file)}</code>`);
  }

  export(kind: 'spz' | 'ply'): Uint8Array | null {
    const ed = this.host.editable();
    if (!ed) return null;
    const bytes = kind === 'spz' ? ed.exportSpz() : ed.exportPly(this.host.frame());
    const name = `${(app.manifest?.title ?? 'scene').replace(/\.(ply|spz|splat)$/i, '').replace(/[^\w.-]+/g, '_')}-edited.${kind}`;
    downloadBytes(name, bytes);
    showNote(`Exported <b>${escapeHtml(name)}</b> (${ed.kept.toLocaleString('en-US')} splats${ed.shDegree ? `, SH degree ${ed.shDegree} kept` : ''}). View it with <code>r2s view ${escapeHtml(name)}</code>.`);
    return bytes;
  }

  /** Box placed at a scene-frame centre and size, upright (for tests and the command line). */
  setBox(centreScene: THREE.Vector3, sizeScene: THREE.Vector3): number {
    this.setTool('box');
    this.placeShape(sceneToView(centreScene), sizeScene);
    return this.recount();
  }

  /** Sphere at a scene-frame centre with a radius in scene units (for tests). */
  setSphere(centreScene: THREE.Vector3, radius: number): number {
    this.setTool('sphere');
    this.placeShape(sceneToView(centreScene), new THREE.Vector3(2 * radius, 2 * radius, 2 * radius));
    return this.recount();
  }

  /** Whether a screen point hits the shape (for the hint on what dragging does). */
  near(x: number, y: number): boolean {
    const ray = new THREE.Raycaster();
    ray.setFromCamera(ndcOf(x, y), camera);
    return ray.intersectObject(this.shape, true).length > 0;
  }
}
