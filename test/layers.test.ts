/**
 * The layer order of src/ (issue 10): dependency-cruiser with .dependency-cruiser.cjs must pass on
 * the tree, and must fail on an upward import and on a cycle (checked on small fixture trees, so
 * the rules cannot silently stop matching).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');

function cruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(depcruise, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A scratch project with the real config and the given src files. */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'r2s-layers-'));
  cpSync(path.join(root, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' }, include: ['src'] }));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

describe('src/ layers', () => {
  it("the README's layer diagram lists the configured ranks, top to bottom", () => {
    const config = readFileSync(path.join(root, '.dependency-cruiser.cjs'), 'utf8');
    const ranksText = /const RANKS = \[([\s\S]*?)\n\];/.exec(config)![1]!;
    const ranks = [...ranksText.matchAll(/\[([^\]]*)\]/g)].map((m) => [...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!).sort());
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const layout = readme.slice(readme.indexOf('## Layout'));
    const diagram = /```\n([\s\S]*?)```/.exec(layout)![1]!;
    // a layer line starts with `└ ` or a name (continuation lines start with `│`); its folders come
    // first, two spaces apart, then three or more spaces and the description
    const diagramRanks = diagram
      .split('\n')
      .filter((l) => /^\s*(└ )?[a-z]/.test(l))
      .map((l) => l.replace(/^\s*(└ )?/, '').split(/\s{3,}/)[0]!.trim().split(/\s+/).sort());
    expect(diagramRanks).toEqual([...ranks].reverse());
  });

  it('the tree has no upward import and no cycle', () => {
    const r = cruise(root);
    expect(r.out).toContain('no dependency violations');
    expect(r.status, r.out).toBe(0);
  });

  it('an import from a lower layer to a higher one fails', () => {
    const dir = fixture({
      'src/io/colmap.ts': "import { Stage } from '../stages/train.js';\nexport const x = Stage;\n",
      'src/stages/train.ts': 'export const Stage = 1;\n',
    });
    const r = cruise(dir);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('layer-io');
  });

  it('an import between folders of the same rank fails', () => {
    const dir = fixture({
      'src/io/a.ts': "import { b } from '../gpu/b.js';\nexport const a = b;\n",
      'src/gpu/b.ts': 'export const b = 1;\n',
    });
    const r = cruise(dir);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('layer-io');
  });

  it('a cycle inside one folder fails', () => {
    const dir = fixture({
      'src/scene/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/scene/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    });
    const r = cruise(dir);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('no-circular');
  });

  it('a downward import passes', () => {
    const dir = fixture({
      'src/stages/train.ts': "import { x } from '../io/colmap.js';\nexport const y = x;\n",
      'src/io/colmap.ts': 'export const x = 1;\n',
    });
    expect(cruise(dir).status).toBe(0);
  });
});
