/**
 * Retrieval pair selection for unordered captures: the vocabulary-tree bag of words finds the
 * images that share features whatever the file order, `auto` uses it only when the order is not
 * known to be the capture order, and everything is reproducible.
 */
import { describe, expect, it } from 'vitest';
import { isTemporalOrder, selectPairs } from '../src/sfm/pairs.js';
import { imageSimilarity, topNeighbours } from '../src/sfm/retrieval.js';
import { nearestCentres, setRetrievalWasm } from '../src/sfm/retrieval-hamming.js';
import { quantize, trainVocabulary } from '../src/sfm/retrieval-vocabulary.js';
import type { FeatureSet } from '../src/sfm/types.js';
import { Rng } from '../src/util/rng.js';

const W = 16; // AKAZE: 486 bits in 16 Uint32

function randomDescriptor(rng: Rng, out: Uint32Array, at: number): void {
  for (let w = 0; w < W; w++) out[at + w] = Math.floor(rng.next() * 2 ** 32) >>> 0;
}

/**
 * `n` images on a loop (the last next to the first): image i sees landmarks i·step … i·step + span
 * (mod the loop), span = perImage / 2, each a noisy copy (~8 % of bits flipped) of the landmark's
 * descriptor, plus as many random clutter descriptors. Images less than span/step apart share
 * features, the more the nearer; no other pairs. By default neighbours 1 apart share 2/3 of their
 * landmarks, 2 apart 1/3, 3 apart none.
 */
function loopCapture(n: number, seed: number, perImage = 400, step = 67): FeatureSet[] {
  const rng = new Rng(seed);
  const landmarks = n * step;
  const span = perImage / 2;
  const lm = new Uint32Array(landmarks * W);
  for (let l = 0; l < landmarks; l++) randomDescriptor(rng, lm, l * W);
  const feats: FeatureSet[] = [];
  for (let i = 0; i < n; i++) {
    const desc = new Uint32Array(perImage * W);
    for (let k = 0; k < span; k++) {
      const l = (i * step + k) % landmarks;
      for (let w = 0; w < W; w++) {
        let v = lm[l * W + w]!;
        for (let b = 0; b < 3; b++) if (rng.next() < 0.85) v ^= 1 << rng.int(32);
        desc[k * W + w] = v >>> 0;
      }
    }
    for (let k = span; k < perImage; k++) randomDescriptor(rng, desc, k * W);
    feats.push({ name: `img${i}`, key: `k${i}`, width: 100, height: 100, n: perImage, kp: new Float32Array(perImage * 4), desc, words: W, rgb: new Uint8Array(perImage * 3) });
  }
  return feats;
}

const pairKey = (a: number, b: number) => `${Math.min(a, b)},${Math.max(a, b)}`;

describe('image retrieval', () => {
  const n = 48;
  const feats = loopCapture(n, 7);

  it('finds the images that share features, whatever the file order', () => {
    // neighbours 1 apart share the most landmarks: with 2 per image those must be found
    for (const seed of [1, 2]) {
      const order = new Rng(seed).shuffle(feats.map((_, i) => i));
      const sel = selectPairs(n, 'retrieval', { feats: order.map((i) => feats[i]!), retrievalNeighbours: 2 });
      expect(sel.kind).toBe('retrieval');
      const found = new Set(sel.pairs.map((p) => pairKey(order[p.i]!, order[p.j]!)));
      for (let i = 0; i < n; i++) expect(found.has(pairKey(i, (i + 1) % n)), `loop neighbours ${i}, ${(i + 1) % n}`).toBe(true);
      // 2 neighbours per image: at most 2n pairs, and every one a pair that shares landmarks
      expect(sel.pairs.length).toBeLessThanOrEqual(2 * n);
      for (const p of sel.pairs) {
        const d = Math.abs(order[p.i]! - order[p.j]!);
        expect(Math.min(d, n - d)).toBeLessThanOrEqual(2);
      }
    }
  });

  it('ranks by shared content: the similarity falls with the distance on the loop', () => {
    const sim = imageSimilarity(feats);
    expect(sim[0]).toBe(0);
    for (let i = 0; i < n; i++) {
      // 133 shared landmarks 1 apart, 66 two apart, none from 3 apart: counts follow
      const near = sim[i * n + (i + 1) % n]!, second = sim[i * n + (i + 2) % n]!;
      expect(near).toBeGreaterThan(10);
      expect(second).toBeGreaterThan(3);
      expect(second).toBeLessThan(near);
      for (let d = 4; d <= n / 2; d++) expect(sim[i * n + (i + d) % n]!).toBeLessThan(second / 2);
    }
    expect(Array.from(sim)).toEqual(Array.from(sim).map((_, q) => sim[(q % n) * n + Math.floor(q / n)])); // symmetric
    const top = topNeighbours(sim, n, 2);
    expect(top[0]!.slice().sort((a, b) => a - b)).toEqual([1, n - 1]);
  });

  it('gives the same similarities whatever the file order', () => {
    const sim = imageSimilarity(feats);
    const order = new Rng(9).shuffle(feats.map((_, i) => i));
    const shuffled = imageSimilarity(order.map((i) => feats[i]!));
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) expect(shuffled[a * n + b]).toBe(sim[order[a]! * n + order[b]!]);
  });

  it('is deterministic, and the seed picks the vocabulary', () => {
    const a = selectPairs(n, 'retrieval', { feats, seed: 5 });
    const b = selectPairs(n, 'retrieval', { feats, seed: 5 });
    expect(b.pairs).toEqual(a.pairs);
    const t1 = trainVocabulary(feats.map((f) => f.desc), feats.map((f) => f.n), W, { branching: 8, descriptorsPerWord: 20, depth: 2, sampleSize: 5000, iterations: 5, seed: 1 });
    const t2 = trainVocabulary(feats.map((f) => f.desc), feats.map((f) => f.n), W, { branching: 8, descriptorsPerWord: 20, depth: 2, sampleSize: 5000, iterations: 5, seed: 2 });
    expect(t1.levels[1]).toEqual(trainVocabulary(feats.map((f) => f.desc), feats.map((f) => f.n), W, { branching: 8, descriptorsPerWord: 20, depth: 2, sampleSize: 5000, iterations: 5, seed: 1 }).levels[1]);
    expect(t1.levels[1]).not.toEqual(t2.levels[1]);
  });

  it('the tree sends a descriptor to the leaf reached by the nearest centre at each level', () => {
    const tree = trainVocabulary(feats.map((f) => f.desc), feats.map((f) => f.n), W, { branching: 4, descriptorsPerWord: 20, depth: 3, sampleSize: 3000, iterations: 4, seed: 3 });
    const f = feats[5]!;
    const words = quantize(tree, f.desc, 50);
    const dist = (i: number, c: Uint32Array, k: number) => {
      let d = 0;
      for (let w = 0; w < W; w++) { let x = (f.desc[i * W + w]! ^ c[k * W + w]!) >>> 0; while (x) { d += x & 1; x >>>= 1; } }
      return d;
    };
    for (let i = 0; i < 50; i++) {
      let node = 0;
      for (const centres of tree.levels) {
        let best = 0;
        for (let c = 1; c < 4; c++) if (dist(i, centres, node * 4 + c) < dist(i, centres, node * 4 + best)) best = c;
        node = node * 4 + best;
      }
      expect(words[i]).toBe(node);
    }
    expect(Math.max(...words)).toBeLessThan(4 ** 3);
  });

  it('the WebAssembly and JS nearest-centre scans agree', () => {
    const rows = feats[0]!.desc, centres = feats[1]!.desc;
    const out = [true, false].map((wasm) => {
      setRetrievalWasm(wasm);
      const best = new Int32Array(400), dist = new Int32Array(400);
      nearestCentres(rows, 400, centres, 37, W, best, dist);
      return [best, dist];
    });
    setRetrievalWasm(true);
    expect(out[0]).toEqual(out[1]);
    expect(new Set(out[0]![0]).size).toBeGreaterThan(5);
  });
});

describe('auto pair selection', () => {
  const n = 48;
  const feats = loopCapture(n, 11, 200, 50);
  const t0 = Date.UTC(2024, 4, 1, 12);

  it('takes the capture order from video times or increasing photo times', () => {
    expect(isTemporalOrder([{ videoTime: 0 }, { videoTime: 0.5 }, { videoTime: 1 }])).toBe(true);
    expect(isTemporalOrder([{ videoTime: 0 }, { videoTime: 2 }, { videoTime: 1 }])).toBe(false);
    const time = (s: number) => new Date(t0 + s * 1000).toISOString();
    expect(isTemporalOrder([{ time: time(0) }, { time: time(0) }, { time: time(3) }])).toBe(true); // EXIF seconds repeat
    expect(isTemporalOrder([{ time: time(0) }, { time: time(5) }, { time: time(3) }])).toBe(false);
    expect(isTemporalOrder([{ time: time(0) }, {}, { time: time(3) }])).toBe(false);
    expect(isTemporalOrder([{}, {}, {}])).toBe(false);
    expect(isTemporalOrder([{ time: time(1) }, { time: time(1) }])).toBe(false); // no evidence of an order
  });

  it('picks retrieval for shuffled or unknown order above the exhaustive limit', () => {
    const order = new Rng(3).shuffle(feats.map((_, i) => i));
    const shuffledTimes = order.map((i) => ({ time: new Date(t0 + i * 4000).toISOString() }));
    const sel = selectPairs(n, 'auto', { feats: order.map((i) => feats[i]!), images: shuffledTimes });
    expect(sel.kind).toBe('retrieval');
    expect(selectPairs(n, 'auto', { feats }).kind).toBe('retrieval'); // no times at all
    expect(selectPairs(40, 'auto', { feats: feats.slice(0, 40) }).kind).toBe('exhaustive');
    expect(() => selectPairs(n, 'auto')).toThrow(/features/);
  });

  it('picks sequential for video frames and time-ordered photos, gps when they are located', () => {
    expect(selectPairs(n, 'auto', { feats, images: feats.map((_, i) => ({ videoTime: i / 3 })) }).kind).toBe('sequential');
    const photos = feats.map((_, i) => ({ time: new Date(t0 + i * 4000).toISOString() }));
    expect(selectPairs(n, 'auto', { feats, images: photos }).kind).toBe('sequential');
    const located = photos.map((p, i) => ({ ...p, enu: [i, 0, 0] as [number, number, number] }));
    expect(selectPairs(n, 'auto', { feats, images: located }).kind).toBe('gps');
  });

  it('retrieval adds the sequential window when the order is temporal and GPS neighbours when located', () => {
    const images = feats.map((_, i) => ({ videoTime: i, enu: [i === 40 ? 0.5 : 1000 * i, 0, 0] as [number, number, number] }));
    const sel = selectPairs(n, 'retrieval', { feats, images, retrievalNeighbours: 1, overlap: 3, gpsNeighbours: 1 });
    const has = (i: number, j: number) => sel.pairs.some((p) => p.i === i && p.j === j);
    expect(has(10, 13)).toBe(true); // window
    expect(has(0, 40)).toBe(true); // GPS: image 40 stands next to image 0
    expect(has(10, 14)).toBe(false);
    const plain = selectPairs(n, 'retrieval', { feats, retrievalNeighbours: 1 });
    expect(plain.pairs.some((p) => p.i === 10 && p.j === 13)).toBe(false);
  });
});
