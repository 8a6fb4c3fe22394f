/**
 * Checkpoint files of a run in a directory: `step-<7 digits>.<run id>.ckpt` (run-identity.ts).
 * A run resumes only from its own files and prunes only its own (keeping its two newest, so a
 * killed run can always be resumed from something). Another run's checkpoints — or files from
 * before run identities, `step-N.ckpt` — are never deleted: that run can still be resumed with
 * its own options; the first write says once that they are kept and how much they hold. An
 * unreadable checkpoint (empty, cut short) is skipped with a warning, never a raw error.
 */
import path from 'node:path';
import { existsSync, readdirSync, readFileSync, promises as fs } from 'node:fs';
import { writeFileAtomic } from '../../util/fsx.js';
import { warn, info } from '../../util/log.js';
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
    let head: ReturnType<typeof checkpointRun>;
    try {
      head = checkpointRun(new Uint8Array(readFileSync(c.file)));
    } catch (e) {
      warn(`--resume: ${c.file} is unreadable (${(e as Error).message}); skipped`);
      continue;
    }
    if (head.run && head.run.id === id.id) return { kind: 'own', file: c.file, step: head.step };
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
    // This run's older files go now that it has a newer one, and so do same-run files left by an
    // earlier process (a run that did not resume starts its own history). Other runs' files and
    // files from before run identities stay: they are another run's work (issue 25, item 2).
    const keep = new Set(this.written.slice(-this.keep));
    const all = listCheckpoints(this.dir);
    const stale = all.filter((c) => c.run === this.id.id && !keep.has(c.file));
    await Promise.all(stale.map((c) => fs.rm(c.file, { force: true })));
    if (!this.toldOthers) {
      this.toldOthers = true;
      const others = all.filter((c) => c.run !== this.id.id);
      if (others.length) {
        let bytes = 0;
        for (const c of others) bytes += await fs.stat(c.file).then((st) => st.size, () => 0);
        const runs = new Set(others.map((c) => c.run ?? 'unnamed'));
        info(`train: kept ${others.length} checkpoint(s) of ${runs.size} other run(s) in ${this.dir} (${(bytes / 2 ** 20).toFixed(1)} MiB, e.g. ${path.basename(others[0]!.file)}): train with that run's options and --resume to continue it, or delete them`);
      }
    }
    return file;
  }

  private toldOthers = false;

  /** Mark a checkpoint this run resumed from as its own history (pruned like the ones it writes). */
  adopt(file: string): void {
    if (!this.written.includes(file)) this.written.push(file);
  }
}
