// Navigation: orbit (three's OrbitControls) and fly (WASD/QE to move, mouse to look). Fly mode
// keeps OrbitControls for the mouse but pins its target just ahead of the camera, so dragging
// turns the head instead of circling the scene. Fly speed = a base from the scene (two capture
// steps a second) times the user's factor (the speed control, + and −).
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { isTyping } from './ui.js';

/** Longest frame step applied at once: slow frames still move at full speed, a stall does not jump far. */
export const MAX_STEP_S = 1;

const MOVE_KEYS: Record<string, [number, number, number]> = {
  KeyW: [0, 0, -1], KeyS: [0, 0, 1], KeyA: [-1, 0, 0], KeyD: [1, 0, 0], KeyE: [0, 1, 0], KeyQ: [0, -1, 0],
  ArrowUp: [0, 0, -1], ArrowDown: [0, 0, 1], ArrowLeft: [-1, 0, 0], ArrowRight: [1, 0, 0],
};

export class Navigation {
  readonly orbit: OrbitControls;
  fly = false;
  /** scene units per second at factor 1 */
  baseSpeed = 1;
  /** the user's speed factor */
  factor = 1;
  private keys = new Set<string>();
  private orbitDistance = 1;

  constructor(private camera: THREE.PerspectiveCamera, canvas: HTMLCanvasElement, onUserInput: () => void, onChange: () => void) {
    this.orbit = new OrbitControls(camera, canvas);
    this.orbit.enableDamping = false;
    // a press alone (a click to measure at a capture camera) must not leave the camera's exact
    // projection, or the image jumps under the cursor: only a press that moves the view does
    let pressed = false;
    this.orbit.addEventListener('start', () => (pressed = true));
    this.orbit.addEventListener('end', () => (pressed = false));
    this.orbit.addEventListener('change', () => {
      if (pressed) onUserInput();
      onChange();
    });
    window.addEventListener('keydown', (e) => {
      if (isTyping(e) || e.ctrlKey || e.metaKey) return;
      if (MOVE_KEYS[e.code]) {
        this.keys.add(e.code);
        onUserInput();
      }
    });
    window.addEventListener('keyup', (e) => this.keys.delete(e.code));
    window.addEventListener('blur', () => this.keys.clear());
  }

  /** scene units per second */
  get speed(): number {
    return this.baseSpeed * this.factor;
  }

  setBaseSpeed(v: number): void {
    this.baseSpeed = v > 0 && Number.isFinite(v) ? v : 1;
  }

  /** Hold `code` for one frame of `dt` seconds (for tests). */
  simulate(code: string, dt: number): boolean {
    this.keys.add(code);
    try {
      return this.update(dt);
    } finally {
      this.keys.delete(code);
    }
  }

  get moving(): boolean {
    return this.keys.size > 0;
  }

  setFly(on: boolean): void {
    if (on === this.fly) return;
    this.fly = on;
    const fwd = this.camera.getWorldDirection(new THREE.Vector3());
    if (on) {
      this.orbitDistance = this.camera.position.distanceTo(this.orbit.target) || 1;
      this.orbit.target.copy(this.camera.position).addScaledVector(fwd, 1e-3 * this.speed);
      this.orbit.enableZoom = false;
      this.orbit.rotateSpeed = -0.4; // looking, not orbiting: drag moves the view the other way
    } else {
      this.orbit.target.copy(this.camera.position).addScaledVector(fwd, this.orbitDistance);
      this.orbit.enableZoom = true;
      this.orbit.rotateSpeed = 1;
    }
    this.orbit.update();
  }

  /** Aim the orbit target along the camera's view without moving the camera. */
  retarget(distance: number): void {
    const fwd = this.camera.getWorldDirection(new THREE.Vector3());
    this.orbit.target.copy(this.camera.position).addScaledVector(fwd, this.fly ? 1e-3 * this.speed : distance);
  }

  /** Apply held keys; returns whether the camera moved. */
  update(dt: number): boolean {
    if (!this.keys.size) return false;
    const v = new THREE.Vector3();
    for (const k of this.keys) {
      const d = MOVE_KEYS[k];
      if (d) v.add(new THREE.Vector3(...d));
    }
    if (v.lengthSq() === 0) return false;
    v.normalize().multiplyScalar(this.speed * Math.min(dt, MAX_STEP_S));
    // move in camera axes, vertical stays vertical
    const q = this.camera.quaternion;
    const step = new THREE.Vector3(v.x, 0, v.z).applyQuaternion(q).add(new THREE.Vector3(0, v.y, 0));
    this.camera.position.add(step);
    this.orbit.target.add(step);
    return true;
  }
}
