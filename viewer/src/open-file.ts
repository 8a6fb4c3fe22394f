// Opening a splat file besides the command line: dropped onto the page, or `?file=<url>` (a URL
// the page can fetch: same server, or one that allows it).
import { splatFormatOf, type SplatFormat } from '../../src/viewer-server/protocol.js';
import { fetchBytes } from './ui.js';

export interface OpenedFile {
  name: string;
  format: SplatFormat;
  bytes: Uint8Array;
}

export function formatOrThrow(name: string): SplatFormat {
  const f = splatFormatOf(name);
  if (!f) throw new Error(`${name} is not a splat file (.ply, .spz or .splat)`);
  return f;
}

export async function fileFromUrl(url: string, onProgress: (f: number) => void): Promise<OpenedFile> {
  const name = decodeURIComponent(new URL(url, location.href).pathname.split('/').pop() ?? url);
  const format = formatOrThrow(name);
  return { name, format, bytes: await fetchBytes(url, onProgress) };
}

/** Calls `open` with each splat file dropped on `target` (other drops, e.g. assets, pass through). */
export function acceptDrops(target: HTMLElement, open: (f: OpenedFile) => void, onError: (msg: string) => void): void {
  target.addEventListener('dragover', (e) => {
    if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
  });
  target.addEventListener('drop', async (e) => {
    const file = e.dataTransfer?.files?.[0];
    if (!file) return;
    e.preventDefault();
    try {
      open({ name: file.name, format: formatOrThrow(file.name), bytes: new Uint8Array(await file.arrayBuffer()) });
    } catch (err) {
      onError(err instanceof Error ? err.message : String(err));
    }
  });
}
