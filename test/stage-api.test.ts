/**
 * The stage API: option schemas validate plain objects (YAML, queue jobs) with one-line range
 * messages, and every stage command's --help is generated from its schema.
 */
import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { parseStageOptions, optionFields, defaultText, int, num, bool, choice, type StageSpec } from '../src/pipeline/stage.js';
import { allStages } from '../src/stages/index.js';
import { stageNames } from '../src/stages/catalog.js';
import { commandHelp } from '../src/cli/main.js';
import { UserError } from '../src/util/errors.js';

const toy = {
  name: 'toy',
  options: z.object({
    steps: int('steps', { min: 1, max: 1000, default: 10 }),
    rate: num('rate', { min: 0, exclusiveMin: true, max: 1, default: 0.5 }),
    mode: choice(['a', 'b'], 'mode', { default: 'a' }),
    on: bool('switch'),
  }),
};

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).oneLine();
  }
  throw new Error('did not throw');
}

describe('parseStageOptions', () => {
  it('applies defaults and coerces command-line strings', () => {
    expect(parseStageOptions(toy, {})).toEqual({ steps: 10, rate: 0.5, mode: 'a' });
    expect(parseStageOptions(toy, { steps: '20', rate: '0.25', on: 'true' })).toEqual({ steps: 20, rate: 0.25, mode: 'a', on: true });
    expect(parseStageOptions(toy, { steps: 30 })).toMatchObject({ steps: 30 }); // YAML numbers
  });

  it('refuses negative, hex, huge and non-numbers with the valid range, naming the option', () => {
    expect(message(() => parseStageOptions(toy, { steps: '-5' }))).toMatch(/^--steps must be an integer in 1\.\.1000, got -5/);
    expect(message(() => parseStageOptions(toy, { steps: '0x10' }))).toMatch(/^--steps must be a number \(an integer in 1\.\.1000\), got '0x10'/);
    expect(message(() => parseStageOptions(toy, { steps: '1e20' }))).toMatch(/^--steps must be an integer in 1\.\.1000, got '1e20'/);
    expect(message(() => parseStageOptions(toy, { steps: 2.5 }))).toMatch(/--steps must be an integer/);
    expect(message(() => parseStageOptions(toy, { rate: 0 }))).toMatch(/--rate must be a number > 0 and ≤ 1, got 0/);
    expect(message(() => parseStageOptions(toy, { mode: 'c' }))).toMatch(/--mode must be one of a, b, got 'c'/);
    expect(message(() => parseStageOptions(toy, { stepz: 1 }))).toMatch(/unknown option 'stepz'/);
    for (const m of [message(() => parseStageOptions(toy, { steps: '-5' }))]) expect(m.split('\n')).toHaveLength(1);
  });

  it("the real stages' ranges: train iterations and max-size, ingest fps, sfm camera height", () => {
    const train = allStages.find((s) => s.name === 'train')!;
    expect(message(() => parseStageOptions(train, { iterations: -5 }))).toMatch(/--iterations must be an integer in 1\.\./);
    expect(message(() => parseStageOptions(train, { maxSize: 0 }))).toMatch(/--max-size must be an integer in 16\.\./);
    const ingest = allStages.find((s) => s.name === 'ingest')!;
    expect(message(() => parseStageOptions(ingest, { input: 'x', fps: -1 }))).toMatch(/--fps must be a number > 0/);
    expect(message(() => parseStageOptions(ingest, {}))).toMatch(/option 'input' is required/);
    const sfm = allStages.find((s) => s.name === 'sfm')!;
    expect(message(() => parseStageOptions(sfm, { cameraHeight: -2 }))).toMatch(/--camera-height must be a number > 0/);
  });
});

describe('stage catalog', () => {
  it('the eager and the on-demand lists name the same stages', () => {
    expect([...stageNames].sort()).toEqual(allStages.map((s) => s.name).sort());
  });

  it('train takes its defaults from defaultTrainOptions', async () => {
    const { defaultTrainOptions } = await import('../src/scene/trainer.js');
    const train = allStages.find((s) => s.name === 'train')!;
    const o = parseStageOptions(train, {}) as Record<string, unknown>;
    expect(o.iterations).toBe(defaultTrainOptions.iterations);
    expect(o.maxShDegree).toBe(defaultTrainOptions.maxShDegree);
    expect(o.background).toEqual(defaultTrainOptions.background);
  });
});

describe('--help is generated from the schema', () => {
  const flat = (s: string) => s.replace(/\s+/g, ' ');
  for (const name of ['ingest', 'import', 'synth', 'sfm', 'train', 'eval']) {
    it(`r2s ${name} --help lists every option with its doc and default`, async () => {
      const spec = allStages.find((s) => s.name === name) as StageSpec;
      const help = flat((await commandHelp(name))!);
      expect(help).toContain(spec.summary);
      for (const f of optionFields(spec.options)) {
        expect(help).toContain(f.meta.kind === 'boolean' && f.meta.negate === 'only' ? `--no-${f.flag}` : `--${f.flag}`);
        expect(help).toContain(flat(f.meta.doc));
        const def = defaultText(f);
        if (def !== undefined) expect(help).toContain(flat(`(default: ${f.meta.kind === 'boolean' && f.meta.negate === 'only' ? 'on' : def})`));
      }
      expect(help).toContain('--json');
    });
  }

  it('reconstruct --help borrows the stages\' fields', async () => {
    const help = flat((await commandHelp('reconstruct'))!);
    for (const flag of ['--max-size', '--fps', '--camera-height', '--iterations', '--train-max-size', '--skip-train']) expect(help).toContain(flag);
  });
});
