// An asset folder (assets/<id>/: splats, mesh.glb, collision.glb, asset.json) opened on its own:
// the splats as the scene, and the mesh and the collider as toggles, loaded with three's GLTFLoader.
// Asset frames are metres, +Y up, pivot at the bottom centre.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { markDirty, world } from './app.js';
import { $, fetchJson, messageOf, showError } from './ui.js';

const loader = new GLTFLoader();

/** What the Mesh / Collider toggles show (for the page's hooks). */
export const assetObjects: Record<'mesh' | 'collider', THREE.Object3D | null> = { mesh: null, collider: null };

async function loadGlb(url: string, name: string, style: 'mesh' | 'collider'): Promise<THREE.Object3D> {
  const gltf = await loader.loadAsync(url);
  const root = gltf.scene;
  root.name = name;
  if (style === 'collider') {
    // a collider is seen through: green wireframe over the splats
    root.traverse((o) => {
      if ((o as THREE.Mesh).isMesh) (o as THREE.Mesh).material = new THREE.MeshBasicMaterial({ color: 0x33ff66, wireframe: true, transparent: true, opacity: 0.8 });
    });
  }
  return root;
}

export async function showAssetFiles(files: { mesh: string | null; collision: string | null; info: string | null }): Promise<void> {
  $('asset-toggles').hidden = false;
  if (files.mesh) await wireToggle('tgl-mesh', files.mesh, 'asset-mesh', 'mesh');
  else $('lbl-mesh').hidden = true;
  if (files.collision) await wireToggle('tgl-collider', files.collision, 'asset-collider', 'collider');
  else $('lbl-collider').hidden = true;
  if (files.info) {
    const info = await fetchJson<Record<string, unknown>>(files.info).catch(() => null);
    const ext = info?.extentsM;
    if (Array.isArray(ext)) $('asset-info').textContent = `${ext.map((v) => Number(v).toFixed(2)).join(' × ')} m${info?.scale === 'arbitrary' ? ' (arbitrary scale)' : ''}`;
  }
}

async function wireToggle(id: string, url: string, name: string, style: 'mesh' | 'collider'): Promise<void> {
  const box = $<HTMLInputElement>(id);
  let obj: THREE.Object3D | null = null;
  box.addEventListener('change', async () => {
    if (box.checked && !obj) {
      try {
        obj = await loadGlb(url, name, style);
        assetObjects[style] = obj;
        world.add(obj);
      } catch (e) {
        showError(`${name}: ${messageOf(e)}`);
        box.checked = false;
        return;
      }
    }
    if (obj) obj.visible = box.checked;
    markDirty();
  });
}

/** The asset's up is +Y already; a light so a textured mesh is not black. */
export function addAssetLights(scene: THREE.Scene): void {
  scene.add(new THREE.HemisphereLight(0xffffff, 0x444444, 2));
}
