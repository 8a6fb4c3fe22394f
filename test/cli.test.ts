import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
function r2s(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('r2s command line', () => {
  it('unknown commands fail with one line and exit code 2', () => {
    const r = r2s('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('help lists the commands', () => {
    const r = r2s('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('doctor');
  });

  it('doctor finds a WebGPU adapter (llvmpipe on CPU machines) and reports it as JSON', () => {
    const r = r2s('doctor', '--json');
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(r.status, r.stderr).toBe(0);
    expect(last.ok).toBe(true);
    expect(typeof last.adapterName).toBe('string');
    expect(last.adapterName.length).toBeGreaterThan(0);
    expect(last.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
  });
});
