/**
 * Oriented boxes. A box is centre + full edge lengths + rotation (local → scene, w,x,y,z), the
 * format of the viewer's selection file. `uprightBox` fits the smallest-footprint box about the
 * up axis: the footprint is the minimum-area rectangle of the points' horizontal convex hull
 * (one of its sides lies on a hull edge, so trying every edge is exact).
 */
import { matToQuat, quatToMat, type Quat, type Vec3 } from '../../geometry/rotation.js';
import { cross, dot, upBasis } from './frame.js';

export interface OrientedBox {
  center: Vec3;
  /** full edge lengths along the box's local x, y, z */
  size: Vec3;
  /** local → scene rotation (w, x, y, z) */
  rotation: Quat;
}

export interface UprightBox extends OrientedBox {
  /** yaw of the local x axis about up from upBasis(up).e1, degrees in [0, 180) */
  yawDeg: number;
}

/** Whether scene point p lies inside the box (`pad` grows it on every side). */
export function insideBox(box: OrientedBox, R: number[], p: ArrayLike<number>, pad = 0): boolean {
  const d = [p[0]! - box.center[0], p[1]! - box.center[1], p[2]! - box.center[2]];
  for (let a = 0; a < 3; a++) {
    // local coordinate a = column a of R · d
    const l = R[a]! * d[0]! + R[3 + a]! * d[1]! + R[6 + a]! * d[2]!;
    if (Math.abs(l) > box.size[a]! / 2 + pad) return false;
  }
  return true;
}

/**
 * Upright box of points idx (N×3 xyz) about `up`; heights are measured by `height(i)` (above the
 * ground) and the box spans [bottom, top] in height, bottom = min height unless given.
 */
export function uprightBox(
  xyz: ArrayLike<number>,
  idx: ArrayLike<number>,
  up: ArrayLike<number>,
  plane: { offset: number },
  bottom?: number,
): UprightBox {
  const { e1, e2, up: u } = upBasis(up);
  const pts: [number, number][] = [];
  let lo = Infinity, hi = -Infinity;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    const p = [xyz[3 * i]!, xyz[3 * i + 1]!, xyz[3 * i + 2]!];
    pts.push([dot(e1, p), dot(e2, p)]);
    const h = dot(u, p) + plane.offset;
    lo = Math.min(lo, h);
    hi = Math.max(hi, h);
  }
  if (bottom !== undefined) lo = Math.min(lo, bottom);
  const rect = minAreaRect(pts);
  const ca = Math.cos(rect.angle), sa = Math.sin(rect.angle);
  // rectangle axis in the horizontal plane and the scene
  const ax: Vec3 = [ca * e1[0] + sa * e2[0], ca * e1[1] + sa * e2[1], ca * e1[2] + sa * e2[2]];
  const ay = cross(u, ax);
  const hc = 0.5 * (lo + hi) - plane.offset; // height → coordinate along u
  const center: Vec3 = [0, 1, 2].map((a) => rect.cx * e1[a]! + rect.cy * e2[a]! + hc * u[a]!) as Vec3;
  const rotation = matToQuat([ax[0], ay[0], u[0], ax[1], ay[1], u[1], ax[2], ay[2], u[2]]);
  return { center, size: [rect.w, rect.h, hi - lo], rotation, yawDeg: (((rect.angle * 180) / Math.PI) % 180 + 180) % 180 };
}

/** Minimum-area enclosing rectangle: centre, side lengths along angle and angle + 90°. */
export function minAreaRect(pts: [number, number][]): { cx: number; cy: number; w: number; h: number; angle: number } {
  const hull = convexHull(pts);
  if (hull.length === 0) return { cx: 0, cy: 0, w: 0, h: 0, angle: 0 };
  const angles = hull.length < 3 ? [0] : hull.map((p, k) => {
    const q = hull[(k + 1) % hull.length]!;
    return Math.atan2(q[1] - p[1], q[0] - p[0]);
  });
  let best = { cx: 0, cy: 0, w: 0, h: 0, angle: 0 }, bestArea = Infinity;
  for (const a of angles) {
    // normalise into [0, 90°): the same rectangle, stable axis order
    const ang = ((a % (Math.PI / 2)) + Math.PI / 2) % (Math.PI / 2);
    const c = Math.cos(ang), s = Math.sin(ang);
    let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
    for (const [x, y] of hull) {
      const u = c * x + s * y, v = -s * x + c * y;
      u0 = Math.min(u0, u); u1 = Math.max(u1, u); v0 = Math.min(v0, v); v1 = Math.max(v1, v);
    }
    const area = (u1 - u0) * (v1 - v0);
    if (area < bestArea - 1e-12) {
      bestArea = area;
      const uc = 0.5 * (u0 + u1), vc = 0.5 * (v0 + v1);
      best = { cx: c * uc - s * vc, cy: s * uc + c * vc, w: u1 - u0, h: v1 - v0, angle: ang };
    }
  }
  return best;
}

/** Andrew's monotone chain, counter-clockwise, no collinear points. */
function convexHull(pts: [number, number][]): [number, number][] {
  const p = pts.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const crossZ = (o: [number, number], a: [number, number], b: [number, number]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [], upper: [number, number][] = [];
  for (const q of p) {
    while (lower.length >= 2 && crossZ(lower[lower.length - 2]!, lower[lower.length - 1]!, q) <= 0) lower.pop();
    lower.push(q);
  }
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i]!;
    while (upper.length >= 2 && crossZ(upper[upper.length - 2]!, upper[upper.length - 1]!, q) <= 0) upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}
