/**
 * The SfM database (ws/sfm/database.db, SQLite): per-image features, per-pair raw matches and
 * per-pair two-view geometries, each row keyed by a hash of what produced it, so every stage can be
 * re-run and only recomputes rows whose inputs or options changed. SQLite transactions make each
 * write atomic; an interrupted run keeps every row committed before it.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FeatureSet } from './types.js';
import type { TwoViewGeometry } from './types.js';

export class SfmDatabase {
  private db: Database.Database;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS features (name TEXT PRIMARY KEY, key TEXT NOT NULL, width INTEGER, height INTEGER,
        n INTEGER, words INTEGER, kp BLOB, descr BLOB, rgb BLOB);
      CREATE TABLE IF NOT EXISTS matches (pair TEXT PRIMARY KEY, key TEXT NOT NULL, m BLOB);
      CREATE TABLE IF NOT EXISTS geometries (pair TEXT PRIMARY KEY, key TEXT NOT NULL, json TEXT, inliers BLOB);
    `);
  }

  close(): void {
    this.db.close();
  }

  getFeatures(name: string, key: string): FeatureSet | null {
    const r = this.db.prepare('SELECT * FROM features WHERE name = ? AND key = ?').get(name, key) as
      | { width: number; height: number; n: number; words: number; kp: Buffer; descr: Buffer; rgb: Buffer }
      | undefined;
    if (!r) return null;
    return {
      name,
      key,
      width: r.width,
      height: r.height,
      n: r.n,
      words: r.words,
      kp: new Float32Array(copy(r.kp).buffer),
      desc: new Uint32Array(copy(r.descr).buffer),
      rgb: new Uint8Array(copy(r.rgb)),
    };
  }

  putFeatures(f: FeatureSet): void {
    this.db
      .prepare('INSERT OR REPLACE INTO features (name, key, width, height, n, words, kp, descr, rgb) VALUES (?,?,?,?,?,?,?,?,?)')
      .run(f.name, f.key, f.width, f.height, f.n, f.words, bytes(f.kp), bytes(f.desc), bytes(f.rgb));
  }

  getMatches(pair: string, key: string): Uint32Array | null {
    const r = this.db.prepare('SELECT m FROM matches WHERE pair = ? AND key = ?').get(pair, key) as { m: Buffer } | undefined;
    return r ? new Uint32Array(copy(r.m).buffer) : null;
  }

  putMatches(pair: string, key: string, m: Uint32Array): void {
    this.db.prepare('INSERT OR REPLACE INTO matches (pair, key, m) VALUES (?,?,?)').run(pair, key, bytes(m));
  }

  getGeometry(pair: string, key: string): TwoViewGeometry | null {
    const r = this.db.prepare('SELECT json, inliers FROM geometries WHERE pair = ? AND key = ?').get(pair, key) as
      | { json: string; inliers: Buffer }
      | undefined;
    if (!r) return null;
    return { ...(JSON.parse(r.json) as Omit<TwoViewGeometry, 'inliers'>), inliers: new Uint32Array(copy(r.inliers).buffer) };
  }

  putGeometry(pair: string, key: string, g: TwoViewGeometry): void {
    const { inliers, ...rest } = g;
    this.db.prepare('INSERT OR REPLACE INTO geometries (pair, key, json, inliers) VALUES (?,?,?,?)').run(pair, key, JSON.stringify(rest), bytes(inliers));
  }

  /** Run many writes in one transaction (much faster, and all-or-nothing). */
  transaction(fn: () => void): void {
    this.db.transaction(fn)();
  }
}

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Copy a blob into a fresh, aligned ArrayBuffer (typed-array views need 4-byte alignment). */
function copy(b: Buffer): Uint8Array {
  const out = new Uint8Array(b.byteLength);
  out.set(b);
  return out;
}
