/** `r2s train -w <ws>`: cameras and points → trained splat scene in ws/scene/. */
import { trainStage } from '../../stages/train.js';
import { stageCommand } from '../stage-command.js';

export const { summary, usage, run } = stageCommand(trainStage, {
  json: (o) => ({ ok: true, skipped: o.skipped, ...o.summary }),
  line: ({ summary: s, skipped }, ws) => (skipped ? null : `train: ${s.steps} steps, ${s.gaussians} Gaussians, ${Number(s.seconds).toFixed(1)} s → ${ws.splatsPlyPath}`),
});
