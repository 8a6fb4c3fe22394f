/**
 * The child process of one batch job: `node --import tsx src/batch/job-main.ts '<job JSON>'`.
 * It does what `r2s <stage> -w WS --json …` does — validate the options with the stage's schema
 * and run the stage through the one runner (lock, freshness, skip when up to date, record) — and
 * speaks the CLI's --json protocol: progress lines on stderr, the result as the last stdout line,
 * a failure as one `r2s <stage>: …` line on stderr and exit code 1. Going through the runner
 * rather than the command line keeps the options typed end to end (no flag round trip) and does
 * not depend on how src/cli parses words.
 */
import './orphan-guard.js';
import { setJsonMode, result } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

interface JobArgs {
  stage: string;
  workspace: string;
  options: Record<string, unknown>;
  resume: boolean;
  /** what the workspace lock says its holder runs */
  command: string;
}

async function main(): Promise<number> {
  const job = JSON.parse(process.argv[2] ?? '{}') as JobArgs;
  setJsonMode(true); // progress as JSON lines, like `r2s <stage> --json`
  try {
    // Only this job's stage module (and those it checks are current): src/stages/catalog.ts loads
    // stages on demand, so an ingest or import job does not wait for tfjs to load.
    const { loadStage, lazyRunner: runner } = await import('../stages/catalog.js');
    const { parseStageOptions } = await import('../pipeline/stage.js');
    const spec = await loadStage(job.stage);
    if (!spec) throw new Error(`stage '${job.stage}' is not available in this build`);
    const options = parseStageOptions(spec, { ...job.options, ...(job.resume ? { resume: true } : {}) });
    const out = await runner.run(spec, job.workspace, options, { command: job.command });
    result({ ok: true, skipped: out.skipped, ...out.summary });
    return 0;
  } catch (e) {
    if (process.env.R2S_DEBUG === '1') console.error(e);
    process.stderr.write(`r2s ${job.stage}: ${errorMessage(e)}\n`);
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
  // Dawn and worker pools can keep the event loop alive; the job is done here.
  setTimeout(() => process.exit(code), 50).unref();
});
