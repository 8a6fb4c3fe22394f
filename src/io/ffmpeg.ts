/**
 * Locate ffmpeg/ffprobe: $R2S_FFMPEG, then the system binary (Debian's package), then the binary
 * shipped inside @ffmpeg-installer/ffmpeg.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

let found: string | null | undefined;

function works(bin: string): boolean {
  try {
    execFileSync(bin, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function findFfmpeg(): string | null {
  if (found !== undefined) return found;
  const candidates: string[] = [];
  if (process.env.R2S_FFMPEG) candidates.push(process.env.R2S_FFMPEG);
  candidates.push('/usr/bin/ffmpeg', 'ffmpeg');
  try {
    const req = createRequire(import.meta.url);
    const inst = req('@ffmpeg-installer/ffmpeg') as { path: string };
    if (inst.path && existsSync(inst.path)) candidates.push(inst.path);
  } catch {
    /* optional */
  }
  found = candidates.find(works) ?? null;
  return found;
}
