/**
 * Video through ffmpeg: probe (duration, size, creation time) and sample frames at a fixed rate
 * into numbered JPEGs, reporting each frame's time stamp as ffmpeg writes it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { findFfmpeg } from './ffmpeg.js';
import { UserError } from '../util/errors.js';

export const VIDEO_EXTS = ['.mp4', '.mov', '.m4v', '.mkv', '.avi', '.webm'];

export function isVideoFile(name: string): boolean {
  return VIDEO_EXTS.includes(path.extname(name).toLowerCase());
}

export interface VideoInfo {
  /** seconds, NaN when the container does not say */
  duration: number;
  /** coded size (before any rotation metadata) */
  width: number;
  height: number;
  /** frames per second of the stream, NaN when unknown */
  fps: number;
  /** container creation time, ISO 8601, when recorded */
  creationTime?: string;
}

export interface ExtractedFrame {
  /** 1-based sample number, also the number in the file name */
  index: number;
  file: string;
  /** seconds from the start of the video */
  time: number;
}

function requireFfmpeg(): string {
  const bin = findFfmpeg();
  if (!bin) throw new UserError('ffmpeg not found, needed to read video', { fix: 'install ffmpeg (apt install ffmpeg) or set R2S_FFMPEG' });
  return bin;
}

function runFfmpeg(args: string[], onStderrLine?: (line: string) => void): Promise<{ code: number; stderr: string }> {
  const bin = requireFfmpeg();
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let all = '';
    let partial = '';
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (chunk: string) => {
      // Keep only a bounded tail: showinfo prints a line per frame.
      all = (all + chunk).slice(-200_000);
      if (!onStderrLine) return;
      partial += chunk;
      const lines = partial.split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const l of lines) onStderrLine(l);
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (onStderrLine && partial) onStderrLine(partial);
      resolve({ code: code ?? 1, stderr: all });
    });
  });
}

/** Last meaningful ffmpeg error line, for messages. */
function ffmpegReason(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const bad = lines.reverse().find((l) => /invalid|error|no such|not|unsupported|failed/i.test(l) && !/^At least one output/.test(l));
  return (bad ?? lines[0] ?? 'ffmpeg failed').replace(/^.*?:\s*(?=[A-Z])/, '');
}

export async function probeVideo(file: string): Promise<VideoInfo> {
  if (!existsSync(file)) throw new UserError(`${file}: no such file`, { file, fix: 'check the path' });
  // `ffmpeg -i` without an output prints the stream summary and exits 1; that is the probe.
  const { stderr } = await runFfmpeg(['-hide_banner', '-nostdin', '-i', file]);
  const stream = /Stream #\d+:\d+.*?: Video: [^\n]*?(\d{2,5})x(\d{2,5})/.exec(stderr);
  if (!stream) {
    const why = /Input #0/.test(stderr) ? 'no video stream in it' : ffmpegReason(stderr);
    throw new UserError(`${file}: not a readable video (${why})`, { file, fix: 'pass a video file (mp4, mov, mkv, avi, webm) or a folder of photos' });
  }
  const d = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  const fps = /Video: [^\n]*?, ([\d.]+) fps/.exec(stderr);
  const ct = /creation_time\s*:\s*(\S+)/.exec(stderr);
  const info: VideoInfo = {
    duration: d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : NaN,
    width: Number(stream[1]),
    height: Number(stream[2]),
    fps: fps ? Number(fps[1]) : NaN,
  };
  if (ct && !Number.isNaN(Date.parse(ct[1]!))) info.creationTime = new Date(ct[1]!).toISOString();
  return info;
}

/**
 * Sample frames at `fps` into outDir/frame_000001.jpg, ... (longest side at most maxSize).
 * ffmpeg applies the rotation metadata itself. `onFrame` is called as each frame is written.
 */
export async function extractFrames(
  file: string,
  outDir: string,
  opts: { fps: number; maxSize?: number; info: VideoInfo; onFrame?: (n: number) => void },
): Promise<ExtractedFrame[]> {
  const filters = [`fps=${opts.fps}`];
  if (opts.maxSize && Math.max(opts.info.width, opts.info.height) > opts.maxSize) {
    filters.push(`scale=w=${opts.maxSize}:h=${opts.maxSize}:force_original_aspect_ratio=decrease:flags=lanczos`);
  }
  filters.push('showinfo'); // one stderr line per written frame, with its time stamp
  const times: number[] = [];
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'info', '-i', file, '-an', '-vf', filters.join(','), '-q:v', '2', '-start_number', '1', path.join(outDir, 'frame_%06d.jpg')];
  const { code, stderr } = await runFfmpeg(args, (line) => {
    const m = /Parsed_showinfo.*\bn:\s*(\d+)\s+pts:\s*-?\d+\s+pts_time:\s*(-?[\d.e+-]+)/.exec(line);
    if (!m) return;
    times[Number(m[1])] = Number(m[2]);
    opts.onFrame?.(times.length);
  });
  if (code !== 0) {
    throw new UserError(`${file}: ffmpeg could not decode the video (${ffmpegReason(stderr)})`, { file, fix: 'check the file plays, or re-encode it (ffmpeg -i in -c:v libx264 out.mp4)' });
  }
  const frames: ExtractedFrame[] = [];
  for (let i = 0; i < times.length; i++) {
    const f = path.join(outDir, frameName(i + 1));
    if (!existsSync(f)) continue;
    frames.push({ index: i + 1, file: f, time: times[i] ?? i / opts.fps });
  }
  return frames;
}

export function frameName(index: number): string {
  return `frame_${String(index).padStart(6, '0')}.jpg`;
}
