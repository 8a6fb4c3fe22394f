/**
 * The GPU test harness (test/support/gpu-setup.ts, strict-setup.ts, src/gpu/vk-validation.ts)
 * catches what it is there for. A nested vitest run of fixtures that do something wrong on purpose,
 * under the same setup files on this project's adapter, must fail each of them with the right
 * reason — a Vulkan validation-layer error, an uncaptured WebGPU error, a fallback to a CPU
 * reference path, the wrong adapter — and pass the clean one.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeGpuError } from '../src/gpu/device.js';
import { parseValidationLog, readValidationLogs } from '../src/gpu/vk-validation.js';

const root = path.resolve(import.meta.dirname, '..');

/** the environment of this worker without vitest's own variables (a nested run starts fresh) */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'TINYPOOL_WORKER_ID'));
  return { ...env, ...extra };
}

interface JsonFile { name: string; status: string; message?: string; assertionResults: { title: string; status: string; failureMessages: string[] }[] }

describe('GPU test harness', () => {
  it('fails a Vulkan validation error, an uncaptured WebGPU error, a CPU fallback and the wrong adapter; passes a clean kernel', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-harness-'));
    try {
      const out = path.join(dir, 'report.json');
      const r = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/support/harness/vitest.config.ts', '--reporter=json', `--outputFile=${out}`],
        { cwd: root, encoding: 'utf8', env: childEnv(), timeout: 110_000 });
      expect(r.status, r.stderr.slice(-2000)).toBe(1);
      const files = (JSON.parse(readFileSync(out, 'utf8')) as { testResults: JsonFile[] }).testResults;
      const of = (fixture: string) => files.filter((f) => f.name.endsWith(`${fixture}.fixture.ts`));
      const failure = (f: JsonFile) => [f.message ?? '', ...f.assertionResults.flatMap((a) => a.failureMessages)].join('\n');
      const one = (fixture: string) => { const fs = of(fixture); expect(fs, fixture).toHaveLength(1); return fs[0]!; };

      const layer = one('vulkan-error');
      expect(layer.status).toBe('failed');
      expect(failure(layer)).toMatch(/Vulkan validation Error VUID-vkCmdDispatch-groupCountX-00386/);

      const webgpu = one('webgpu-error');
      expect(webgpu.status).toBe('failed');
      expect(failure(webgpu)).toMatch(/uncaptured WebGPU error.*\n.*GPU validation error in "rejected-pass"/);

      const fallback = one('fallback');
      expect(fallback.status).toBe('failed');
      expect(failure(fallback)).toMatch(/fell back from the GPU .*using the reference rasterizer/);

      // the clean fixture runs twice: passes on the right adapter, fails when another is expected
      const clean = of('clean');
      expect(clean.map((f) => f.status).sort()).toEqual(['failed', 'passed']);
      expect(failure(clean.find((f) => f.status === 'failed')!)).toMatch(/WebGPU adapter is ".*", expected /);
      expect(clean.find((f) => f.status === 'passed')!.assertionResults.map((a) => a.status)).toEqual(['passed']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('runs the layer with synchronization validation on', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-syncval-'));
    try {
      const script = "import { requireDevice } from './src/gpu/device.ts'; await requireDevice();";
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: root, encoding: 'utf8', env: childEnv({ R2S_VK_VALIDATION: dir, R2S_VK_VALIDATION_TAG: 'probe', R2S_VK_VALIDATION_REPORT: 'error,warn,info' }), timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const log = readFileSync(path.join(dir, readdirSync(dir).find((f) => f.startsWith('probe.') && f.endsWith('.log'))!), 'utf8');
      const enabled = parseValidationLog(log).find((m) => m.id === 'CURRENT-VALIDATION-ENABLED');
      expect(enabled, log.slice(0, 2000)).toBeDefined();
      expect(log).toMatch(/Current Validation Enabled:[\s\S]*- Synchronization/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('reads sync hazards, unknown formats and torn writes from a layer log', () => {
    const hazard = 'Validation Error: [ SYNC-HAZARD-READ-AFTER-WRITE ] Object 0: handle = 0x5, type = VK_OBJECT_TYPE_QUEUE; | MessageID = 0xe4d96472\n' +
      'vkQueueSubmit(): Hazard READ_AFTER_WRITE for entry 0, VkCommandBuffer 0x7 "loss", Submitted access info (submitted_usage: SYNC_COMPUTE_SHADER_SHADER_STORAGE_READ).\n' +
      'Objects: 1\n    [0] VkQueue 0x5\n\n';
    const msgs = parseValidationLog(`${hazard}Something else the layer printed\n\n`);
    expect(msgs.map((m) => [m.severity, m.id])).toEqual([['Error', 'SYNC-HAZARD-READ-AFTER-WRITE'], ['message', '?']]);
    expect(msgs[0]!.text).toMatch(/Hazard READ_AFTER_WRITE .*"loss"/);
    // a message the layer is still writing is read on the next look, not lost or split
    const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-vklog-'));
    try {
      const file = path.join(dir, 't1.42.log');
      const seen = new Map<string, number>();
      writeFileSync(file, `${hazard}Validation Error: [ VUID-x ] | MessageID = 0x1\nvkCmdDisp`);
      expect(readValidationLogs(dir, 't1', seen).map((m) => m.id)).toEqual(['SYNC-HAZARD-READ-AFTER-WRITE']);
      appendFileSync(file, 'atch(): bad\n\n');
      expect(readValidationLogs(dir, 't1', seen).map((m) => [m.id, m.text])).toEqual([['VUID-x', 'Validation Error: [ VUID-x ] | MessageID = 0x1 vkCmdDispatch(): bad']]);
      expect(readValidationLogs(dir, 't1', seen)).toEqual([]);
      expect(readValidationLogs(dir, 't2', new Map())).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the labelled pass of an uncaptured WebGPU error', () => {
    class GPUValidationError { constructor(readonly message: string) {} }
    const e = new GPUValidationError('[Buffer "dRgb"] used in submit while destroyed.\n - While calling [Queue].Submit([[CommandBuffer "loss" from CommandEncoder "loss"]])\n');
    expect(describeGpuError(e)).toBe('GPU validation error in "loss": [Buffer "dRgb"] used in submit while destroyed.');
    class GPUOutOfMemoryError { constructor(readonly message: string) {} }
    expect(describeGpuError(new GPUOutOfMemoryError('Allocation failed'))).toBe('GPU out-of-memory error: Allocation failed');
  });
});
