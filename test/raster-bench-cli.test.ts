import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { getDevice } from '../src/gpu/device.js';

const root = path.resolve(__dirname, '..');
function r2s(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

const ctx = await getDevice();

describe('r2s bench', () => {
  it('without a target fails with one line', () => {
    const r = r2s('bench');
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning')).length).toBe(1);
    expect(r.stderr).toContain('raster');
  });

  it.skipIf(!ctx)('bench raster --json reports forward, backward and sort times', () => {
    const r = r2s('bench', 'raster', '--splats', '300', '--width', '48', '--height', '32', '--iterations', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j.splats).toBe(300);
    expect(j.visible).toBeGreaterThan(0);
    expect(j.instances).toBeGreaterThan(0);
    for (const k of ['forwardMs', 'backwardMs', 'sortMs', 'gpuMemoryBytes']) expect(j[k]).toBeGreaterThan(0);
    expect(typeof j.adapter).toBe('string');
  });
});
