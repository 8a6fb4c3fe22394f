/**
 * Issue 25 item 4, through the real `r2s view` (a child process, so its descriptors can be
 * counted in /proc/<pid>/fd): a download the client aborts must not keep the file open, and the
 * server serves what the page loads — the API, the splats, the photos of the capture cameras, the
 * asset library's files — and nothing else of the workspace (GPS priors, the SfM database, stage
 * records, the lock).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { mkdirSync, readdirSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { makeViewerWorkspace, startView, tmpDir, type Served } from './viewer-fixture.js';
import type { ViewerCameras, ViewerCatalog, ViewerManifest } from '../src/viewer-server/protocol.js';

const linux = process.platform === 'linux';

function get(port: number, rawPath: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${rawPath}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET `rawPath`, read about 1 kB of the answer, then destroy the socket (a download cancelled). */
function abortedDownload(port: number, rawPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${rawPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= 1024) {
        s.destroy();
        resolve();
      }
    });
    s.on('error', reject);
    s.on('close', () => (got >= 1024 ? resolve() : reject(new Error(`closed after ${got} bytes`))));
  });
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

describe.runIf(linux)('reliability: the viewer server (issue 25 item 4)', () => {
  let dir: string, ws: string, srv: Served, port: number;

  beforeAll(async () => {
    dir = tmpDir('r2s-rel-server-');
    ws = path.join(dir, 'ws');
    await makeViewerWorkspace(ws, { views: 2, size: 32 });
    // a scene far larger than the socket buffers, so an aborted download is cut mid-file
    const fd = openSync(path.join(ws, 'scene', 'splats.ply'), 'w');
    const chunk = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < 24; i++) writeSync(fd, chunk);
    closeSync(fd);
    // what a workspace holds besides: none of it is for the page
    writeFileSync(path.join(ws, 'priors.json'), '{"gps": [55.7, 13.2]}');
    mkdirSync(path.join(ws, 'sfm'), { recursive: true });
    writeFileSync(path.join(ws, 'sfm', 'database.db'), 'SQLite format 3\0');
    mkdirSync(path.join(ws, 'stages'), { recursive: true });
    writeFileSync(path.join(ws, 'stages', 'train.json'), '{"stage": "train"}');
    writeFileSync(path.join(ws, '.r2s.lock'), '{"pid": 1}');
    writeFileSync(path.join(ws, 'notes.txt'), 'private');
    writeFileSync(path.join(ws, 'floaters.ply'), 'ply\n'); // a splat file the page may open (?file=)
    // an asset library inside the workspace, in the format r2s extract writes
    const a = path.join(ws, 'assets', 'chair-01');
    mkdirSync(a, { recursive: true });
    for (const f of ['splats.spz', 'mesh.glb', 'mesh_lod1.glb', 'collision.glb', 'thumbnail.png', 'asset.json']) writeFileSync(path.join(a, f), f);
    writeFileSync(
      path.join(ws, 'assets', 'catalog.json'),
      JSON.stringify({ kind: 'r2s.catalog', version: 1, assets: [{ id: 'chair-01', name: 'Chair', path: 'chair-01', splats: 'splats.spz', mesh: 'mesh.glb', collision: 'collision.glb', thumbnail: 'thumbnail.png', extentsM: [1, 1, 1], scale: 'metric', gaussians: 1, triangles: 1, source: 'ws' }] }),
    );
    writeFileSync(path.join(ws, 'assets', '.catalog.lock'), '1');
    srv = await startView(ws);
    port = Number(new URL(srv.url).port);
  }, 180_000);

  afterAll(() => {
    srv?.proc.kill('SIGTERM');
  });

  it('1 000 aborted downloads leave at most 20 more descriptors open, and / still answers', async () => {
    const pid = srv.proc.pid!;
    expect((await get(port, '/')).status).toBe(200);
    const m = JSON.parse((await get(port, '/api/manifest.json')).body.toString()) as ViewerManifest;
    const before = fdCount(pid);
    for (let i = 0; i < 1000; i += 20) await Promise.all(Array.from({ length: 20 }, () => abortedDownload(port, m.splats!.url)));
    // the server sees each close a moment later; give it up to 5 s to settle
    let after = fdCount(pid);
    for (let t = 0; t < 50 && after > before + 20; t++) {
      await new Promise((r) => setTimeout(r, 100));
      after = fdCount(pid);
    }
    console.log(`item 4: r2s view holds ${before} descriptors before, ${after} after 1 000 aborted downloads`);
    expect(after - before, `descriptors: ${before} before, ${after} after 1 000 aborted downloads`).toBeLessThanOrEqual(20);
    const home = await get(port, '/');
    expect(home.status).toBe(200);
    expect(home.body.toString()).toMatch(/<html|<!doctype/i);
    // a whole download still works
    expect((await get(port, m.splats!.url)).body.length).toBe(24 << 20);
  }, 120_000);

  it('serves what the page loads, and refuses the rest of the workspace', async () => {
    const m = JSON.parse((await get(port, '/api/manifest.json')).body.toString()) as ViewerManifest;
    const cams = JSON.parse((await get(port, '/api/cameras.json')).body.toString()) as ViewerCameras;
    const cat = JSON.parse((await get(port, '/api/catalog.json')).body.toString()) as ViewerCatalog;
    expect(cams.cameras.length).toBe(2);
    expect(cat.assets).toHaveLength(1);
    const a = cat.assets[0]!;
    const wanted = [
      '/', '/index.html', '/api/points.json',
      m.splats!.url,
      ...cams.cameras.map((c) => c.photo!),
      a.url, a.meshUrl!, a.collisionUrl!, a.thumbnailUrl!,
      '/files/lib/catalog.json',
      '/files/ws/floaters.ply',
    ];
    for (const u of wanted) expect((await get(port, u)).status, u).toBe(200);
    // the page's own scripts and styles
    const html = (await get(port, '/')).body.toString();
    const assets = [...html.matchAll(/(?:src|href)="\.?(\/[^"]+)"/g)].map((x) => x[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const u of assets) expect((await get(port, u)).status, u).toBe(200);

    const refused = [
      '/files/ws/priors.json',
      '/files/ws/sfm/database.db',
      '/files/ws/stages/train.json',
      '/files/ws/.r2s.lock',
      '/files/ws/notes.txt',
      '/files/ws/sparse/cameras.txt',
      '/files/ws/sparse/images.txt',
      '/files/ws/assets/catalog.json',
      '/files/ws/assets/chair-01/asset.json',
      '/files/lib/.catalog.lock',
      '/files/lib/chair-01/mesh_lod1.glb',
      '/files/lib/chair-01/asset.json',
    ];
    // and the sparse model's own files, whatever their format
    for (const f of readdirSync(path.join(ws, 'sparse')).filter((f) => !f.endsWith('.ply'))) refused.push(`/files/ws/sparse/${f}`);
    for (const u of refused) {
      const r = await get(port, u);
      expect(r.status, u).toBe(404);
    }
  }, 60_000);
});
