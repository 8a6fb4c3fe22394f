/**
 * Rebuild the bundled samples from the shared datasets (run from the repo root):
 *   npx tsx samples/make-samples.ts [../shared/datasets]
 * samples/lund:    the OpenSfM Lund photos, 800 px long side, JPEG q85, EXIF (focal, GPS) kept.
 * samples/dashcam: the first 4 s of the Udacity dash-cam clip at 480 px, H.264.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { findFfmpeg } from '../src/io/ffmpeg.js';
import { readExif } from '../src/io/exif.js';

const datasets = path.resolve(process.argv[2] ?? '../shared/datasets');
const here = path.dirname(new URL(import.meta.url).pathname);

async function lund(): Promise<void> {
  const src = path.join(datasets, 'opensfm_lund/images');
  const out = path.join(here, 'lund');
  await fs.mkdir(out, { recursive: true });
  let total = 0;
  for (const name of (await fs.readdir(src)).filter((n) => n.endsWith('.jpg')).sort()) {
    const data = await sharp(path.join(src, name))
      .rotate()
      .resize({ width: 800, height: 800, fit: 'inside', withoutEnlargement: true })
      .keepExif() // focal length and GPS are what the demo shows off
      .jpeg({ quality: 85, mozjpeg: true })
      .toBuffer();
    const exif = await readExif(data);
    if (!exif.focal35 || !exif.gps) throw new Error(`${name}: EXIF focal/GPS lost in the downscaled copy`);
    await fs.writeFile(path.join(out, name), data);
    total += data.length;
  }
  console.log(`samples/lund: ${(total / 1e6).toFixed(2)} MB`);
}

function dashcam(): void {
  const ffmpeg = findFfmpeg();
  if (!ffmpeg) throw new Error('ffmpeg not found');
  const out = path.join(here, 'dashcam');
  execFileSync('mkdir', ['-p', out]);
  const file = path.join(out, 'solidWhiteRight-4s.mp4');
  execFileSync(ffmpeg, ['-y', '-loglevel', 'error', '-t', '4', '-i', path.join(datasets, 'udacity_dashcam/solidWhiteRight.mp4'), '-an', '-vf', 'scale=480:-2', '-c:v', 'libx264', '-crf', '26', '-preset', 'slow', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file]);
  console.log(`samples/dashcam: ${(execFileSync('stat', ['-c', '%s', file]).toString().trim())} bytes`);
}

await lund();
dashcam();
