/**
 * The `r2s view` server: what it serves for a workspace / single file, that it is read-only and
 * local by default, and that no request reaches outside the served folders.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeViewerWorkspace, tmpDir } from './viewer-fixture.js';
import { resolveTarget } from '../src/viewer-server/target.js';
import { hostFilter, startViewerServer, type ViewerServer } from '../src/viewer-server/server.js';
import { safeSegments } from '../src/viewer-server/safe-path.js';
import { UserError } from '../src/util/errors.js';
import type { ViewerCameras, ViewerManifest, ViewerPoints, ViewerCatalog } from '../src/viewer-server/protocol.js';
import type { SynthCapture } from '../src/synthetic/generate.js';

/** Raw GET (no URL normalisation on the client side, unlike fetch). */
function get(port: number, rawPath: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? ''), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('viewer server', () => {
  let dir: string, ws: string, dist: string;
  let cap: SynthCapture;
  let srv: ViewerServer;

  beforeAll(async () => {
    dir = tmpDir('r2s-viewer-server-');
    ws = path.join(dir, 'ws');
    dist = path.join(dir, 'dist');
    cap = await makeViewerWorkspace(ws, { views: 2, size: 32 });
    mkdirSync(dist, { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>viewer</title>');
    writeFileSync(path.join(dir, 'secret.txt'), 'top secret');
    writeFileSync(path.join(ws, '.hidden'), 'hidden');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(ws, 'link-out.txt'));
    mkdirSync(path.join(ws, 'assets', 'a1'), { recursive: true });
    writeFileSync(path.join(ws, 'assets', 'a1', 'splats.ply'), 'ply\n');
    writeFileSync(path.join(ws, 'assets', 'catalog.json'), JSON.stringify({ assets: [{ id: 'a1', name: 'Chair' }, { id: 'missing' }] }));
    srv = await startViewerServer({ target: resolveTarget(ws), distDir: dist, port: 0 });
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('listens on 127.0.0.1 by default and serves the viewer', async () => {
    expect(srv.host).toBe('127.0.0.1');
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/`);
    const r = await get(srv.port, '/');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/text\/html/);
    expect(r.body).toContain('<title>viewer</title>');
  });

  it('describes the workspace: splats, cameras, points, catalog, up', async () => {
    const m = JSON.parse((await get(srv.port, '/api/manifest.json')).body) as ViewerManifest;
    expect(m.kind).toBe('workspace');
    expect(m.splats).toMatchObject({ url: '/files/ws/scene/splats.ply', format: 'ply' });
    expect(m.cameras && m.points && m.catalog).toBe(true);
    expect(m.warnings).toEqual([]);
    // synthetic world is z-up
    expect(m.up[2]).toBeGreaterThan(0.9);

    const c = JSON.parse((await get(srv.port, '/api/cameras.json')).body) as ViewerCameras;
    expect(c.cameras.map((x) => x.name)).toEqual(cap.images.map((i) => i.name));
    expect(c.cameras[0]).toMatchObject({ width: cap.intrinsics.width, fx: cap.intrinsics.fx, photo: `/files/ws/images/${cap.images[0]!.name}` });
    const photo = await get(srv.port, c.cameras[0]!.photo!);
    expect(photo.status).toBe(200);
    expect(photo.type).toBe('image/png');

    const p = JSON.parse((await get(srv.port, '/api/points.json')).body) as ViewerPoints;
    expect(p.count).toBeGreaterThan(100);
    expect(p.xyz.length).toBe(p.count * 3);

    const cat = JSON.parse((await get(srv.port, '/api/catalog.json')).body) as ViewerCatalog;
    expect(cat.assets).toEqual([{ id: 'a1', name: 'Chair', url: '/files/lib/a1/splats.ply', format: 'ply' }]);
    expect((await get(srv.port, cat.assets[0]!.url)).body).toBe('ply\n');

    const splats = await get(srv.port, m.splats!.url, 'HEAD');
    expect(splats.status).toBe(200);
  });

  it('answers only loopback host names (DNS rebinding) and sends no CORS headers', async () => {
    writeFileSync(path.join(ws, 'priors.json'), '{"gps": "secret"}');
    const evil = await get(srv.port, '/files/ws/priors.json', 'GET', { Host: 'evil.example.com' });
    expect(evil.status).toBe(403);
    expect(evil.body).not.toContain('secret');
    expect((await get(srv.port, '/api/manifest.json', 'GET', { Host: `evil.example.com:${srv.port}` })).status).toBe(403);
    for (const host of [`127.0.0.1:${srv.port}`, `localhost:${srv.port}`, `[::1]:${srv.port}`, 'localhost']) {
      const ok = await get(srv.port, '/files/ws/scene/splats.ply', 'GET', { Host: host, Origin: 'http://evil.example.com' });
      expect(ok.status, host).toBe(200);
      expect(Object.keys(ok.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
    expect(hostFilter('192.168.1.5')('192.168.1.5:8080')).toBe(true);
    expect(hostFilter('192.168.1.5')('evil.example.com')).toBe(false);
    expect(hostFilter('0.0.0.0')('10.0.0.2:80')).toBe(true);
    expect(hostFilter('0.0.0.0')('rebind.example.com')).toBe(false);
    expect(hostFilter('127.0.0.1')(undefined)).toBe(false);
  });

  it('uses sfm\'s metric frame, reads the r2s.catalog format and serves the user frame', async () => {
    const ws3 = path.join(dir, 'ws3');
    await makeViewerWorkspace(ws3, { views: 2, size: 32 });
    writeFileSync(path.join(ws3, 'sparse', 'frame.json'), JSON.stringify({ scale: 'metric', method: 'camera-height', up: [0, 0.6, 0.8], scaleFactor: 2, cameraHeight: 1.6 }));
    mkdirSync(path.join(ws3, 'assets', 'chair-01'), { recursive: true });
    for (const f of ['splats.spz', 'mesh.glb', 'collision.glb', 'thumb.png']) writeFileSync(path.join(ws3, 'assets', 'chair-01', f), 'x');
    writeFileSync(
      path.join(ws3, 'assets', 'catalog.json'),
      JSON.stringify({ kind: 'r2s.catalog', version: 1, assets: [{ id: 'chair', name: 'Chair', path: 'chair-01', splats: 'splats.spz', mesh: 'mesh.glb', collision: 'collision.glb', thumbnail: 'thumb.png', extentsM: [0.5, 0.9, 0.5], scale: 'metric', gaussians: 1200, triangles: 800, source: 'ws3' }] }),
    );
    writeFileSync(path.join(ws3, 'user-frame.json'), JSON.stringify({ kind: 'r2s.user-frame', version: 1, scale: { factor: 2.5, from: 'measured', distance: 5, points: [[0, 0, 0], [2, 0, 0]] } }));
    const s3 = await startViewerServer({ target: resolveTarget(ws3), distDir: dist, port: 0 });
    try {
      const m = JSON.parse((await get(s3.port, '/api/manifest.json')).body) as ViewerManifest;
      expect(m.frame).toEqual({ scale: 'metric', method: 'camera-height', up: [0, 0.6, 0.8], cameraHeight: 1.6 });
      expect(m.up).toEqual([0, 0.6, 0.8]);
      expect(m.userFrame?.scale?.factor).toBe(2.5);
      expect(m.workspacePath).toBe(ws3);
      const cat = JSON.parse((await get(s3.port, '/api/catalog.json')).body) as ViewerCatalog;
      expect(cat.assets).toEqual([
        {
          id: 'chair', name: 'Chair', url: '/files/lib/chair-01/splats.spz', format: 'spz', meshUrl: '/files/lib/chair-01/mesh.glb',
          collisionUrl: '/files/lib/chair-01/collision.glb', thumbnailUrl: '/files/lib/chair-01/thumb.png', extentsM: [0.5, 0.9, 0.5], scale: 'metric', gaussians: 1200,
        },
      ]);
      // an invalid user frame is a warning, not a crash
      writeFileSync(path.join(ws3, 'user-frame.json'), '{"kind": "nope"}');
      const m2 = JSON.parse((await get(s3.port, '/api/manifest.json')).body) as ViewerManifest;
      expect(m2.userFrame).toBeNull();
      expect(m2.warnings.join(' ')).toMatch(/user-frame\.json is not an r2s user frame/);
    } finally {
      await s3.close();
    }
    // an asset folder: mesh and collider for the toggles, +Y up
    const asset = await startViewerServer({ target: resolveTarget(path.join(ws3, 'assets', 'chair-01')), distDir: dist, port: 0 });
    try {
      const m = JSON.parse((await get(asset.port, '/api/manifest.json')).body) as ViewerManifest;
      expect(m.kind).toBe('asset');
      expect(m.up).toEqual([0, 1, 0]);
      expect(m.assetFiles).toEqual({ mesh: '/files/asset/mesh.glb', collision: '/files/asset/collision.glb', info: null });
    } finally {
      await asset.close();
    }
  });

  it('is read-only', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await get(srv.port, '/files/ws/scene/splats.ply', method)).status).toBe(405);
  });

  it('never serves anything outside the served folders', async () => {
    const attempts = [
      '/files/ws/../secret.txt',
      '/files/ws/%2e%2e/secret.txt',
      '/files/ws/%2E%2E%2Fsecret.txt',
      '/files/ws/..%2fsecret.txt',
      '/files/ws/..%5csecret.txt',
      '/files/ws/link-out.txt',
      '/files/ws/.hidden',
      '/files/ws/%00',
      '/files/ws/%E0%A4%A',
      '/files/ws//etc/passwd',
      '/files/ws/%2fetc%2fpasswd',
      '/files/ws/images',
      '/files/nope/secret.txt',
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2f..%2fsecret.txt',
      '/files/lib/../../secret.txt',
    ];
    for (const a of attempts) {
      const r = await get(srv.port, a);
      expect(r.status, a).toBe(404);
      expect(r.body).not.toContain('secret');
    }
    expect(safeSegments('a/%2e%2e/b')).toBeNull();
    expect(safeSegments('a/b%2fc')).toBeNull();
    expect(safeSegments('a//b/')).toEqual(['a', 'b']);
  });

  it('serves only the file itself for a single splat file', async () => {
    const file = path.join(ws, 'scene', 'splats.ply');
    const one = await startViewerServer({ target: resolveTarget(file), distDir: dist, port: 0 });
    try {
      const m = JSON.parse((await get(one.port, '/api/manifest.json')).body) as ViewerManifest;
      expect(m.kind).toBe('file');
      expect(m.cameras).toBe(false);
      expect(m.up).toEqual([0, -1, 0]);
      expect((await get(one.port, m.splats!.url)).status).toBe(200);
      // siblings of the file are not exposed
      expect((await get(one.port, '/files/scene/photometric.json')).status).toBe(404);
      expect((await get(one.port, '/files/scene/../sparse/cameras.txt')).status).toBe(404);
      expect((await get(one.port, '/api/cameras.json')).status).toBe(404);
    } finally {
      await one.close();
    }
  });

  it('rejects bad targets with one-line user errors', () => {
    expect(() => resolveTarget(path.join(dir, 'missing'))).toThrow(UserError);
    expect(() => resolveTarget(path.join(dir, 'secret.txt'))).toThrow(/not a splat file/);
    mkdirSync(path.join(dir, 'empty'));
    expect(() => resolveTarget(path.join(dir, 'empty'))).toThrow(/neither scene\/splats/);
    expect(() => resolveTarget(ws, { assetsDir: dir })).toThrow(/no catalog\.json/);
  });

  it('keeps serving with a warning when the sparse model is unreadable', async () => {
    const ws2 = path.join(dir, 'ws2');
    mkdirSync(path.join(ws2, 'sparse'), { recursive: true });
    mkdirSync(path.join(ws2, 'scene'), { recursive: true });
    writeFileSync(path.join(ws2, 'scene', 'splats.ply'), 'ply\n');
    writeFileSync(path.join(ws2, 'sparse', 'cameras.txt'), 'garbage line\n');
    writeFileSync(path.join(ws2, 'sparse', 'images.txt'), '');
    writeFileSync(path.join(ws2, 'sparse', 'points3D.txt'), '');
    const s2 = await startViewerServer({ target: resolveTarget(ws2), distDir: dist, port: 0 });
    try {
      const m = JSON.parse((await get(s2.port, '/api/manifest.json')).body) as ViewerManifest;
      expect(m.cameras).toBe(false);
      expect(m.warnings.join(' ')).toMatch(/sparse model not shown/);
      expect(m.splats).not.toBeNull();
    } finally {
      await s2.close();
    }
  });
});
