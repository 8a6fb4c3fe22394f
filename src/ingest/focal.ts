/**
 * Focal length prior in pixels from EXIF, at the stored image size. SfM refines it; a good start
 * mostly decides whether the first two-view reconstruction succeeds.
 */
import type { ExifInfo } from '../io/exif.js';
import type { FocalSource } from './priors.js';
import { sensorWidthMm } from '../io/sensors.js';

/** COLMAP's default when nothing is known: a moderate ~45° horizontal field of view. */
export const GUESS_FACTOR = 1.2;

export function focalPrior(exif: ExifInfo, width: number, height: number): { focalPx: number; focalSource: FocalSource } {
  const long = Math.max(width, height);
  // The 35 mm equivalent maps the long side of the image to the 36 mm long side of the film
  // (as COLMAP and OpenSfM read it); exact for 3:2 frames, within a few % for 4:3.
  if (exif.focal35 !== undefined) {
    const f = (exif.focal35 / 36) * long;
    if (plausible(f, long)) return { focalPx: f, focalSource: 'exif-35mm' };
  }
  const sw = sensorWidthMm(exif.make, exif.model);
  if (exif.focalMm !== undefined && sw !== undefined) {
    const f = (exif.focalMm / sw) * long;
    if (plausible(f, long)) return { focalPx: f, focalSource: 'exif-sensor' };
  }
  return { focalPx: GUESS_FACTOR * long, focalSource: 'guess' };
}

/** Field of view between ~3° and ~160°: anything else is a broken tag, not a lens. */
function plausible(f: number, long: number): boolean {
  return Number.isFinite(f) && f > 0.09 * long && f < 20 * long;
}

/** Images with the same key share intrinsics: same camera, same size, same focal length. */
export function cameraKey(exif: ExifInfo, width: number, height: number): string {
  const parts = [exif.make ?? 'unknown', exif.model ?? 'unknown', `${width}x${height}`];
  // Zoom lenses: a different focal length is a different camera for SfM.
  const f = exif.focalMm ?? exif.focal35;
  if (f !== undefined) parts.push(`${+f.toFixed(2)}mm`);
  return parts.join('|');
}
