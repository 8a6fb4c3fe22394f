/**
 * A known scene made of Gaussians: a textured ground plane (checker tiles with smooth colour
 * variation, so every view has texture to match) and a few coloured objects (sphere, box,
 * cylinder) with striped surfaces. World axes: z up, ground at z = 0, scene inside |x|,|y| ≤ 2.
 */
import type { GaussianParams } from '../core/gaussians.js';
import { allocGaussians, logit, rgbToShDc } from '../scene/gaussians.js';
import { SH_COEFFS } from '../core/gaussians.js';
import { matToQuat } from '../geometry/rotation.js';
import { Rng } from '../util/rng.js';

export interface SyntheticSceneOptions {
  seed: number;
  /** ground Gaussians per side */
  groundResolution?: number;
  /** Gaussians per object */
  objectDetail?: number;
}

interface Splat {
  p: [number, number, number];
  s: [number, number, number];
  /** rotation matrix row-major (local → world) */
  R?: number[];
  c: [number, number, number];
  o: number;
}

export const SCENE_HALF_SIZE = 2;

export function buildSyntheticScene(opts: SyntheticSceneOptions): GaussianParams {
  const rng = new Rng(opts.seed);
  const res = opts.groundResolution ?? 40;
  const detail = opts.objectDetail ?? 260;
  const splats: Splat[] = [];
  const half = SCENE_HALF_SIZE;
  const step = (2 * half) / res;
  const tint = [rng.uniform(0.2, 0.5), rng.uniform(0.3, 0.6), rng.uniform(0.2, 0.5)];
  for (let i = 0; i < res; i++) {
    for (let j = 0; j < res; j++) {
      const x = -half + (i + 0.5) * step, y = -half + (j + 0.5) * step;
      const checker = (Math.floor((x + half) / 0.5) + Math.floor((y + half) / 0.5)) % 2;
      const wave = 0.15 * Math.sin(3 * x) * Math.cos(2 * y);
      const c: [number, number, number] = [0, 1, 2].map((k) => clamp01(tint[k]! + (checker ? 0.35 : 0) + wave + rng.uniform(-0.08, 0.08))) as [number, number, number];
      splats.push({ p: [x, y, 0], s: [step * 0.7, step * 0.7, step * 0.05], c, o: 0.98 });
    }
  }
  const colours: [number, number, number][] = [
    [0.85, 0.25, 0.2],
    [0.2, 0.35, 0.85],
    [0.95, 0.8, 0.2],
  ];
  // Sphere
  const sc: [number, number, number] = [rng.uniform(-1.1, -0.5), rng.uniform(-1.1, -0.5), 0.45];
  for (let k = 0; k < detail; k++) {
    const n = fibonacciSphere(k, detail);
    const stripe = Math.floor((n[2] + 1) * 4) % 2;
    splats.push({ p: [sc[0] + 0.45 * n[0], sc[1] + 0.45 * n[1], sc[2] + 0.45 * n[2]], s: iso(0.07), c: shade(colours[0]!, stripe ? 1 : 0.55), o: 0.95 });
  }
  // Box
  const bc: [number, number, number] = [rng.uniform(0.4, 1.1), rng.uniform(-0.3, 0.5), 0.35];
  const faces = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1]];
  const perFace = Math.max(4, Math.floor(Math.sqrt(detail / faces.length)));
  for (const f of faces) {
    for (let a = 0; a < perFace; a++) {
      for (let b = 0; b < perFace; b++) {
        const u = -0.35 + (0.7 * (a + 0.5)) / perFace, v = -0.35 + (0.7 * (b + 0.5)) / perFace;
        const p = f[0] !== 0 ? [0.35 * f[0]!, u, v] : f[1] !== 0 ? [u, 0.35 * f[1]!, v] : [u, v, 0.35];
        const check = (a + b) % 2 ? 1 : 0.6;
        splats.push({ p: [bc[0] + p[0]!, bc[1] + p[1]!, bc[2] + p[2]!], s: iso(0.7 / perFace * 0.55), c: shade(colours[1]!, check), o: 0.95 });
      }
    }
  }
  // Cylinder
  const cc: [number, number, number] = [rng.uniform(-0.8, 0.2), rng.uniform(0.7, 1.3), 0];
  const rings = Math.max(4, Math.floor(Math.sqrt(detail)));
  for (let a = 0; a < rings; a++) {
    for (let b = 0; b < rings; b++) {
      const th = (2 * Math.PI * a) / rings, z = 0.05 + (0.9 * b) / rings;
      const band = Math.floor(z * 6) % 2 ? 1 : 0.5;
      splats.push({ p: [cc[0] + 0.3 * Math.cos(th), cc[1] + 0.3 * Math.sin(th), z], s: iso(0.06), c: shade(colours[2]!, band), o: 0.95 });
    }
  }
  return toParams(splats);
}

function iso(s: number): [number, number, number] {
  return [s, s, s];
}

function shade(c: [number, number, number], f: number): [number, number, number] {
  return [clamp01(c[0] * f), clamp01(c[1] * f), clamp01(c[2] * f)];
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function fibonacciSphere(k: number, n: number): [number, number, number] {
  const z = 1 - (2 * (k + 0.5)) / n;
  const r = Math.sqrt(1 - z * z);
  const phi = k * Math.PI * (3 - Math.sqrt(5));
  return [r * Math.cos(phi), r * Math.sin(phi), z];
}

/**
 * Colours are scaled into [0, 0.5] so that +1 EV of exposure jitter does not clip: the photometric
 * tests then measure the model, not saturated pixels.
 */
export const SCENE_BRIGHTNESS = 0.5;

function toParams(splats: Splat[]): GaussianParams {
  const g = allocGaussians(splats.length);
  splats.forEach((s, i) => {
    g.means.set(s.p, i * 3);
    g.logScales.set(s.s.map(Math.log), i * 3);
    g.quats.set(s.R ? matToQuat(s.R) : [1, 0, 0, 0], i * 4);
    g.opacityLogits[i] = logit(s.o);
    for (let k = 0; k < 3; k++) g.sh[i * SH_COEFFS * 3 + k] = rgbToShDc(s.c[k]! * SCENE_BRIGHTNESS);
  });
  return g;
}
