// Loading a splat file into a Spark SplatMesh, with a readable error when the file is bad.
import { SplatMesh, SplatFileType } from '@sparkjsdev/spark';
import type { SplatFormat } from '../../src/viewer-server/protocol.js';
import { fetchBytes, showWarning } from './ui.js';
import { dropNonFinite } from './finite.js';

const FILE_TYPES: Record<SplatFormat, SplatFileType> = {
  ply: SplatFileType.PLY,
  spz: SplatFileType.SPZ,
  splat: SplatFileType.SPLAT,
};

/** Checks Spark does not make: it would otherwise hang or render nothing on some bad files. */
function checkHeader(bytes: Uint8Array, format: SplatFormat, name: string): void {
  if (bytes.length === 0) throw new Error(`${name} is empty`);
  if (format === 'ply') {
    const head = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
    if (!head.startsWith('ply')) throw new Error(`${name} is not a PLY file (no "ply" magic)`);
    if (!head.includes('end_header')) throw new Error(`${name}: PLY header is incomplete (no end_header)`);
    const m = /element vertex (\d+)/.exec(head);
    if (!m || Number(m[1]) === 0) throw new Error(`${name}: PLY has no vertices`);
    for (const p of ['x', 'y', 'z', 'opacity', 'scale_0', 'rot_0']) {
      if (!new RegExp(`property \\w+ ${p}\\b`).test(head)) throw new Error(`${name}: PLY is not a Gaussian splat file (no "${p}" property)`);
    }
  } else if (format === 'splat' && bytes.length % 32 !== 0) {
    throw new Error(`${name}: .splat size ${bytes.length} is not a multiple of 32 bytes`);
  }
}

export async function loadSplats(
  url: string,
  format: SplatFormat,
  name: string,
  onProgress: (phase: string, fraction?: number) => void,
): Promise<SplatMesh> {
  onProgress(`Downloading ${name}`, 0);
  const bytes = await fetchBytes(url, (f) => onProgress(`Downloading ${name}`, f));
  return await splatsFromBytes(bytes, format, name, onProgress);
}

/** Decode splat file bytes (checked, non-finite splats dropped with a warning). */
export async function splatsFromBytes(
  raw: Uint8Array,
  format: SplatFormat,
  name: string,
  onProgress: (phase: string, fraction?: number) => void = () => {},
): Promise<SplatMesh> {
  let bytes = raw;
  checkHeader(bytes, format, name);
  if (format === 'ply') {
    const r = dropNonFinite(bytes);
    if (r.dropped === r.total && r.total > 0) throw new Error(`${name}: all ${r.total} splats have non-finite values (NaN/Inf), nothing to show — the training run diverged`);
    if (r.dropped) {
      showWarning(`${name}: ${r.dropped} of ${r.total} splats have non-finite values (NaN/Inf; first at index ${r.first}) and were dropped`);
      bytes = r.bytes;
    }
  }
  onProgress(`Decoding ${name}`);
  const frame = format === 'ply' ? frameOfPly(bytes) : null;
  const mesh = new SplatMesh({ fileBytes: bytes, fileType: FILE_TYPES[format], fileName: name });
  if (frame) mesh.userData.r2sFrame = frame;
  try {
    await mesh.initialized;
  } catch (e) {
    throw new Error(`${name} could not be decoded: ${e instanceof Error ? e.message : String(e)}`);
  }
  const n = mesh.packedSplats?.numSplats ?? mesh.splats?.getNumSplats() ?? 0;
  if (!n) throw new Error(`${name} decoded to 0 splats`);
  return mesh;
}

/** The frame a PLY exported by the viewer carries (`comment r2s.frame {json}`), if any. */
export interface FileFrame {
  kind: 'r2s.frame';
  up: [number, number, number];
  scale: 'metric' | 'arbitrary';
  /** what made it metric: gps, camera-height, measured */
  method: string;
}

function frameOfPly(bytes: Uint8Array): FileFrame | null {
  const head = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  const m = /^comment r2s\.frame (\{.*\})$/m.exec(head.slice(0, head.indexOf('end_header')));
  if (!m) return null;
  try {
    const f = JSON.parse(m[1]!) as Partial<FileFrame>;
    const up = f.up;
    if (f.kind !== 'r2s.frame' || !Array.isArray(up) || up.length !== 3 || !up.every((v) => Number.isFinite(v)) || Math.hypot(...up) < 1e-9) return null;
    return { kind: 'r2s.frame', up: up as [number, number, number], scale: f.scale === 'metric' ? 'metric' : 'arbitrary', method: String(f.method ?? 'none') };
  } catch {
    return null;
  }
}

export function splatCountOf(mesh: SplatMesh): number {
  return mesh.packedSplats?.numSplats ?? mesh.splats?.getNumSplats() ?? 0;
}
