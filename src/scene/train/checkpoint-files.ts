/**
 * Checkpoint files of a run in a directory: `step-<7 digits>.<run id>.ckpt` (run-identity.ts).
 * A run resumes only from its own files; a run keeps the checkpoints already there (another run's,
 * or files from before run identities: `step-N.ckpt`) until its first own one is written, then
 * keeps only its two newest — so a killed run can always be resumed from something.
 */
import path from 'node:path';
import { existsSync, readdirSync, readFileSync, promises as fs } from 'node:fs';
import { writeFileAtomic } from '../../util/fsx.js';
import { checkpointRun } from './checkpoint-state.js';
import { identityDifference, type RunIdentity } from './run-identity.js';

const NAME = /^step-(\d+)(?:\.([0-9a-f]+))?\.ckpt$/;

export interface CheckpointFile {
  file: string;
  step: number;
  /** the run id in the name (null: a file from before run identities) */
  run: string | null;
}

export function listCheckpoints(dir: string): CheckpointFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => NAME.exec(f))
    .filter((m): m is RegExpExecArray => Boolean(m))
    .map((m) => ({ file: path.join(dir, m[0]), step: Number(m[1]), run: m[2] ?? null }))
    .sort((a, b) => b.step - a.step || a.file.localeCompare(b.file));
}

/** What `--resume` finds: this run's newest checkpoint, or why there is none to use. */
export type ResumePoint =
  | { kind: 'own'; file: string; step: number }
  | { kind: 'other'; file: string; why: string }
  | { kind: 'none' };

export function findResumePoint(dir: string, id: RunIdentity): ResumePoint {
  const all = listCheckpoints(dir);
  for (const c of all) {
    if (c.run !== id.id) continue;
    // the name says ours; the header decides (a name can be copied)
    const { run, step } = checkpointRun(new Uint8Array(readFileSync(c.file)));
    if (run && run.id === id.id) return { kind: 'own', file: c.file, step };
  }
  const newest = all[0];
  if (!newest) return { kind: 'none' };
  let why: string;
  try {
    why = identityDifference(id, checkpointRun(new Uint8Array(readFileSync(newest.file))).run) ?? 'unreadable run identity';
  } catch (e) {
    why = `unreadable: ${(e as Error).message}`;
  }
  return { kind: 'other', file: newest.file, why };
}

/** Writes a run's checkpoints and prunes the directory once the run has one of its own. */
export class CheckpointWriter {
  private readonly written: string[] = [];
  constructor(readonly dir: string, readonly id: RunIdentity, readonly keep = 2) {}

  fileFor(step: number): string {
    return path.join(this.dir, `step-${String(step).padStart(7, '0')}.${this.id.id}.ckpt`);
  }

  async write(step: number, bytes: Uint8Array): Promise<string> {
    const file = this.fileFor(step);
    await writeFileAtomic(file, bytes);
    if (!this.written.includes(file)) this.written.push(file);
    // Everything else goes now that this run has a checkpoint: other runs' files, files from
    // before run identities, this run's older ones, and same-run files left by an earlier process
    // (a run that did not resume starts its own history).
    const keep = new Set(this.written.slice(-this.keep));
    const stale = listCheckpoints(this.dir).filter((c) => !keep.has(c.file));
    await Promise.all(stale.map((c) => fs.rm(c.file, { force: true })));
    return file;
  }

  /** Mark a checkpoint this run resumed from as its own history (pruned like the ones it writes). */
  adopt(file: string): void {
    if (!this.written.includes(file)) this.written.push(file);
  }
}
