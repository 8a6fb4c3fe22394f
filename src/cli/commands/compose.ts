/**
 * `r2s compose [--scene WS] --place ID@x,y,z[,yaw[,scale]] ... | --arrangement FILE -o OUT [--library DIR]`:
 * place library assets into a scene and write OUT.ply, OUT.spz (the combined splats) and OUT.glb
 * (the meshes and colliders at the same transforms).
 *
 * Frames: with --scene, the output is in the workspace's scene frame and its trained splats are
 * the background. A --place position is in scene coordinates, its yaw turns about the scene's up
 * (sparse/frame.json or user-frame.json) and its scale multiplies the asset's size: the asset's
 * +Y goes to the scene's up and its metres become scene units (÷ the metric factor), so an asset
 * placed at a ground point stands on the ground. A viewer arrangement (items with quaternions,
 * saved by r2s view) is already in workspace coordinates and is taken as it is. Without --scene
 * the output is in the assets' own frame (+Y up, metres) with no background.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Option } from 'commander';
import { UserError } from '../../util/errors.js';
import { info, result } from '../../util/log.js';
import { composeScene, parseArrangement, parsePlacement, type Placement } from '../../assets/compose.js';
import { rotationUpToY } from '../../assets/export/frame.js';
import { matToQuat, quatToMat } from '../../geometry/rotation.js';
import { readGaussianPly } from '../../io/ply.js';
import { Workspace } from '../../pipeline/workspace.js';
import { sceneFrame } from '../../stages/extract.js';
import { commanderError, quietCommand } from '../args.js';

export const summary = 'place library assets into a scene → combined .ply/.spz splats and a .glb of meshes and colliders';
export const usage = `usage: r2s compose [--scene WS] (--place ID@x,y,z[,yaw[,scale]] ... | --arrangement FILE) -o OUT [options]

  --scene WS          workspace whose trained splats are the background; positions are in its
                      scene frame, yaw (degrees) about its up, scale a multiplier of the asset's size
  --place SPEC        ID@x,y,z[,yaw[,scale]] (repeat for more assets)
  --arrangement FILE  placements saved by the viewer ({"version":1,"items":[...]}) or
                      {"kind":"r2s.arrangement","placements":[{"asset","position","yaw","scale"}]}
  -o, --out OUT       output prefix: writes OUT.ply, OUT.spz, OUT.glb and OUT.usda (a folder: DIR/composed.*)
  --library DIR       asset library folder (default: ./assets)
  --json              print a machine-readable result as the last line`;

export async function run(argv: string[]): Promise<number> {
  const cmd = quietCommand('r2s compose')
    .addOption(new Option('--scene <ws>'))
    .addOption(new Option('--place <spec>').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--arrangement <file>'))
    .addOption(new Option('-o, --out <out>'))
    .addOption(new Option('--library <dir>'))
    .addOption(new Option('--json'));
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    throw commanderError(e, 'r2s compose --help');
  }
  if (cmd.args.length) throw new UserError(`unexpected argument '${cmd.args[0]}'`, { fix: 'see r2s compose --help' });
  const o = cmd.opts<{ scene?: string; place?: string[]; arrangement?: string; out?: string; library?: string; json?: boolean }>();
  if (!o.out) throw new UserError('no output given', { fix: 'pass -o OUT (writes OUT.ply, OUT.spz and OUT.glb)' });
  if (!o.place?.length && !o.arrangement) throw new UserError('no placements given', { fix: 'pass --place ID@x,y,z[,yaw[,scale]] (repeatable) or --arrangement FILE' });
  if (o.place?.length && o.arrangement) throw new UserError('--place and --arrangement do not go together', { fix: 'pass one of them' });
  const library = path.resolve(o.library ?? 'assets');
  const out = outputPrefix(o.out);

  // placements: [placement, whether it is given about the scene's up (CLI / r2s arrangement) or as-is (viewer)]
  let placements: { p: Placement; upright: boolean }[];
  if (o.arrangement) {
    const file = o.arrangement;
    if (!existsSync(file)) throw new UserError(`${file}: no such arrangement file`, { file, fix: 'save one from r2s view (Assets → Save arrangement)' });
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`, { file, fix: 'save the arrangement again' });
    }
    const viewer = Array.isArray((json as { items?: unknown } | null)?.items);
    placements = parseArrangement(json, file).map((p) => ({ p, upright: !viewer }));
  } else {
    placements = o.place!.map((s) => ({ p: parsePlacement(s), upright: true }));
  }

  let base: { params: import('../../core/gaussians.js').GaussianParams; shDegree: number } | undefined;
  let usd: { metersPerUnit: number; up: [number, number, number] } | undefined;
  if (o.scene) {
    const ws = new Workspace(o.scene);
    if (!ws.hasTrainedScene()) throw new UserError(`${ws.root}: no trained scene (scene/splats.ply)`, { file: ws.root, fix: `run \`r2s train -w ${ws.root}\` first, or leave out --scene` });
    const frame = sceneFrame(ws, false);
    base = await readGaussianPly(ws.splatsPlyPath);
    const up = frame.up ?? [0, 0, 1];
    const toScene = transpose(rotationUpToY(up as [number, number, number])); // asset +Y → scene up
    const unitsPerMetre = frame.scale === 'metric' ? 1 / frame.factor : 1;
    usd = { metersPerUnit: frame.scale === 'metric' ? frame.factor : 1, up: up as [number, number, number] };
    placements = placements.map(({ p, upright }) => {
      if (!upright) return { p, upright };
      // scene ← asset: R = (Y → up) · yaw about Y, s = scale / factor
      const R = mul(toScene, quatToMat(p.rotation));
      return { p: { ...p, rotation: matToQuat(R) as Placement['rotation'], scale: p.scale * unitsPerMetre }, upright };
    });
  }
  const r = await composeScene({ library, placements: placements.map((x) => x.p), base, out, usd });
  if (o.json) result({ ok: true, ...r });
  else info(`compose: ${r.placements} placement(s), ${r.gaussians} Gaussians → ${r.files.ply}, ${r.files.spz}, ${r.files.glb}, ${r.files.usd}`);
  return 0;
}

/**
 * The output prefix of `-o`: a folder (an existing one, or a path ending in "/") gets
 * `<folder>/composed`; a known extension is dropped; a prefix that names no file (`-o .ply`,
 * `-o out/.spz`, which would write hidden files) is refused.
 */
function outputPrefix(arg: string): string {
  let isDir = false;
  try {
    isDir = statSync(arg).isDirectory();
  } catch {
    // not there yet: a new prefix
  }
  const prefix = isDir || /[\\/]$/.test(arg) ? path.join(arg, 'composed') : arg.replace(/\.(ply|spz|glb)$/i, '');
  const base = path.basename(prefix);
  if (!base || base.startsWith('.') || /[\\/]$/.test(prefix)) {
    throw new UserError(`-o ${arg} names no output file (it would write a hidden ${prefix}.ply)`, {
      fix: 'pass -o DIR/NAME (writes DIR/NAME.ply, .spz and .glb) or a folder -o DIR/ (writes DIR/composed.*)',
    });
  }
  return prefix;
}

function transpose(R: number[]): number[] {
  return [R[0]!, R[3]!, R[6]!, R[1]!, R[4]!, R[7]!, R[2]!, R[5]!, R[8]!];
}

function mul(A: ArrayLike<number>, B: ArrayLike<number>): number[] {
  return [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => A[3 * r]! * B[c]! + A[3 * r + 1]! * B[3 + c]! + A[3 * r + 2]! * B[6 + c]!));
}
