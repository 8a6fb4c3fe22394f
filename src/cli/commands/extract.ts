/**
 * `r2s extract -w <ws> (--box FILE|SPEC | --masks DIR | --auto [--pick N | --all]) [--library DIR]`:
 * cut objects out of the trained scene into the asset library. Flags come from the stage's schema;
 * unlike the other stage commands it does not take the workspace lock (it only reads the
 * workspace; the library's catalog has its own lock), so several extracts may run at once.
 */
import type { z } from 'zod';
import { Workspace } from '../../pipeline/workspace.js';
import { lazyRunner } from '../../stages/catalog.js';
import { extractStage, type ExtractSummary } from '../../stages/extract.js';
import type { StageContext } from '../../pipeline/stage.js';
import { processSignal } from '../../pipeline/lock.js';
import { Progress } from '../../util/progress.js';
import { info, result, warn } from '../../util/log.js';
import { parseSchemaArgs, schemaUsage, type SchemaCommandSpec } from '../schema-command.js';

export const summary = extractStage.summary;

const schema: SchemaCommandSpec = { name: 'extract', summary, options: extractStage.options };

export const usage = schemaUsage(schema);

export async function run(argv: string[]): Promise<number> {
  const a = parseSchemaArgs<z.infer<typeof extractStage.options>>(schema, argv);
  const ws = new Workspace(a.workspace);
  const t0 = Date.now();
  const plan = await extractStage.plan(ws, a.options, { force: true });
  await lazyRunner.checkChain(extractStage, ws); // a stale scene is refused, as the runner would
  const silent = process.env.R2S_QUIET === '1';
  const ctx: StageContext = {
    progress: (label, total) => new Progress(label, total, { silent }),
    signal: processSignal,
    log: { info: (m) => { if (!silent) info(m); }, warn },
    silent,
  };
  const started = new Date();
  const s = await extractStage.run(ws, a.options, ctx);
  if (!s.listed) {
    // the record is informative (what was cut, from which inputs); an unwritable workspace does not fail the extract
    try {
      await ws.writeRecord(await ws.makeRecord('extract', plan, started, s as unknown as Record<string, unknown>));
    } catch (e) {
      warn(`could not write ${ws.stagePath('extract')} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  if (a.json) result({ ok: true, workspace: a.workspace, seconds, ...s });
  else for (const l of lines(s, ws)) process.stdout.write(l + '\n');
  return 0;
}

const f = (v: number, d = 3) => v.toFixed(d);

function lines(s: ExtractSummary, ws: Workspace): string[] {
  const u = s.units === 'm' ? 'm' : 'units';
  const out: string[] = [];
  if (s.mode === 'auto') {
    const g = s.ground;
    out.push(`extract --auto: ${s.candidates.length} object(s) standing on the ground of ${ws.root}` +
      (g ? ` (ground by ${g.method === 'up' ? 'the scene\'s up' : 'RANSAC'}, ${g.inliers} inliers, threshold ${f(g.threshold * s.scale.factor)} ${u}; scale ${s.scale.kind}${s.scale.kind === 'metric' ? ` from ${s.scale.method}` : ''})` : ''));
    if (s.candidates.length) {
      out.push(`  ${'rank'.padEnd(5)}${`extents (${u}: long × short × height)`.padEnd(38)}${'centre (scene)'.padEnd(28)}${'score'.padEnd(8)}Gaussians`);
      for (const c of s.candidates) {
        out.push(`  ${String(c.rank).padEnd(5)}${c.extents.map((v) => f(v)).join(' × ').padEnd(38)}${c.centre.map((v) => f(v, 2)).join(', ').padEnd(28)}${f(c.score, 3).padEnd(8)}${c.gaussians}`);
      }
    }
    if (s.listed) out.push(s.candidates.length ? `extract one with --pick N, or every one with --all (writes to --library, default ./assets)` : 'nothing found: select the object with --box or --masks');
  }
  for (const a of s.assets) {
    const q = a.quality.maskIoU !== undefined ? `, mask IoU ${f(a.quality.maskIoU, 4)} on ${a.quality.maskedViews} masked view(s)` : '';
    out.push(`extract: ${a.id} — ${a.gaussians} Gaussians, ${a.triangles} triangles, ${a.extentsM.map((v) => f(v)).join(' × ')} ${u} (x × y-up × z)${q} → ${a.dir}`);
  }
  return out;
}
