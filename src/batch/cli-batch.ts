/**
 * `r2s batch PIPELINE.yaml [--redis URL]` and `r2s batch status`: validate the whole pipeline
 * before any work, submit its jobs, drive them (locally, or by waiting for workers) with a live
 * table, then write batch-report.json and report.html. src/cli/commands/batch.ts re-exports this.
 * One batch at a time on an output root: it is locked like a workspace (`<output>/.r2s.lock`,
 * src/pipeline/lock.ts), so a second batch on it is refused with one line naming the first.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UserError, errorMessage, fsError } from '../util/errors.js';
import { acquireWorkspaceLock } from '../pipeline/lock.js';
import { writeJsonAtomic } from '../util/fsx.js';
import { result, isJsonMode } from '../util/log.js';
import { loadStageCatalog, type StageCatalog } from './stage-bridge.js';
import { loadPipeline } from './pipeline-file.js';
import { planJobs, type JobSpec, type Pipeline } from './pipeline-types.js';
import { openQueue } from './queue-factory.js';
import { createLiveTable, renderTable, type LiveTable } from './live-table.js';
import { buildReport, writeReports } from './report.js';
import { allSettled } from './queue.js';

export const summary = 'run a YAML pipeline over many captures (local SQLite queue, or BullMQ workers with --redis); `batch status` shows progress';
export const usage = `r2s batch <pipeline.yaml> [options]       run every capture through the pipeline's stages
r2s batch status <pipeline.yaml | output-dir> [--redis URL]   captures × stages, from either backend
  --input PATH|GLOB   replace the pipeline's inputs (repeatable; relative to the current folder)
  --output DIR        replace the pipeline's output root
  --set S.O=V         set option O of stage S for this run, e.g. --set train.iterations=300
                      (repeatable; checked like the YAML; a changed option re-runs that stage)
  --workers N         jobs at once on this machine (default: the pipeline's concurrency)
  --redis URL         enqueue in BullMQ on this Redis (redis://host:6379) and wait for
                      \`r2s worker --redis URL\` processes (on any machine sharing the output root)
  --queue NAME        BullMQ queue name (default r2s)
  --check             validate the pipeline and list the jobs, run nothing
  --json              machine-readable summary as the last line`;

/** What `batch` remembers in the output root for `batch status` and re-runs. */
interface BatchMeta {
  pipeline: string;
  backend: 'sqlite' | 'bullmq';
  redis?: string;
  queueName?: string;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        input: { type: 'string', multiple: true },
        output: { type: 'string' },
        workers: { type: 'string' },
        set: { type: 'string', multiple: true },
        redis: { type: 'string' },
        queue: { type: 'string' },
        check: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UserError((e as Error).message.split('\n')[0]!, { fix: 'see r2s batch --help' });
  }
}

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'status') return status(argv.slice(1));
  const { values, positionals } = parse(argv);
  const file = positionals[0];
  if (!file) throw new UserError('no pipeline given', { fix: 'r2s batch pipelines/drive-footage.yaml' });
  const workers = values.workers !== undefined ? Number(values.workers) : undefined;
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new UserError(`--workers must be a whole number ≥ 1, got '${values.workers}'`);
  const catalog = await loadStageCatalog();
  const pipeline = loadPipeline(file, catalog, { ...(values.input ? { inputs: values.input } : {}), ...(values.output ? { output: values.output } : {}), ...(workers ? { concurrency: workers } : {}), ...(values.set ? { set: values.set } : {}) });
  const jobs = planJobs(pipeline, (s) => catalog.stages.get(s)?.inputOption);
  const table = createLiveTable();
  for (const s of pipeline.skippedStages) table.note(`${s}: not available in this build; left out (when-available)`);
  if (values.check) {
    process.stderr.write(`${file}: ${pipeline.captures.length} captures × ${pipeline.stages.length} stages = ${jobs.length} jobs → ${pipeline.output}\n`);
    for (const c of pipeline.captures) process.stderr.write(`  ${c.name}  ${c.input}\n`);
    if (values.json) result({ ok: true, captures: pipeline.captures.length, stages: pipeline.stages.map((s) => s.stage), jobs: jobs.length });
    return 0;
  }
  const release = lockOutputRoot(pipeline.output, `r2s batch ${file}`);
  try {
    return await runLocked({ pipeline, jobs, table, catalog, values });
  } finally {
    release();
  }
}

/**
 * Take the output root's lock. Signals stay with the batch (it stops its jobs, then reports); the
 * lock goes when the process goes, and one left by a dead batch is taken over.
 */
function lockOutputRoot(output: string, command: string): () => void {
  try {
    mkdirSync(output, { recursive: true });
  } catch (e) {
    throw fsError(e, output);
  }
  try {
    return acquireWorkspaceLock(output, command, { signals: false });
  } catch (e) {
    if (e instanceof UserError && e.message.startsWith('workspace ')) {
      throw new UserError(`batch output ${e.message.slice('workspace '.length)}`, { file: output, fix: `wait for that batch to finish (\`r2s batch status ${output}\` shows it), or stop it` });
    }
    throw e;
  }
}

/** Submit the jobs, drive them to the end, write the reports (under the output root's lock). */
async function runLocked(r: { pipeline: Pipeline; jobs: JobSpec[]; table: LiveTable; catalog: StageCatalog; values: ReturnType<typeof parse>['values'] }): Promise<number> {
  const { pipeline, jobs, table, catalog, values } = r;
  const queue = await openQueue({ output: pipeline.output, ...(values.redis ? { redis: values.redis } : {}), ...(values.queue ? { queueName: values.queue } : {}), catalog });
  const meta: BatchMeta = { pipeline: pipeline.file, backend: queue.backend, ...(values.redis ? { redis: values.redis, queueName: values.queue ?? 'r2s' } : {}) };
  await writeJsonAtomic(path.join(pipeline.output, 'batch.json'), meta);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let timer: NodeJS.Timeout | undefined;
  try {
    await queue.submit(jobs);
    const refresh = async () => table.update(await queue.snapshot());
    timer = setInterval(() => void refresh().catch(() => {}), 1000);
    await queue.runToCompletion({
      concurrency: pipeline.concurrency,
      gpus: pipeline.gpus,
      output: pipeline.output,
      signal: stop.signal,
      onEvent: (e) => table.note(e.message),
    });
    clearInterval(timer);
    const states = await queue.snapshot();
    table.finish(states);
    const report = buildReport(pipeline, queue.backend, states);
    const files = await writeReports(report);
    process.stderr.write(`batch: ${report.totals.done}/${report.totals.captures} captures done, ${report.totals.failed} failed → ${files.html}\n`);
    if (values.json || isJsonMode()) result({ ok: report.totals.failed === 0 && allSettled(states), ...report.totals, report: files.json, html: files.html });
    if (stop.signal.aborted) return 130;
    return report.totals.failed > 0 ? 1 : 0;
  } finally {
    if (timer) clearInterval(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await queue.close();
  }
}

/** `r2s batch status <pipeline.yaml | output-dir>`. */
async function status(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const target = positionals[0];
  if (!target) throw new UserError('batch status needs the pipeline or its output folder', { fix: 'r2s batch status pipelines/drive-footage.yaml' });
  let output: string;
  if (existsSync(target) && statSync(target).isDirectory()) output = path.resolve(target);
  else output = loadPipeline(target, await loadStageCatalog(), values.output ? { output: values.output } : {}).output;
  if (values.output) output = path.resolve(values.output);
  const metaFile = path.join(output, 'batch.json');
  if (!existsSync(metaFile)) throw new UserError(`${output}: no batch has run here`, { file: output, fix: `run r2s batch ${target}` });
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as BatchMeta;
  const redis = values.redis ?? meta.redis;
  let queue: Awaited<ReturnType<typeof openQueue>>;
  try {
    queue = await openQueue({ output, ...(redis ? { redis, queueName: values.queue ?? meta.queueName ?? 'r2s' } : {}), catalog: null });
  } catch (e) {
    if (!redis) throw e;
    // Redis away: the output root still knows every finished job.
    const { BullmqQueue } = await import('./queue-bullmq.js');
    const states = BullmqQueue.offlineSnapshot(output);
    process.stderr.write(`batch status: ${errorMessage(e).replace(/ \(fix: .*\)$/, '')}; showing the finished jobs recorded in ${output}\n`);
    if (values.json) result({ backend: 'bullmq', output, redis: 'unreachable', jobs: states });
    else process.stdout.write(`bullmq (redis unreachable) · ${output}\n${renderTable(states).join('\n')}\n`);
    return 0;
  }
  try {
    const states = await queue.snapshot();
    if (values.json) result({ backend: queue.backend, output, jobs: states });
    else process.stdout.write(`${queue.backend} · ${output}\n${renderTable(states).join('\n')}\n`);
    return 0;
  } finally {
    await queue.close();
  }
}
