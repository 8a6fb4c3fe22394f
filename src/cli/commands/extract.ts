/**
 * `r2s extract -w <ws> (--box FILE|SPEC | --masks DIR | --auto [--pick N | --all]) [--library DIR]`:
 * cut objects out of the trained scene into the asset library, through the stage runner like the
 * other stage commands. The stage takes no workspace lock (its spec says `lock: 'none'`: it only
 * reads the workspace; the library's catalog has its own lock), so several extracts may run at once.
 */
import type { Workspace } from '../../pipeline/workspace.js';
import { extractStage, type ExtractSummary } from '../../stages/extract.js';
import { stageCommand } from '../stage-command.js';

export const { summary, usage, run } = stageCommand(extractStage, {
  json: (o, _ws, given) => ({ ok: true, workspace: given, seconds: o.seconds, ...o.summary }),
  line: () => null,
  extra: (o, ws) => lines(o.summary, ws),
  stdout: true,
});

const f = (v: number, d = 3) => v.toFixed(d);

function lines(s: ExtractSummary, ws: Workspace): string[] {
  const u = s.units === 'm' ? 'm' : 'units';
  const out: string[] = [];
  if (s.mode === 'auto') {
    const g = s.ground;
    out.push(`extract --auto: ${s.candidates.length} object(s) standing on the ground of ${ws.root}` +
      (g ? ` (ground by ${g.method === 'up' ? 'the scene\'s up' : 'RANSAC'}, ${g.inliers} inliers, threshold ${f(g.threshold * s.scale.factor)} ${u}; scale ${s.scale.kind}${s.scale.kind === 'metric' ? ` from ${s.scale.method}` : ''})` : ''));
    if (s.candidates.length) {
      out.push(`  ${'rank'.padEnd(5)}${`extents (${u}: x × y-up × z, as written)`.padEnd(38)}${'centre (scene)'.padEnd(28)}${'score'.padEnd(8)}Gaussians`);
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
