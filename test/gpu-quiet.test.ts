import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

describe('device bring-up output', () => {
  it('Dawn\'s limit-clamping notices and the tfjs banner do not reach stderr; our own lines do', () => {
    const script = [
      "import { getDevice } from './src/gpu/device.ts';",
      "import { initTf, tf } from './src/scene/tf.ts';",
      "console.error('before');",
      'const ctx = await getDevice();',
      "await initTf('cpu');",
      'tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync());',
      "console.error('after', ctx ? 'gpu' : 'none');",
    ].join('\n');
    // stderr into a log opened for appending (`>> train.log 2>&1`, a batch worker's log file);
    // a terminal or a FIFO behave the same (see src/gpu/native-stderr.ts)
    const log = path.join(mkdtempSync(path.join(os.tmpdir(), 'r2s-quiet-')), 'train.log');
    const fd = openSync(log, 'a');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', fd], env: { ...process.env, R2S_DAWN_VERBOSE: '' } });
    closeSync(fd);
    const stderr = readFileSync(log, 'utf8');
    expect(r.status, stderr).toBe(0);
    expect(stderr).toMatch(/^before\nafter (gpu|none)\n$/);
    expect(r.stdout).not.toMatch(/TensorFlow\.js|artificially reduced/);
  });
});
