/**
 * The HTTP server behind `r2s view`: serves the built viewer, a small JSON API describing the
 * scene, and of the target's files only those the page loads (page-files.ts: the splats, the
 * capture cameras' photos, the asset files), all read-only (GET/HEAD only). Listens on 127.0.0.1
 * unless told otherwise. A download the client abandons closes its file at once.
 */
import http from 'node:http';
import net from 'node:net';
import { createReadStream, existsSync, readFileSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../util/errors.js';
import type { SparseModel } from '../core/sparse-model.js';
import type { ViewerFrame, ViewerManifest, ViewerUserFrame } from './protocol.js';
import { readUserFrame, userFramePath } from '../io/user-frame.js';
import { splatFormatOf } from './protocol.js';
import { resolveInside, safeSegments, encodePath } from './safe-path.js';
import { camerasJson, loadSparseModel, modelUp, pointsJson, workspacePhotoUrl } from './scene-json.js';
import { readCatalog } from './catalog.js';
import { pageFiles } from './page-files.js';
import type { ViewTarget } from './target.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export interface ViewerServerOptions {
  target: ViewTarget;
  /** folder of the built viewer (index.html + assets) */
  distDir: string;
  port?: number;
  host?: string;
}

export interface ViewerServer {
  url: string;
  port: number;
  host: string;
  manifest: ViewerManifest;
  close(): Promise<void>;
}

export async function startViewerServer(opts: ViewerServerOptions): Promise<ViewerServer> {
  const { target, distDir } = opts;
  const host = opts.host ?? '127.0.0.1';
  const warnings: string[] = [];

  let model: SparseModel | null = null;
  if (target.sparseDir) {
    try {
      model = await loadSparseModel(target.sparseDir);
    } catch (e) {
      warnings.push(`sparse model not shown: ${errorMessage(e)}`);
    }
  }
  let splatBytes = 0;
  if (target.splats) splatBytes = (await fs.stat(target.splats.abs)).size;

  const frame = target.sparseDir ? readFrame(path.join(target.sparseDir, 'frame.json'), warnings) : null;
  const wsDir = target.kind === 'workspace' ? (target.mounts.get('ws')?.dir ?? null) : null;
  const assetDir = target.kind === 'asset' ? (target.mounts.get('asset')?.dir ?? null) : null;
  const userFrame = (): ViewerUserFrame | null => {
    if (!wsDir) return null;
    try {
      return readUserFrame(userFramePath(wsDir));
    } catch (e) {
      warnings.push(errorMessage(e));
      return null;
    }
  };
  const assetFile = (name: string) => (assetDir && existsSync(path.join(assetDir, name)) ? `/files/asset/${encodePath(name)}` : null);

  const manifest: ViewerManifest = {
    title: target.title,
    kind: target.kind,
    splats: target.splats
      ? {
          url: `/files/${target.splats.mount}/${encodePath(target.splats.rel)}`,
          name: path.basename(target.splats.rel),
          format: splatFormatOf(target.splats.rel)!,
          bytes: splatBytes,
        }
      : null,
    cameras: !!model && model.images.size > 0,
    points: !!model && model.points3D.size > 0,
    catalog: !!target.catalogPath,
    // sfm's frame when it is metric (GPS gives ENU up, a camera height the ground's normal); an
    // asset folder is metres with +Y up; else the cameras' mean up, else the COLMAP habit (−y)
    up:
      frame && frame.scale === 'metric'
        ? frame.up
        : target.kind === 'asset'
          ? [0, 1, 0]
          : model && model.images.size > 0
            ? modelUp(model)
            : [0, -1, 0],
    warnings,
    frame,
    userFrame: userFrame(),
    workspacePath: wsDir,
    assetFiles: assetDir ? { mesh: assetFile('mesh.glb'), collision: assetFile('collision.glb'), info: assetFile('asset.json') } : null,
  };
  const allowHost = hostFilter(host);
  const servable = pageFiles(target, manifest, model);

  const api: Record<string, () => unknown> = {
    // the user frame is re-read: it is put in place (cp) while the viewer runs
    '/api/manifest.json': () => ({ ...manifest, userFrame: userFrame() }),
    '/api/cameras.json': () => (model ? camerasJson(model, workspacePhotoUrl(target.imagesDir, '/files/ws')) : null),
    '/api/points.json': () => (model ? pointsJson(model) : null),
    // re-read on each request: extraction may add assets while the viewer runs
    '/api/catalog.json': () => (target.catalogPath ? readCatalog(target.catalogPath, '/files/lib') : null),
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', errorMessage(e));
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS rebinding: a page on evil.example.com that resolves to 127.0.0.1 sends its own Host
    if (!allowHost(req.headers.host)) return send(res, 403, 'text/plain; charset=utf-8', 'host not allowed');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'read-only');
    }
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      return send(res, 400, 'text/plain; charset=utf-8', 'bad url');
    }
    const apiFn = api[pathname];
    if (apiFn) {
      let value: unknown;
      try {
        value = apiFn();
      } catch (e) {
        return send(res, 500, 'application/json; charset=utf-8', JSON.stringify({ error: errorMessage(e) }));
      }
      if (value === null) return send(res, 404, 'application/json; charset=utf-8', JSON.stringify({ error: 'not available' }));
      return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value), req.method === 'HEAD');
    }
    if (pathname.startsWith('/files/')) {
      const segs = safeSegments(pathname.slice('/files/'.length));
      if (!segs || segs.length < 2) return notFound(res);
      const mount = target.mounts.get(segs[0]!);
      if (!mount) return notFound(res);
      const rest = segs.slice(1);
      if (mount.only && (rest.length !== 1 || !mount.only.has(rest[0]!))) return notFound(res);
      if (!servable(segs[0]!, rest)) return notFound(res);
      const file = await resolveInside(mount.dir, rest);
      if (!file) return notFound(res);
      return sendFile(req, res, file);
    }
    // the viewer itself
    const segs = safeSegments(pathname);
    if (!segs) return notFound(res);
    const file = await resolveInside(distDir, segs.length ? segs : ['index.html']);
    if (!file) return notFound(res);
    return sendFile(req, res, file);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/`,
    port,
    host,
    manifest,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** sparse/frame.json written by sfm, or null (a warning when unreadable). */
function readFrame(file: string, warnings: string[]): ViewerFrame | null {
  if (!existsSync(file)) return null;
  try {
    const f = JSON.parse(readFileSync(file, 'utf8')) as Partial<ViewerFrame>;
    const up = f.up;
    if (!Array.isArray(up) || up.length !== 3 || !up.every((v) => Number.isFinite(v)) || Math.hypot(...up) < 1e-9) throw new Error('no valid "up"');
    const n = Math.hypot(...up);
    const out: ViewerFrame = {
      scale: f.scale === 'metric' ? 'metric' : 'arbitrary',
      method: f.method === 'gps' || f.method === 'camera-height' ? f.method : 'none',
      up: [up[0]! / n, up[1]! / n, up[2]! / n],
    };
    if (typeof f.cameraHeight === 'number' && f.cameraHeight > 0) out.cameraHeight = f.cameraHeight;
    return out;
  } catch (e) {
    warnings.push(`${file} ignored: ${errorMessage(e)}`);
    return null;
  }
}

/**
 * Host names the server answers to: loopback names and addresses, and the --host given. When bound
 * to every interface (0.0.0.0 / ::), any IP literal too (a rebinding attack needs a DNS name).
 */
export function hostFilter(bound: string): (hostHeader: string | undefined) => boolean {
  const wildcard = bound === '0.0.0.0' || bound === '::';
  const boundName = bound.toLowerCase().replace(/^\[|\]$/g, '');
  return (hostHeader) => {
    if (!hostHeader) return false;
    const h = hostHeader.trim().toLowerCase();
    const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d+$/, '');
    if (name === 'localhost' || name.endsWith('.localhost') || name === '::1' || name === boundName) return true;
    if (net.isIPv4(name) && name.startsWith('127.')) return true;
    return wildcard && net.isIP(name) !== 0;
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  const buf = Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': buf.length,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(headOnly ? undefined : buf);
}

function notFound(res: http.ServerResponse): void {
  send(res, 404, 'text/plain; charset=utf-8', 'not found');
}

async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string): Promise<void> {
  const st = await fs.stat(file);
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': st.size,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') return void res.end();
  // pipeline() destroys the file stream, closing its descriptor, when the client goes away
  // mid-download (a bare pipe() left it open, paused, for good: one descriptor per abort)
  try {
    await pipeline(createReadStream(file), res);
  } catch {
    res.destroy(); // the client left, or the file could not be read after the headers went out
  }
}
