/**
 * Issue 13, items 4 and 7: photos with no parallax — shifted crops of one photo, identical copies —
 * must not become a model. Every pair verifies (a homography explains it), and r2s used to report
 * "5/5 registered, 3003 points" with a 5674 px focal on a 400 px image and exit 0, or blame "a
 * separate group of 5 images" when nothing was built. Now sfm stops with one line saying why.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { workspaceFromImages } from '../src/sfm/dataset-workspace.js';
import { defaultSfmOptions, runSfm } from '../src/sfm/pipeline.js';
import type { Priors } from '../src/ingest/priors.js';
import { UserError } from '../src/util/errors.js';

const sample = path.resolve(__dirname, '../samples/lund/01.jpg');

/** Crops of one photo at the given offsets (px, at 640 px wide), 400 × 300 each. */
async function crops(offsets: Array<[number, number]>): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-crops-'));
  const img = path.join(dir, 'src');
  mkdirSync(img);
  const base = await sharp(sample).resize(640).toBuffer();
  for (let k = 0; k < offsets.length; k++) {
    const [left, top] = offsets[k]!;
    await sharp(base).extract({ left, top, width: 400, height: 300 }).png().toFile(path.join(img, `crop${k}.png`));
  }
  await workspaceFromImages(img, dir);
  return dir;
}

async function sfm(ws: string): Promise<unknown> {
  const priors = JSON.parse(readFileSync(path.join(ws, 'priors.json'), 'utf8')) as Priors;
  const paths = { imagesDir: path.join(ws, 'images'), database: path.join(ws, 'sfm', 'database.db'), sparseDir: path.join(ws, 'sparse') };
  mkdirSync(path.join(ws, 'sfm'), { recursive: true });
  return runSfm(paths, priors, { ...defaultSfmOptions, matcher: 'exhaustive', workers: 1, silent: true }).catch((e: unknown) => e);
}

describe('sfm on photos without parallax', () => {
  it('fails on five shifted crops of one photo, saying there is no parallax', async () => {
    const r = await sfm(await crops([[0, 0], [40, 10], [80, 20], [120, 30], [160, 40]]));
    expect(r).toBeInstanceOf(UserError);
    const line = (r as UserError).oneLine();
    expect(line).toMatch(/no parallax/);
    expect(line).toMatch(/crops of one photo/);
    expect(line).not.toMatch(/separate group/);
    expect(line.split('\n')).toHaveLength(1);
  }, 120_000);

  it('fails on identical copies with the same reason, not "a separate group"', async () => {
    const r = await sfm(await crops([[100, 50], [100, 50], [100, 50], [100, 50]]));
    expect(r).toBeInstanceOf(UserError);
    expect((r as UserError).message).toMatch(/no parallax/);
    expect((r as UserError).message).not.toMatch(/separate group/);
  }, 120_000);
});
