/** `r2s synth <ws>`: a synthetic workspace with exact cameras and points (see src/synthetic/). */
import { synthStage } from '../../stages/synth.js';
import { stageCommand } from '../stage-command.js';

export const { summary, usage, run } = stageCommand(synthStage, {
  json: (o, ws) => ({ workspace: ws.root, ...o.summary, seconds: o.record.seconds }),
  line: ({ summary: s }, ws) => `synth: ${s.views} views ${s.width}×${s.height} of ${s.gaussians} Gaussians → ${ws.root}`,
});
