// The ground under a place, in viewer coordinates (y up). One global plane is wrong on long walks
// (camera heights drift metres along any guessed up over 200 m), so the ground is found locally:
//   - with a camera height from sfm (metric frame, method camera-height): the capture camera nearest
//     in plan, minus that height;
//   - else a low percentile of the sparse points (or splat centres) near the place in plan,
//     widening the circle until enough points fall in it;
//   - else the lowest known height.
import * as THREE from 'three';

export class LocalGround {
  /** x, y, z of the points in viewer coordinates, sorted by x for range queries */
  private xs = new Float32Array(0);
  private ys = new Float32Array(0);
  private zs = new Float32Array(0);
  private cams: THREE.Vector3[] = [];
  private cameraHeight: number | null = null;
  private fallback = 0;
  /** plan radius to start searching with */
  private radius = 1;

  /** Points (viewer coordinates) the ground is estimated from; `scale` sizes the search. */
  setPoints(points: THREE.Vector3[], scale: number): void {
    const sorted = [...points].sort((a, b) => a.x - b.x);
    this.xs = Float32Array.from(sorted, (p) => p.x);
    this.ys = Float32Array.from(sorted, (p) => p.y);
    this.zs = Float32Array.from(sorted, (p) => p.z);
    this.radius = Math.max(1e-3, scale * 0.05);
    if (sorted.length) {
      const all = Array.from(this.ys).sort((a, b) => a - b);
      this.fallback = all[Math.floor(0.02 * (all.length - 1))]!;
    }
  }

  /** Capture camera centres (viewer coordinates) and, when sfm measured it, their height. */
  setCameras(centres: THREE.Vector3[], cameraHeight: number | null): void {
    this.cams = centres;
    this.cameraHeight = cameraHeight && cameraHeight > 0 ? cameraHeight : null;
  }

  setFallback(y: number): void {
    if (!this.xs.length) this.fallback = y;
  }

  get hasData(): boolean {
    return this.xs.length > 0 || (this.cameraHeight !== null && this.cams.length > 0);
  }

  /** Ground height (viewer y) under the plan position (x, z). */
  heightAt(x: number, z: number): number {
    if (this.cameraHeight !== null && this.cams.length) {
      let best = this.cams[0]!, bd = Infinity;
      for (const c of this.cams) {
        const d = (c.x - x) ** 2 + (c.z - z) ** 2;
        if (d < bd) (bd = d), (best = c);
      }
      return best.y - this.cameraHeight;
    }
    if (!this.xs.length) return this.fallback;
    for (let r = this.radius; r < this.radius * 200; r *= 2) {
      const near = this.heightsWithin(x, z, r);
      if (near.length >= 12) {
        near.sort((a, b) => a - b);
        // a low percentile: the floor under things, robust to a few stray points below it
        return near[Math.floor(0.1 * (near.length - 1))]!;
      }
    }
    return this.fallback;
  }

  private heightsWithin(x: number, z: number, r: number): number[] {
    const out: number[] = [];
    let lo = 0, hi = this.xs.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.xs[m]! < x - r) lo = m + 1;
      else hi = m;
    }
    for (let i = lo; i < this.xs.length && this.xs[i]! <= x + r; i++) {
      if ((this.zs[i]! - z) ** 2 + (this.xs[i]! - x) ** 2 <= r * r) out.push(this.ys[i]!);
    }
    return out;
  }

  /**
   * Where a viewer-space ray meets the local ground: iterate ray ∩ plane at the ground height
   * under the last hit (the ground is not flat). Null when the ray does not come down to it.
   */
  intersect(ray: THREE.Ray, maxDistance: number): THREE.Vector3 | null {
    let h = this.heightAt(ray.origin.x, ray.origin.z);
    let hit: THREE.Vector3 | null = null;
    for (let i = 0; i < 6; i++) {
      const p = ray.intersectPlane(new THREE.Plane(new THREE.Vector3(0, 1, 0), -h), new THREE.Vector3());
      if (!p || p.distanceTo(ray.origin) > maxDistance) return hit;
      hit = p;
      const h2 = this.heightAt(p.x, p.z);
      if (Math.abs(h2 - h) < 1e-6) break;
      h = h2;
    }
    if (hit) hit.y = this.heightAt(hit.x, hit.z);
    return hit;
  }
}
