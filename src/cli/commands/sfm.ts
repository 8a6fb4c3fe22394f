/** `r2s sfm -w <ws>`: cameras and sparse points → ws/sparse/ (COLMAP text + binary, frame.json). */
import { sfmStage } from '../../stages/sfm.js';
import { stageCommand } from '../stage-command.js';

export const { summary, usage, run } = stageCommand(sfmStage, {
  json: (o) => ({ ok: true, skipped: o.skipped, ...o.summary }),
  line: ({ summary: s }) =>
    `sfm: ${s.registered}/${s.total} images registered, ${s.points} points, mean track ${s.meanTrackLength}, reprojection ${s.meanReprojError} px, scale ${s.frame?.scale}`,
  extra: ({ summary: s }) => (s.failed ?? []).map((f) => `  not registered: ${f.name} — ${f.reason}`),
});
