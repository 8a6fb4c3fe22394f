// Asset panel: place assets from assets/catalog.json into the scene (drag onto the canvas or
// double-click), move/rotate/scale them with a gizmo, snap them to the local ground, and save or
// load the arrangement as JSON (positions in the workspace's coordinates). An asset stands
// upright — its +Y (asset frames are metres, +Y up) along the scene's up, whatever the scene's
// frame (GPS ENU is z-up, COLMAP's habit −y) — with its pivot at its bottom centre, on the
// rendered surface under the cursor (a drop) or under the lower middle of the view (a
// double-click); the local ground where no surface is seen.
import * as THREE from 'three';
import { TransformControls } from 'three/addons/controls/TransformControls.js';
import type { SplatMesh } from '@sparkjsdev/spark';
import type { Arrangement, ViewerAsset, ViewerCatalog } from '../../src/viewer-server/protocol.js';
import { loadSplats } from './splats.js';
import { $, download, messageOf, showError } from './ui.js';
import type { LocalGround } from './ground.js';

export interface AssetHost {
  camera: THREE.PerspectiveCamera;
  canvas: HTMLCanvasElement;
  scene: THREE.Scene;
  /** scene root in workspace coordinates */
  world: THREE.Object3D;
  ground: LocalGround;
  /** viewer-space points of the rendered scene surface at client pixels (null where none) */
  surfaces: (at: Array<{ x: number; y: number }>) => Array<THREE.Vector3 | null>;
  /** an asset was placed (viewer-space bounds): a view without a scene frames it */
  onPlaced: (box: THREE.Box3) => void;
  /** farthest a double-clicked asset goes from the camera (scene units) */
  placeDistance: () => number;
  setOrbitEnabled: (on: boolean) => void;
  onChange: () => void;
  onSplatsChanged: () => void;
}

interface Placed {
  asset: ViewerAsset;
  /** what the gizmo moves and the arrangement stores: origin at the asset's bottom centre */
  root: THREE.Group;
  mesh: SplatMesh;
}

const MODES = ['translate', 'rotate', 'scale'] as const;
const MODE_LABELS = { translate: 'Move', rotate: 'Rotate', scale: 'Scale' } as const;

export class AssetPanel {
  readonly placed: Placed[] = [];
  private catalog: ViewerAsset[] = [];
  private gizmo: TransformControls;
  private selected: Placed | null = null;
  private mode = 0;

  constructor(private host: AssetHost) {
    this.gizmo = new TransformControls(host.camera, host.canvas);
    this.gizmo.addEventListener('dragging-changed', (e) => host.setOrbitEnabled(!(e as unknown as { value: boolean }).value));
    this.gizmo.addEventListener('change', () => host.onChange());
    host.scene.add(this.gizmo.getHelper());
    this.wire();
  }

  show(catalog: ViewerCatalog): void {
    this.catalog = catalog.assets;
    const list = $('asset-list');
    list.replaceChildren();
    for (const a of catalog.assets) {
      const li = document.createElement('li');
      if (a.thumbnailUrl) {
        const img = document.createElement('img');
        img.src = a.thumbnailUrl;
        img.alt = '';
        img.loading = 'lazy';
        img.draggable = false;
        li.appendChild(img);
      }
      li.appendChild(document.createTextNode(a.name));
      const size = a.extentsM ? ` · ${a.extentsM.map((v) => v.toFixed(2)).join('×')} m${a.scale === 'arbitrary' ? ' (arbitrary scale)' : ''}` : '';
      li.title = `${a.id}${size} — drag into the scene, or double-click to place in front of you`;
      li.draggable = true;
      li.dataset.assetId = a.id;
      li.addEventListener('dragstart', (e) => e.dataTransfer?.setData('text/x-r2s-asset', a.id));
      li.addEventListener('dblclick', () => void this.place(a.id, null));
      list.appendChild(li);
    }
    // an empty catalog is a note, not an item, and no tool applies
    const empty = catalog.assets.length === 0;
    $('assets-empty').hidden = !empty;
    for (const b of $('asset-tools').querySelectorAll<HTMLButtonElement>('button')) b.disabled = empty;
    $('file-arrangement').toggleAttribute('disabled', empty);
    $('assets').hidden = false;
  }

  private wire(): void {
    const canvas = this.host.canvas;
    canvas.addEventListener('dragover', (e) => e.preventDefault());
    canvas.addEventListener('drop', (e) => {
      e.preventDefault();
      const id = e.dataTransfer?.getData('text/x-r2s-asset');
      if (id) void this.place(id, this.surfaceAt(e.clientX, e.clientY));
    });
    $('btn-gizmo-mode').addEventListener('click', () => this.cycleMode());
    $('btn-snap').addEventListener('click', () => this.selected && this.snapToGround(this.selected));
    $('btn-remove').addEventListener('click', () => this.removeSelected());
    $('btn-save').addEventListener('click', () => this.save());
    $<HTMLInputElement>('file-arrangement').addEventListener('change', async (e) => {
      const f = (e.target as HTMLInputElement).files?.[0];
      if (!f) return;
      try {
        await this.load(JSON.parse(await f.text()) as Arrangement);
      } catch (err) {
        showError(`arrangement ${f.name}: ${messageOf(err)}`);
      }
    });
    // click to select a placed asset (a click, not the end of an orbit drag)
    let down: { x: number; y: number } | null = null;
    canvas.addEventListener('pointerdown', (e) => (down = { x: e.clientX, y: e.clientY }));
    canvas.addEventListener('pointerup', (e) => {
      if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4 || this.gizmo.dragging) return;
      const hit = this.pick(e.clientX, e.clientY);
      if (hit) this.select(hit);
    });
  }

  cycleMode(): void {
    this.mode = (this.mode + 1) % MODES.length;
    this.gizmo.setMode(MODES[this.mode]!);
    $('btn-gizmo-mode').textContent = MODE_LABELS[MODES[this.mode]!];
  }

  private ndc(x: number, y: number): THREE.Vector2 {
    const r = this.host.canvas.getBoundingClientRect();
    return new THREE.Vector2(((x - r.left) / r.width) * 2 - 1, -((y - r.top) / r.height) * 2 + 1);
  }

  /** The rendered surface under a screen point, else where its ray meets the local ground (viewer coordinates). */
  private surfaceAt(x: number, y: number): THREE.Vector3 | null {
    const hit = this.host.surfaces([{ x, y }])[0];
    if (hit) return hit;
    const ray = new THREE.Raycaster();
    ray.setFromCamera(this.ndc(x, y), this.host.camera);
    return this.host.ground.intersect(ray.ray, this.host.camera.far);
  }

  private pick(x: number, y: number): Placed | null {
    const ray = new THREE.Raycaster();
    ray.setFromCamera(this.ndc(x, y), this.host.camera);
    let best: { p: Placed; d: number } | null = null;
    for (const p of this.placed) {
      const box = p.mesh.getBoundingBox(true).applyMatrix4(p.mesh.matrixWorld);
      const hit = ray.ray.intersectBox(box, new THREE.Vector3());
      if (hit) {
        const d = hit.distanceTo(ray.ray.origin);
        if (!best || d < best.d) best = { p, d };
      }
    }
    return best?.p ?? null;
  }

  async place(assetId: string, at: THREE.Vector3 | null): Promise<SplatMesh | null> {
    const asset = this.catalog.find((a) => a.id === assetId);
    if (!asset) {
      showError(`asset ${assetId} is not in the catalog`);
      return null;
    }
    let mesh: SplatMesh;
    try {
      mesh = await loadSplats(asset.url, asset.format, asset.name, () => {});
    } catch (e) {
      showError(`asset ${asset.name}: ${messageOf(e)}`);
      return null;
    }
    mesh.name = `asset:${asset.id}`;
    // the pivot at the bottom centre of the splats, whatever the file's origin
    const box = mesh.getBoundingBox(true);
    const c = box.getCenter(new THREE.Vector3());
    mesh.position.set(-c.x, -box.min.y, -c.z);
    const root = new THREE.Group();
    root.name = `asset:${asset.id}`;
    root.add(mesh);
    this.host.world.add(root);
    // upright: the asset's +Y along the viewer's +Y, which is the scene's up
    this.host.world.updateMatrixWorld();
    root.quaternion.copy(this.host.world.getWorldQuaternion(new THREE.Quaternion()).invert());
    this.setWorldPosition(root, at ?? this.inFront());
    const p = { asset, root, mesh };
    this.placed.push(p);
    this.select(p);
    this.host.onSplatsChanged();
    this.host.onPlaced(mesh.getBoundingBox(true).applyMatrix4(mesh.matrixWorld));
    return mesh;
  }

  /**
   * A ground point inside the image: down the middle of the view, from the centre towards the
   * bottom edge, the first ray that meets the local ground not too far off; else a point ahead.
   */
  private inFront(): THREE.Vector3 {
    const cam = this.host.camera;
    cam.updateMatrixWorld();
    const r = this.host.canvas.getBoundingClientRect();
    const far = this.host.placeDistance();
    const ys = [0.55, 0.65, 0.75, 0.85];
    const hits = this.host.surfaces(ys.map((f) => ({ x: r.left + r.width / 2, y: r.top + r.height * f })));
    for (const h of hits) if (h && h.distanceTo(cam.position) <= far) return h;
    const ray = new THREE.Raycaster();
    for (const y of [-0.1, -0.3, -0.5, -0.7, -0.85]) {
      ray.setFromCamera(new THREE.Vector2(0, y), cam);
      const hit = this.host.ground.intersect(ray.ray, far);
      if (hit) return hit;
    }
    ray.setFromCamera(new THREE.Vector2(0, -0.5), cam);
    return ray.ray.at(far * 0.2, new THREE.Vector3());
  }

  private setWorldPosition(obj: THREE.Object3D, p: THREE.Vector3): void {
    obj.parent!.updateMatrixWorld();
    obj.position.copy(obj.parent!.worldToLocal(p.clone()));
    obj.updateMatrixWorld();
  }

  /** Move a placed asset along the viewer's vertical so its lowest point rests on the local ground under it. */
  snapToGround(p: Placed): void {
    p.root.updateMatrixWorld(true);
    const box = p.mesh.getBoundingBox(true).applyMatrix4(p.mesh.matrixWorld);
    if (box.isEmpty()) return;
    const wp = p.root.getWorldPosition(new THREE.Vector3());
    const c = box.getCenter(new THREE.Vector3());
    wp.y += this.host.ground.heightAt(c.x, c.z) - box.min.y;
    this.setWorldPosition(p.root, wp);
    this.host.onChange();
  }

  select(p: Placed | null): void {
    this.selected = p;
    if (p) this.gizmo.attach(p.root);
    else this.gizmo.detach();
    this.host.onChange();
  }

  removeSelected(): void {
    const p = this.selected;
    if (!p) return;
    this.select(null);
    p.root.removeFromParent();
    p.mesh.dispose();
    this.placed.splice(this.placed.indexOf(p), 1);
    this.host.onSplatsChanged();
  }

  arrangement(): Arrangement {
    return {
      version: 1,
      items: this.placed.map(({ asset, root }) => ({
        assetId: asset.id,
        position: root.position.toArray() as [number, number, number],
        quaternion: root.quaternion.toArray() as [number, number, number, number],
        scale: root.scale.toArray() as [number, number, number],
      })),
    };
  }

  save(): void {
    const json = JSON.stringify(this.arrangement(), null, 2) + '\n';
    download('arrangement.json', URL.createObjectURL(new Blob([json], { type: 'application/json' })));
  }

  async load(a: Arrangement): Promise<void> {
    if (!a || a.version !== 1 || !Array.isArray(a.items)) throw new Error('not an r2s arrangement (expected { "version": 1, "items": [...] })');
    while (this.placed.length) {
      this.select(this.placed[this.placed.length - 1]!);
      this.removeSelected();
    }
    for (const it of a.items) {
      const mesh = await this.place(it.assetId, null);
      const root = mesh?.parent;
      if (!root) continue;
      root.position.fromArray(it.position);
      root.quaternion.fromArray(it.quaternion);
      root.scale.fromArray(it.scale);
      root.updateMatrixWorld();
    }
    this.host.onChange();
  }
}
