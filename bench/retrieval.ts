/**
 * Retrieval pair selection on real data → bench/retrieval.json: how many of the pairs that verify
 * strongly (≥ `--min-inliers` inliers, not degenerate) the retrieval matcher proposes, at several k,
 * with the images in shuffled order (so nothing comes from the file order), how many pairs it
 * proposes, and how long the global descriptors take.
 *
 *   npx tsx bench/retrieval.ts --db COPY_OF/sfm/database.db [--also OTHER.db] [--name NAME] [--min-inliers 100] [--shuffles 3]
 *
 * The database is a finished `r2s sfm` run's (read only; use a copy): its features are the
 * retrieval input, its verified geometries the reference. Only the pairs that run matched can be
 * judged, so recall is over the strong pairs among those (e.g. the 1352 sequential pairs of the
 * moldGoldCape baseline). `--also` adds the pairs judged by another run on the same images, under
 * any names (e.g. the shuffled-name run with the retrieval matcher, whose pairs the first run may
 * not have matched).
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SfmDatabase } from '../src/sfm/database.js';
import { imageSimilarity, topNeighbours } from '../src/sfm/retrieval.js';
import { selectPairs } from '../src/sfm/pairs.js';
import type { FeatureSet } from '../src/sfm/types.js';
import { Rng } from '../src/util/rng.js';
import { writeJsonAtomic } from '../src/util/fsx.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, 'retrieval.json');
const args = process.argv.slice(2);
const flag = (name: string, def?: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const dbFile = flag('db');
if (!dbFile || !existsSync(dbFile)) throw new Error('usage: npx tsx bench/retrieval.ts --db COPY_OF/database.db [--name NAME]');
const name = flag('name', path.basename(path.dirname(path.dirname(path.resolve(dbFile)))))!;
const minInliers = Number(flag('min-inliers', '100'));
const shuffles = Number(flag('shuffles', '3'));
const ksAll = [3, 5, 8, 10, 12, 15, 20, 30];

// row keys straight from SQLite (the keys hash the producing options), rows through SfmDatabase
function readDatabase(file: string): { feats: FeatureSet[]; geoms: Array<{ a: string; b: string; inliers: number; degenerate: boolean }> } {
  const raw = new Database(file, { readonly: true, fileMustExist: true });
  const featRows = raw.prepare('SELECT name, key FROM features ORDER BY name').all() as Array<{ name: string; key: string }>;
  const geomRows = raw.prepare('SELECT pair, key FROM geometries').all() as Array<{ pair: string; key: string }>;
  raw.close();
  const db = new SfmDatabase(file);
  const feats = featRows.map((r) => db.getFeatures(r.name, r.key)!);
  const geoms = geomRows.map((r) => {
    const g = db.getGeometry(r.pair, r.key)!;
    const [a, b] = r.pair.split('\u0000') as [string, string];
    return { a, b, inliers: g.inliers.length / 2, degenerate: g.config === 'degenerate' };
  });
  db.close();
  return { feats, geoms };
}

const main = readDatabase(dbFile);
const feats = main.feats;
// images are told apart by their feature key (a hash of the image bytes), so a second database of
// the same images under other names (a shuffled-name run) adds its judged pairs
const byKey = new Map(feats.map((f, i) => [f.key, i]));
const strong = new Set<string>(), judged = new Set<string>();
const inliersOf = new Map<string, number>();
const judge = (db: ReturnType<typeof readDatabase>) => {
  const idx = new Map(db.feats.map((f) => [f.name, byKey.get(f.key)]));
  for (const g of db.geoms) {
    const a = idx.get(g.a), b = idx.get(g.b);
    if (a === undefined || b === undefined) continue;
    const id = `${Math.min(a, b)},${Math.max(a, b)}`;
    judged.add(id);
    if (!g.degenerate && g.inliers >= minInliers) { strong.add(id); inliersOf.set(id, Math.max(g.inliers, inliersOf.get(id) ?? 0)); }
  }
};
judge(main);
const strongInMain = strong.size, judgedInMain = judged.size;
const also = flag('also');
if (also) judge(readDatabase(also));
const verified = main.geoms.filter((g) => !g.degenerate).length;
// each image's `top` strongest partners (most inliers): what the mapper needs first, and a fair
// measure where nearly every pair is strong (a short video, a small forward-facing capture)
const top = 5;
const strongest = new Set<string>();
for (let i = 0; i < feats.length; i++) {
  const mine = [...inliersOf].filter(([id]) => id.split(',').map(Number).includes(i)).sort((a, b) => b[1] - a[1]);
  for (const [id] of mine.slice(0, top)) strongest.add(id);
}
// k beyond n − 2 is exhaustive
const ks = ksAll.filter((k) => k <= Math.max(3, feats.length - 2));

const load = () => os.loadavg().map((x) => +x.toFixed(2));
interface Row { k: number; pairs: number; strongFound: number; recall: number; top5PartnersFound: number; top5Recall: number; imagesWithAStrongPairMissing: number }
const runs: Array<{ seed: number; seconds: number; cpuSeconds: number; loadAvg: number[]; rows: Row[] }> = [];
for (let s = 0; s < shuffles; s++) {
  const order = new Rng(1000 + s).shuffle(feats.map((_, i) => i)); // shuffled position → original index
  const shuffled = order.map((i) => feats[i]!);
  const t0 = performance.now(), c0 = process.cpuUsage();
  const sim = imageSimilarity(shuffled);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const cpuSeconds = (c1.user + c1.system) / 1e6; // the machine is shared: CPU time says more than wall
  const rows: Row[] = [];
  for (const k of ks) {
    const sel = selectPairs(shuffled.length, 'retrieval', { feats: shuffled, retrievalNeighbours: k, similarity: sim });
    const found = new Set(sel.pairs.map((p) => { const a = order[p.i]!, b = order[p.j]!; return `${Math.min(a, b)},${Math.max(a, b)}`; }));
    let hit = 0, topHit = 0;
    for (const p of strongest) if (found.has(p)) topHit++;
    const missingImages = new Set<number>();
    for (const p of strong) {
      if (found.has(p)) hit++;
      else for (const i of p.split(',').map(Number)) missingImages.add(i);
    }
    rows.push({ k, pairs: sel.pairs.length, strongFound: hit, recall: +(hit / Math.max(1, strong.size)).toFixed(3), top5PartnersFound: topHit, top5Recall: +(topHit / Math.max(1, strongest.size)).toFixed(3), imagesWithAStrongPairMissing: missingImages.size });
  }
  runs.push({ seed: 1000 + s, seconds: +seconds.toFixed(2), cpuSeconds: +cpuSeconds.toFixed(2), loadAvg: load(), rows });
  console.log(`shuffle ${s}: similarity ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU (load ${load().join(' ')})`);
  for (const r of rows) console.log(`  k=${r.k}: ${r.pairs} pairs, ${r.strongFound}/${strong.size} strong pairs (${(100 * r.recall).toFixed(1)}%), each image's 5 strongest: ${r.top5PartnersFound}/${strongest.size} (${(100 * r.top5Recall).toFixed(1)}%)`);
}
// the same neighbours whatever the order: compare the first two shuffles' top-10 lists
const neighbourSets = runs.length >= 2 ? (() => {
  const lists = [0, 1].map((s) => {
    const order = new Rng(1000 + s).shuffle(feats.map((_, i) => i));
    const nb = topNeighbours(imageSimilarity(order.map((i) => feats[i]!)), feats.length, 10);
    const byOriginal: string[] = new Array(feats.length);
    nb.forEach((l, pos) => { byOriginal[order[pos]!] = l.map((q) => order[q]!).sort((a, b) => a - b).join(','); });
    return byOriginal;
  });
  return lists[0]!.filter((l, i) => l === lists[1]![i]).length;
})() : null;

const result = {
  name,
  images: feats.length,
  descriptorsPerImage: Math.round(feats.reduce((a, f) => a + f.n, 0) / feats.length),
  verifiedPairsInDatabase: verified,
  judgedPairsInDatabase: judgedInMain,
  strongPairsInDatabase: strongInMain,
  alsoDatabase: also ?? null,
  judgedPairs: judged.size,
  strongPairs: strong.size,
  top5StrongestPairs: strongest.size,
  minInliers,
  runs,
  sameTop10AcrossShuffles: neighbourSets,
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model },
  date: new Date().toISOString(),
};
const all = existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, unknown>) : {};
all[name] = result;
writeJsonAtomic(outFile, all);
console.log(`wrote ${outFile} [${name}]`);
