/**
 * `r2s sfm` prints the summary's warnings (a model that registered but may be wrong), one
 * `warning: …` line each on stderr, and carries them in the --json result. SfM itself is stubbed:
 * this checks the stage and the command, not the reconstruction.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SfmSummary } from '../src/sfm/pipeline.js';
import { setJsonMode } from '../src/util/log.js';

const WARNINGS = ['self-calibrated focal 3000 px (20° field of view) is unusual for a photo 1024 px wide: the intrinsics may be wrong; pass --intrinsics if they are known', '9 of 10 verified image pairs are explained by a homography'];

vi.mock('../src/sfm/pipeline.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/sfm/pipeline.js')>();
  const summary: SfmSummary = {
    registered: 2, total: 2, points: 100, meanTrackLength: 2, meanReprojError: 0.5, matcher: 'exhaustive', pairs: 1, verifiedPairs: 1,
    initialPair: ['a.png', 'b.png'], groups: [2], failed: [], cameras: [], intrinsics: [], homographicPairs: 1, minTriAngleDeg: 1,
    warnings: WARNINGS, frame: { scale: 'arbitrary', method: 'none', up: [0, 1, 0], scaleFactor: 1 }, seconds: {},
  };
  return { ...real, runSfm: vi.fn(async () => summary) };
});

function workspace(): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'r2s-sfm-warn-'));
  mkdirSync(path.join(ws, 'images'));
  const images = ['a.png', 'b.png'].map((name) => {
    writeFileSync(path.join(ws, 'images', name), name);
    return { name, width: 64, height: 48, cameraKey: 'k', focalPx: 77, focalSource: 'guess', source: name };
  });
  writeFileSync(path.join(ws, 'priors.json'), JSON.stringify({ version: 1, input: { kind: 'photos', path: ws }, images, dropped: [] }));
  return ws;
}

async function sfmCommand(argv: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { stdout += String(s); return true; });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { stderr += String(s); return true; });
  try {
    const { run } = await import('../src/cli/commands/sfm.js');
    await run(argv);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}

afterEach(() => setJsonMode(false));

describe('sfm stage warnings', () => {
  it('prints each warning as one `warning: …` line on stderr', async () => {
    const { stderr } = await sfmCommand(['-w', workspace()]);
    const lines = stderr.split('\n').filter((l) => l.startsWith('warning: '));
    expect(lines).toEqual(WARNINGS.map((w) => `warning: ${w}`));
    expect(stderr).toMatch(/sfm: 2\/2 images registered/);
  });

  it('carries them in the --json result (and logs them as JSON warn lines)', async () => {
    setJsonMode(true);
    const { stdout, stderr } = await sfmCommand(['-w', workspace(), '--json']);
    const res = JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean; warnings: string[] };
    expect(res.ok).toBe(true);
    expect(res.warnings).toEqual(WARNINGS);
    const warns = stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'warn');
    expect(warns.map((w) => w.msg)).toEqual(WARNINGS);
  });
});
