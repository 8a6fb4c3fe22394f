/**
 * Run one job — one stage of one capture — as a child process (job-main.ts) that runs the stage
 * through the same runner as `r2s <stage>`: a crash or a leak in a stage (a GPU driver, a worker
 * pool) cannot take the batch down, N jobs use N cores, and a job is cancelled by ending its
 * process. Progress comes from its --json progress lines, the result from its last stdout line, a
 * failure from its one-line error.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const JOB_MAIN = path.join(here, 'job-main.ts');
// tsx by its own path: a bare `--import tsx` resolves from the current folder, so a batch started
// anywhere but inside the r2s checkout failed every job with ERR_MODULE_NOT_FOUND
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface JobProgress {
  label: string;
  done: number;
  total: number;
}

export interface JobRunOptions {
  /** the job for job-main.ts */
  job: { stage: string; workspace: string; options: Record<string, unknown>; resume: boolean; command: string };
  /** where the child's stderr (its log) is appended */
  logFile: string;
  /** live progress from the child */
  onProgress?: (p: JobProgress) => void;
  /** cancels the job (SIGTERM, then SIGKILL after 5 s) */
  signal?: AbortSignal;
  /** cancel after this many seconds */
  timeoutS?: number;
  /** extra environment */
  env?: Record<string, string>;
}

export interface JobRunResult {
  ok: boolean;
  /** the command's --json result (its last stdout line), when it printed one */
  result?: Record<string, unknown>;
  /** its one-line error, without the `r2s <stage>: ` prefix */
  error?: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  pid: number;
  seconds: number;
}

/** Spawn the job; `onStart` receives the child's pid as soon as it exists. */
export function runJobProcess(o: JobRunOptions, onStart?: (pid: number) => void): Promise<JobRunResult> {
  const started = Date.now();
  mkdirSync(path.dirname(o.logFile), { recursive: true });
  const log = createWriteStream(o.logFile, { flags: 'a' });
  log.write(`\n== ${new Date().toISOString()} ${o.job.command}\n`);
  const child = spawn(process.execPath, ['--import', TSX, JOB_MAIN, JSON.stringify(o.job)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, R2S_QUIET: '0', ...o.env },
  });
  onStart?.(child.pid ?? -1);
  let lastStdout = '';
  let lastErrorLine = '';
  lines(child.stdout, (line) => {
    if (line.trim()) lastStdout = line;
  });
  lines(child.stderr, (line) => {
    log.write(line + '\n');
    const p = parseProgress(line);
    if (p) o.onProgress?.(p);
    else if (line.trim() && !line.startsWith('{')) lastErrorLine = line;
  });
  let cancelReason: string | null = null;
  const cancel = (why: string) => {
    if (cancelReason || child.exitCode !== null) return;
    cancelReason = why;
    child.kill('SIGTERM');
    setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
  };
  const onAbort = () => cancel('cancelled');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = o.timeoutS ? setTimeout(() => cancel(`timed out after ${o.timeoutS} s`), o.timeoutS * 1000) : null;
  return new Promise((resolve) => {
    child.on('close', (code, sig) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      log.end(`== exit ${code ?? sig}\n`);
      const result = parseJson(lastStdout);
      const ok = code === 0 && !cancelReason;
      const error = ok ? undefined : cancelReason ?? (stripPrefix(lastErrorLine) || (sig ? `killed by ${sig}` : `exited with code ${code}`));
      resolve({ ok, ...(result ? { result } : {}), ...(error ? { error } : {}), exitCode: code, signal: sig, pid: child.pid ?? -1, seconds: (Date.now() - started) / 1000 });
    });
    child.on('error', (e) => {
      log.end(`== failed to start: ${e.message}\n`);
      resolve({ ok: false, error: `cannot start r2s: ${e.message}`, exitCode: null, signal: null, pid: -1, seconds: 0 });
    });
  });
}

function lines(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      fn(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => buf && fn(buf));
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function parseProgress(line: string): JobProgress | null {
  if (!line.startsWith('{"progress"')) return null;
  const v = parseJson(line);
  return v && typeof v.done === 'number' && typeof v.total === 'number' ? { label: String(v.progress), done: v.done, total: v.total } : null;
}

/** "r2s train: no COLMAP model …" → "no COLMAP model …". */
function stripPrefix(line: string): string {
  return line.replace(/^r2s( [a-z-]+)?: /, '').trim();
}
