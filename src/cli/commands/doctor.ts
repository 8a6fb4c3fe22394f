import { probeDevice } from '../../gpu/device.js';
import { parse } from '../args.js';
import { result } from '../../util/log.js';
import type { TrainingPath } from '../../scene/path-check.js';

export const summary = 'check the WebGPU adapter (and fix headless NVIDIA Vulkan) and the tools r2s needs';
export const usage = 'r2s doctor [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {}, false);
  const probe = await probeDevice();
  const ffmpeg = await findFfmpegSafe();
  const training = await trainingPath();
  if (values.json) {
    result({ ...probe, ffmpeg, training });
    return probe.ok ? 0 : 1;
  }
  const out: string[] = [];
  if (probe.ok) {
    out.push(`adapter:   ${probe.adapterName}${probe.isSoftware ? '  (software: CPU rendering, slow but exact)' : ''}`);
    out.push(`vendor:    ${probe.vendor ?? ''}  architecture: ${probe.architecture ?? ''}`);
    if (probe.icdFix) out.push(`fix applied: headless NVIDIA Vulkan ICD written to ${probe.icdFix} (VK_ICD_FILENAMES)`);
    out.push(`features:  ${(probe.features ?? []).join(', ')}`);
    out.push('limits:');
    for (const [k, v] of Object.entries(probe.limits ?? {})) out.push(`  ${k.padEnd(36)} ${v}`);
  } else {
    out.push(`adapter:   none — ${probe.problem}`);
    out.push(`fix:       ${probe.fix}`);
  }
  out.push(`training:  ${TRAINING_PATH_NAMES[training.path]} — ${training.why}`);
  out.push(`ffmpeg:    ${ffmpeg ?? 'not found (video ingest needs it: apt-get install ffmpeg)'}`);
  process.stdout.write(out.join('\n') + '\n');
  return probe.ok ? 0 : 1;
}

const TRAINING_PATH_NAMES: Record<TrainingPath['path'], string> = {
  'gpu-resident': 'GPU-resident (parameters stay on the GPU)',
  'gpu-cpu-arrays': 'GPU rasterizer, CPU arrays',
  'cpu-reference': 'CPU reference rasterizer',
};

/** A 30-step training run on a small synthetic scene with lockstep checks (scene/path-check.ts). */
async function trainingPath(): Promise<TrainingPath> {
  const [{ renderSyntheticCapture }, { captureTrainData }, { createBackend }, { initTf }, { checkTrainingPath }] = await Promise.all([
    import('../../synthetic/generate.js'), import('../../synthetic/workspace.js'), import('../../scene/backend-factory.js'), import('../../scene/tf.js'), import('../../scene/path-check.js'),
  ]);
  await initTf('cpu');
  const data = await captureTrainData(renderSyntheticCapture({ views: 6, size: 32, detail: 0.15, seed: 5 }));
  return checkTrainingPath(data, await createBackend('gpu'));
}

async function findFfmpegSafe(): Promise<string | null> {
  try {
    const mod = await import('../../io/ffmpeg.js');
    return mod.findFfmpeg();
  } catch {
    return null;
  }
}
