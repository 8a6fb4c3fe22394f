/** `r2s import <colmap-model-dir | transforms.json> -w <ws>`: start from cameras computed elsewhere. */
import { importStage } from '../../stages/import.js';
import { stageCommand } from '../stage-command.js';

export const { summary, usage, run } = stageCommand(importStage, {
  json: (o, _ws, given) => ({ workspace: given, ...o.summary, masks: Number(o.summary.masks ?? 0), skipped: o.skipped }),
  line: (o, ws) => (o.skipped ? `import: ${ws.root} is up to date` : `import: wrote ${ws.root} (images/, sparse/, priors.json)`),
});
