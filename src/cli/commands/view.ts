/**
 * `r2s view <workspace | .ply | .spz | .splat | asset folder> [--port P] [--host H] [--no-open]`:
 * serve the web viewer and the target's files read-only, print the URL, and run until stopped.
 */
import { spawn } from 'node:child_process';
import { parse, num } from '../args.js';
import { UserError } from '../../util/errors.js';
import { info, isJsonMode, result } from '../../util/log.js';
import { resolveTarget } from '../../viewer-server/target.js';
import { ensureViewerBuild } from '../../viewer-server/build.js';
import { startViewerServer, type ViewerServer } from '../../viewer-server/server.js';

export const summary = 'open the real-time web viewer on a workspace, splat file or asset folder';
export const usage = `usage: r2s view <workspace | file.ply | file.spz | file.splat | asset-folder> [options]

  --port P      port to listen on (default 8080; 0 picks a free one)
  --host H      address to listen on (default 127.0.0.1; 0.0.0.0 exposes it to the network)
  --assets DIR  asset library (folder with catalog.json) for the asset panel
                (default: <workspace>/assets when present)
  --no-open     do not open a browser
  --rebuild     rebuild the viewer even if a current build exists
  --json        print {"url": ...} as the last line once serving`;

export async function run(argv: string[]): Promise<number | void> {
  const { values, positionals } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    assets: { type: 'string' },
    'no-open': { type: 'boolean' },
    rebuild: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UserError('expected one workspace or splat file', { fix: 'r2s view <workspace | file.ply>' });
  const port = num(values.port, 'port', 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be 0..65535, got ${values.port}`);
  const host = values.host ?? '127.0.0.1';

  const target = resolveTarget(positionals[0]!, { assetsDir: values.assets });
  const distDir = await ensureViewerBuild({ force: values.rebuild });
  let server: ViewerServer;
  try {
    server = await startViewerServer({ target, distDir, port, host });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`port ${port} on ${host} is in use`, { fix: 'pass --port 0 or another --port' });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`cannot listen on ${host}`, { fix: 'pass --host 127.0.0.1 or an address of this machine' });
    throw e;
  }

  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    info(`warning: serving ${target.title} to the network on ${host} (read-only)`);
  }
  for (const w of server.manifest.warnings) info(`warning: ${w}`);
  if (isJsonMode()) result({ url: server.url, port: server.port, host: server.host, kind: target.kind });
  else process.stdout.write(`${server.url}\n`);
  info(`serving ${target.kind} ${target.title} — Ctrl+C to stop`);
  if (!values['no-open']) openBrowser(server.url);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => info(`open ${url} in a browser`));
    child.unref();
  } catch {
    info(`open ${url} in a browser`);
  }
}
