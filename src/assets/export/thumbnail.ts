/** thumbnail.png: the asset's Gaussians from a three-quarter view above, on a light background. */
import sharp from 'sharp';
import type { GaussianParams } from '../../core/gaussians.js';
import { coarsenForRender, finestPixel } from '../mesh/coarsen.js';
import { defaultMeshOptions, gaussianBounds, subsampleForRender } from '../mesh/index.js';
import { renderView, type RasterBackend } from '../mesh/render.js';
import { lookAtCamera } from '../mesh/views.js';

export async function renderThumbnail(p: GaussianParams, backend: RasterBackend, shDegree: number, size = 256): Promise<Uint8Array> {
  const b = gaussianBounds(p);
  const c: [number, number, number] = [0, 1, 2].map((a) => (b.min[a]! + b.max[a]!) / 2) as [number, number, number];
  const r = 0.5 * Math.hypot(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]);
  const d = 2.6 * r, el = (30 * Math.PI) / 180, az = (35 * Math.PI) / 180;
  const eye: [number, number, number] = [c[0] + d * Math.cos(el) * Math.sin(az), c[1] + d * Math.sin(el), c[2] + d * Math.cos(el) * Math.cos(az)];
  const cam = lookAtCamera(eye, c, [0, 1, 0], size, r);
  // sub-pixel Gaussians thinned and widened (same coverage, far fewer to sort and composite)
  const coarse = coarsenForRender(p, finestPixel([cam], c));
  const shown = subsampleForRender(coarse, defaultMeshOptions.maxRenderGaussians);
  const v = await renderView(backend, shown, cam, shown === coarse ? shDegree : 0);
  const px = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const a = v.alpha[i]!;
    for (let k = 0; k < 3; k++) px[3 * i + k] = Math.round(255 * Math.min(1, Math.max(0, v.rgb[3 * i + k]! + (1 - a) * 0.94)));
  }
  return sharp(px, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}
