/**
 * Pipeline YAML validation: every mistake is one line naming file:line:col, before any work.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../src/batch/pipeline-file.js';
import { loadStageCatalog, type StageCatalog } from '../src/batch/stage-bridge.js';
import { planJobs } from '../src/batch/pipeline-types.js';
import { UserError } from '../src/util/errors.js';

let dir: string;
let catalog: StageCatalog;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-batch-yaml-'));
  mkdirSync(path.join(dir, 'caps', 'a'), { recursive: true });
  mkdirSync(path.join(dir, 'caps', 'b'), { recursive: true });
  writeFileSync(path.join(dir, 'caps', 'clip.mp4'), '');
  catalog = await loadStageCatalog();
}, 60_000);

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

const good = `inputs: [caps/*]
output: out
stages:
  - stage: import
  - stage: train
    options: { iterations: 30, max-size: 48 }
  - stage: eval
`;

function errorOf(text: string): string {
  const f = write(`p${Math.random().toString(36).slice(2)}.yaml`, text);
  try {
    loadPipeline(f, catalog);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const line = (e as UserError).oneLine();
    expect(line).not.toContain('\n');
    return line.replace(f, 'P');
  }
  throw new Error('expected an error');
}

describe('pipeline YAML', () => {
  it('expands globs to captures × stages', () => {
    const p = loadPipeline(write('ok.yaml', good), catalog);
    expect(p.captures.map((c) => c.name)).toEqual(['a', 'b', 'clip']);
    expect(p.stages.map((s) => s.stage)).toEqual(['import', 'train', 'eval']);
    const jobs = planJobs(p, (s) => catalog.stages.get(s)?.inputOption);
    expect(jobs).toHaveLength(9);
    expect(jobs[0]!.options.source).toBe(path.join(dir, 'caps', 'a'));
    expect(jobs[0]!.workspace).toBe(path.join(dir, 'out', 'a'));
  });

  it('unknown stage: file, line, column', () => {
    expect(errorOf(good.replace('stage: eval', 'stage: evaluate'))).toMatch(/^P:7:12: unknown stage 'evaluate' \(fix: use one of .*eval/);
  });

  it('unknown option', () => {
    expect(errorOf(good.replace('iterations: 30', 'iteratons: 30'))).toMatch(/^P:6:16: train: unknown option 'iteratons'/);
  });

  it('bad value, with the range from the stage schema', () => {
    expect(errorOf(good.replace('iterations: 30', 'iterations: -5'))).toMatch(/^P:6:16: train: --iterations must be an integer in 1\.\.1e7, got -5/);
  });

  it('input glob that matches nothing', () => {
    expect(errorOf(good.replace('caps/*', 'nothing/*.mov'))).toMatch(/^P:1:10: input 'nothing\/\*\.mov' matches nothing/);
  });

  it('extract: unavailable is an error unless when-available', () => {
    if (catalog.stages.has('extract')) return; // a build with extract validates it like any stage
    expect(errorOf(good + '  - stage: extract\n')).toMatch(/^P:8:12: stage 'extract' is not available in this build/);
    const p = loadPipeline(write('wa.yaml', good + '  - stage: extract\n    when-available: true\n    options: { auto: true }\n'), catalog);
    expect(p.skippedStages).toEqual(['extract']);
  });

  it('stage order and unknown keys', () => {
    expect(errorOf(good.replace('  - stage: import\n', '').replace('  - stage: eval\n', '  - stage: eval\n  - stage: import\n'))).toMatch(/import must come before train/);
    expect(errorOf(good.replace('output: out', 'output: out\nworkers: 3'))).toMatch(/^P:3:1: unknown key 'workers' in pipeline/);
  });

  it('--set overrides one stage option, checked by its schema', () => {
    const f = write('set.yaml', good);
    const p = loadPipeline(f, catalog, { set: ['train.iterations=300', 'train.maxSize=64', 'eval.max-size=32'] });
    expect(p.stages.find((s) => s.stage === 'train')!.options).toEqual({ iterations: 300, maxSize: 64 });
    expect(p.stages.find((s) => s.stage === 'eval')!.options).toEqual({ 'max-size': 32 });
    const err = (set: string) => {
      try {
        loadPipeline(f, catalog, { set: [set] });
      } catch (e) {
        return e instanceof UserError ? e.message : String(e);
      }
      return '';
    };
    expect(err('train.iterations=-5')).toMatch(/^--set train\.iterations=-5: train: --iterations must be an integer/);
    expect(err('sfm.matcher=x')).toMatch(/this pipeline has no stage 'sfm'/);
    expect(err('train')).toMatch(/expected STAGE\.OPTION=VALUE/);
  });

  it('the shipped pipelines validate', () => {
    for (const f of ['pipelines/drive-footage.yaml', 'pipelines/object-capture.yaml']) {
      const p = loadPipeline(f, catalog);
      expect(p.captures.length).toBeGreaterThan(0);
      expect(p.stages[0]!.stage).toBe('ingest');
    }
  });
});
