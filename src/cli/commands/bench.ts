/**
 * `r2s bench <target> ...`: micro-benchmarks. A dispatcher: each target is an entry in `targets`
 * (other engineers add theirs, e.g. `sfm`).
 */
import { parse, num } from '../args.js';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';

export const summary = 'benchmarks (r2s bench raster --splats N --width W --height H)';
export const usage = `r2s bench <target> [options] [--json]
targets:
  raster --splats N --width W --height H [--iterations K] [--sh-degree D]
         random scene of N Gaussians; prints forward ms, backward ms, sort ms, adapter, GPU memory`;

type Target = (argv: string[]) => Promise<number>;

const targets: Record<string, Target> = {
  raster: benchRasterCommand,
};

export async function run(argv: string[]): Promise<number> {
  const [target, ...rest] = argv;
  if (!target || target.startsWith('-')) {
    throw new UserError(`bench needs a target (${Object.keys(targets).join(', ')})`, { fix: `r2s bench raster --splats 100000 --width 1280 --height 720` });
  }
  const fn = targets[target];
  if (!fn) throw new UserError(`unknown bench target '${target}' (have: ${Object.keys(targets).join(', ')})`, { fix: 'see r2s bench --help' });
  return fn(rest);
}

async function benchRasterCommand(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { splats: { type: 'string' }, width: { type: 'string' }, height: { type: 'string' }, iterations: { type: 'string' }, 'sh-degree': { type: 'string' } },
    false,
  );
  const splats = num(values.splats, 'splats', 100_000);
  const width = num(values.width, 'width', 1280);
  const height = num(values.height, 'height', 720);
  const iterations = num(values.iterations, 'iterations', 3);
  const shDegree = num(values['sh-degree'], 'sh-degree', 3);
  for (const [k, v] of [['splats', splats], ['width', width], ['height', height], ['iterations', iterations]] as const) {
    if (!Number.isInteger(v) || v < (k === 'splats' ? 0 : 1)) throw new UserError(`--${k} must be a positive integer, got ${v}`);
  }
  if (!(Number.isInteger(shDegree) && shDegree >= 0 && shDegree <= 3)) throw new UserError(`--sh-degree must be 0..3, got ${shDegree}`);
  const { getDevice } = await import('../../gpu/device.js');
  if (!(await getDevice())) throw new UserError('no WebGPU adapter for the raster benchmark', { fix: 'run `r2s doctor`' });
  const { benchRaster } = await import('../../scene/raster/bench-raster.js');
  const r = await benchRaster({ splats, width, height, iterations, shDegree, onProgress: (m) => info(`bench raster: ${m}`) });
  if (values.json) {
    result(r);
    return 0;
  }
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  process.stdout.write(
    [
      `adapter:      ${r.adapter}${r.software ? ' (software)' : ''}`,
      `scene:        ${r.splats} Gaussians (${r.visible} visible, ${r.instances} tile instances), ${r.width}×${r.height}, SH degree ${r.shDegree}`,
      `forward:      ${r.forwardMs.toFixed(2)} ms (median of ${r.iterations}; fastest ${r.forwardMinMs.toFixed(2)})`,
      `backward:     ${r.backwardMs.toFixed(2)} ms (fastest ${r.backwardMinMs.toFixed(2)})`,
      `sort:         ${r.sortMs.toFixed(2)} ms (depth + tile sort, profiled run)`,
      `stages:       ${Object.entries(r.stages).map(([k, v]) => `${k.replace(/Ms$/, '')} ${v.toFixed(1)}`).join(', ')} ms`,
      `GPU memory:   ${mb(r.gpuMemoryBytes)} (${r.gpuMemoryBytes} bytes)`,
    ].join('\n') + '\n',
  );
  return 0;
}
