/** `r2s ingest <photos-dir | video-file> -w <workspace>`: images + priors.json for sfm. */
import { ingestStage } from '../../stages/ingest.js';
import { stageCommand } from '../stage-command.js';

const list = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';

export const { summary, usage, run } = stageCommand(ingestStage, {
  json: (o, ws, given) => ({ ok: true, workspace: given, skipped: o.skipped, ...o.summary, priors: ws.priorsPath }),
  line: ({ summary: s, skipped }, ws) =>
    `ingest: ${s.images} ${s.kind === 'video' ? 'frames' : 'photos'} kept, ${s.dropped} dropped (${list(s.droppedBy)}); focal: ${list(s.focalSources)}; GPS: ${s.gps}` +
    (s.masks ? `; masks: ${s.masks}` : '') +
    `${skipped ? ' (up to date)' : ''} → ${ws.priorsPath}`,
});
