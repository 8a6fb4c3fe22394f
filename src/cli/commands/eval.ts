/** `r2s eval -w <ws>`: score the trained scene on the held-out views (every 8th image). */
import { evalStage } from '../../stages/eval.js';
import { stageCommand } from '../stage-command.js';

export const { summary, usage, run } = stageCommand(evalStage, {
  json: (o) => ({ ok: true, skipped: o.skipped, ...o.summary }),
  line: ({ summary: s }, ws) => `eval: PSNR ${Number(s.psnr).toFixed(2)} dB, SSIM ${Number(s.ssim).toFixed(4)} on ${s.views} held-out views → ${ws.metricsPath}`,
});
