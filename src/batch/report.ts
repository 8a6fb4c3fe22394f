/**
 * The end of a batch: `batch-report.json` (machine-readable) and `report.html` (one row per
 * capture: status, timings, registered images, PSNR, assets, thumbnails) in the output root. The
 * HTML is plain and self-contained — inline CSS, thumbnails as relative <img> links into the
 * workspaces — so it opens from the file system or any static server.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/fsx.js';
import type { JobState } from './queue.js';
import type { Pipeline } from './pipeline-types.js';

export interface CaptureReport {
  capture: string;
  workspace: string;
  input: string;
  status: 'done' | 'failed' | 'running' | 'waiting';
  /** the failed stage and its one-line error */
  failedStage?: string;
  error?: string;
  /** seconds per stage (the successful try) */
  seconds: Record<string, number>;
  totalSeconds: number;
  images?: number;
  registered?: number;
  psnr?: number;
  ssim?: number;
  /** assets extracted (the extract job's result, else the workspace's assets/catalog.json) */
  assets?: number;
  /** objects extract --auto found on the ground (listed, or extracted with --all / --pick) */
  assetsFound?: number;
  /** thumbnails, relative to the output root */
  thumbnails: string[];
}

export interface BatchReport {
  pipeline: string;
  file: string;
  backend: string;
  output: string;
  finishedAt: string;
  captures: CaptureReport[];
  totals: { captures: number; done: number; failed: number; jobs: number; jobsDone: number };
}

export function buildReport(p: Pipeline, backend: string, states: readonly JobState[]): BatchReport {
  const captures = p.captures.map((c): CaptureReport => {
    const jobs = states.filter((s) => s.capture === c.name);
    const failed = jobs.find((j) => j.status === 'failed');
    const status = failed ? 'failed' : jobs.length && jobs.every((j) => j.status === 'done') ? 'done' : jobs.some((j) => j.status === 'running') ? 'running' : 'waiting';
    const seconds = Object.fromEntries(jobs.filter((j) => j.status === 'done').map((j) => [j.stage, round(j.seconds ?? 0)]));
    return {
      capture: c.name,
      workspace: path.relative(p.output, c.workspace),
      input: c.input,
      status,
      ...(failed ? { failedStage: failed.stage, error: failed.error ?? 'failed' } : {}),
      seconds,
      totalSeconds: round(Object.values(seconds).reduce((a, b) => a + b, 0)),
      ...figures(c.workspace),
      ...extractFigures(jobs.find((j) => j.stage === 'extract' && j.status === 'done')?.result),
      thumbnails: thumbnails(c.workspace).map((t) => path.relative(p.output, t)),
    };
  });
  return {
    pipeline: p.name,
    file: p.file,
    backend,
    output: p.output,
    finishedAt: new Date().toISOString(),
    captures,
    totals: {
      captures: captures.length,
      done: captures.filter((c) => c.status === 'done').length,
      failed: captures.filter((c) => c.status === 'failed').length,
      jobs: states.length,
      jobsDone: states.filter((s) => s.status === 'done').length,
    },
  };
}

export async function writeReports(report: BatchReport): Promise<{ json: string; html: string }> {
  const json = path.join(report.output, 'batch-report.json');
  const html = path.join(report.output, 'report.html');
  await writeJsonAtomic(json, report);
  await writeFileAtomic(html, renderHtml(report));
  return { json, html };
}

/** Registered images, PSNR and assets from the workspace's own files. */
function figures(ws: string): Pick<CaptureReport, 'images' | 'registered' | 'psnr' | 'ssim' | 'assets'> {
  const out: Pick<CaptureReport, 'images' | 'registered' | 'psnr' | 'ssim' | 'assets'> = {};
  const priors = readJson<{ images?: unknown[] }>(path.join(ws, 'priors.json'));
  if (priors?.images) out.images = priors.images.length;
  const imagesTxt = path.join(ws, 'sparse', 'images.txt');
  if (existsSync(imagesTxt)) {
    // Two lines per registered image (pose, then its 2D points); comments start with '#'.
    const lines = readFileSync(imagesTxt, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    out.registered = Math.ceil(lines.length / 2);
  }
  const metrics = readJson<{ psnr?: number; ssim?: number }>(path.join(ws, 'eval', 'metrics.json'));
  if (typeof metrics?.psnr === 'number') out.psnr = round(metrics.psnr);
  if (typeof metrics?.ssim === 'number') out.ssim = round(metrics.ssim, 3);
  const catalog = readJson<{ assets?: unknown[] } | unknown[]>(path.join(ws, 'assets', 'catalog.json'));
  if (catalog) out.assets = Array.isArray(catalog) ? catalog.length : (catalog.assets?.length ?? 0);
  return out;
}

/** What the extract job reported: the assets it wrote (the library may be outside the workspace) and the objects --auto found. */
function extractFigures(result: Record<string, unknown> | undefined): Pick<CaptureReport, 'assets' | 'assetsFound'> {
  if (!result) return {};
  const out: Pick<CaptureReport, 'assets' | 'assetsFound'> = {};
  if (Array.isArray(result.assets)) out.assets = result.assets.length;
  if (Array.isArray(result.candidates)) out.assetsFound = result.candidates.length;
  return out;
}

/** Up to three pictures: asset thumbnails, else held-out renders, else the first input image. */
function thumbnails(ws: string): string[] {
  const pngs = (dir: string, re = /\.(png|jpe?g|webp)$/i) => (existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => path.join(dir, f)) : []);
  const assetsDir = path.join(ws, 'assets');
  const assetThumbs = existsSync(assetsDir)
    ? readdirSync(assetsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(assetsDir, d.name, 'thumbnail.png')).filter(existsSync)
    : [];
  if (assetThumbs.length) return assetThumbs.slice(0, 3);
  const evalPics = pngs(path.join(ws, 'eval'));
  if (evalPics.length) return evalPics.slice(0, 2);
  return pngs(path.join(ws, 'images')).slice(0, 1);
}

function renderHtml(r: BatchReport): string {
  const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const stages = [...new Set(r.captures.flatMap((c) => Object.keys(c.seconds)))];
  const rows = r.captures
    .map((c) => {
      const times = stages.map((s) => `<td class="num">${c.seconds[s] !== undefined ? `${c.seconds[s]} s` : ''}</td>`).join('');
      const thumbs = c.thumbnails.map((t) => `<a href="${esc(t)}"><img src="${esc(t)}" alt="${esc(path.basename(t))}"></a>`).join('');
      const status = c.status === 'failed' ? `<b class="bad">failed</b> at ${esc(c.failedStage)}<div class="err">${esc(c.error)}</div>` : `<b class="${c.status === 'done' ? 'ok' : ''}">${esc(c.status)}</b>`;
      const reg = c.registered !== undefined ? `${c.registered}${c.images !== undefined ? ` / ${c.images}` : ''}` : c.images !== undefined ? `– / ${c.images}` : '';
      return `<tr><td><a href="${esc(c.workspace)}/">${esc(c.capture)}</a><div class="src">${esc(c.input)}</div></td><td>${status}</td>${times}<td class="num">${c.totalSeconds} s</td><td class="num">${reg}</td><td class="num">${c.psnr ?? ''}</td><td class="num">${c.assets ?? ''}${c.assetsFound !== undefined && c.assetsFound !== c.assets ? ` <span class="src">(${c.assetsFound} found)</span>` : ''}</td><td class="thumbs">${thumbs}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>r2s batch: ${esc(r.pipeline)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:6px 10px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37}.bad{color:#c62828}.err{color:#c62828;font-size:12px;max-width:28em}.src{color:#888;font-size:11px}
.thumbs img{height:64px;margin-right:4px;image-rendering:pixelated;border:1px solid #ccc}
</style></head><body>
<h1>${esc(r.pipeline)}</h1>
<p>${r.totals.done} of ${r.totals.captures} captures done, ${r.totals.failed} failed · ${r.totals.jobsDone}/${r.totals.jobs} jobs · backend ${esc(r.backend)} · ${esc(r.finishedAt)} · <code>${esc(r.file)}</code></p>
<table><thead><tr><th>capture</th><th>status</th>${stages.map((s) => `<th>${esc(s)}</th>`).join('')}<th>total</th><th>registered</th><th>PSNR (dB)</th><th>assets</th><th>thumbnails</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
