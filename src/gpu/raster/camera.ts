/**
 * Packs camera and options into the `Cam` uniform of common.wgsl.ts (9 × vec4, 144 bytes).
 */
import type { RasterCamera, RasterOptions } from '../../core/raster.js';
import { prepareCamera } from '../../core/raster.js';

export const CAM_BYTES = 144;

export function tileGrid(cam: RasterCamera): { tilesX: number; tilesY: number } {
  return { tilesX: Math.ceil(cam.width / 16), tilesY: Math.ceil(cam.height / 16) };
}

export function packCamera(camera: RasterCamera, opts: RasterOptions, count: number): ArrayBuffer {
  const c = prepareCamera(camera);
  const { tilesX, tilesY } = tileGrid(camera);
  const buf = new ArrayBuffer(CAM_BYTES);
  const f = new Float32Array(buf);
  const u = new Uint32Array(buf);
  const R = c.R, t = c.t;
  f.set([R[0]!, R[1]!, R[2]!, t[0]!, R[3]!, R[4]!, R[5]!, t[1]!, R[6]!, R[7]!, R[8]!, t[2]!], 0);
  f.set([c.campos[0]!, c.campos[1]!, c.campos[2]!, 0], 12);
  f.set([c.fx, c.fy, c.cx, c.cy], 16);
  f.set([c.limXPos, c.limXNeg, c.limYPos, c.limYNeg], 20);
  f.set([c.width, c.height, c.near, c.far], 24);
  f.set([opts.background[0], opts.background[1], opts.background[2], opts.eps2d], 28);
  u.set([count, tilesX, tilesY, (opts.antialiased ? 1 : 0) | ((opts.shDegree & 255) << 8)], 32);
  return buf;
}
