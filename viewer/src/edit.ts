// The editable scene: which splats are kept (a mask over the loaded file's splats), undo, the
// selections the tools make (box / sphere / screen lasso / floaters), and export of what is kept
// as .spz (Spark's encoder) or .ply. Deleting rebuilds the displayed SplatMesh from the kept
// splats' packed words (spherical harmonics included), so the file on disk is never touched.
import * as THREE from 'three';
import { PackedSplats, SplatMesh, writeSpz } from '@sparkjsdev/spark';

/** Words per splat of Spark's packed arrays: base, then SH degree 1, 2, 3 in `extra`. */
const SH_WORDS: Record<string, number> = { sh1: 2, sh2: 4, sh3: 4 };
const TEX_WIDTH = 2048; // Spark's SPLAT_TEX_WIDTH: packed arrays are whole texture rows

function capacity(n: number): number {
  return Math.max(TEX_WIDTH, Math.ceil(n / TEX_WIDTH) * TEX_WIDTH);
}

export class EditableScene {
  readonly count: number;
  /** splat centres in the scene frame (x, y, z per splat), decoded once */
  readonly centres: Float32Array;
  readonly opacities: Float32Array;
  /** largest axis (σ) of each splat, scene units */
  readonly sizes: Float32Array;
  /** 1 = kept */
  alive: Uint8Array;
  private history: Uint8Array[] = [];
  /** undone states, for redo (cleared by a new edit) */
  private future: Uint8Array[] = [];
  /** our own copy of the loaded splats' packed words (the mesh they came in is disposed on rebuild) */
  private words: Uint32Array;
  private extra: Record<string, Uint32Array> = {};
  private encoding: PackedSplats['splatEncoding'];
  /** most splats drawn at once (the quality setting); editing and export ignore it */
  budget = Infinity;
  private weights: Float32Array;

  constructor(mesh: SplatMesh, private onMesh: (m: SplatMesh) => void) {
    const p = mesh.packedSplats;
    if (!p?.packedArray) throw new Error('scene splats are not editable (no packed splats)');
    this.count = p.numSplats;
    this.words = p.packedArray.slice(0, this.count * 4);
    for (const [key, per] of Object.entries(SH_WORDS)) {
      const arr = p.extra[key] as Uint32Array | undefined;
      if (arr) this.extra[key] = arr.slice(0, this.count * per);
    }
    this.encoding = p.splatEncoding;
    this.centres = new Float32Array(this.count * 3);
    this.opacities = new Float32Array(this.count);
    this.sizes = new Float32Array(this.count);
    this.weights = new Float32Array(this.count);
    p.forEachSplat((i, c, s, _q, o) => {
      this.centres.set([c.x, c.y, c.z], i * 3);
      this.opacities[i] = o;
      this.sizes[i] = Math.max(s.x, s.y, s.z);
      this.weights[i] = o * Math.cbrt(s.x * s.y * s.z);
    });
    this.alive = new Uint8Array(this.count).fill(1);
  }

  get kept(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += this.alive[i]!;
    return n;
  }

  get canUndo(): boolean {
    return this.history.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** Remove (`delete`) or keep only (`keep`) the selected splats. Returns how many went. */
  apply(sel: Uint8Array, mode: 'delete' | 'keep'): number {
    const next = this.alive.slice();
    let gone = 0;
    for (let i = 0; i < this.count; i++) {
      const drop = mode === 'delete' ? sel[i] === 1 : sel[i] !== 1;
      if (drop && next[i]) (next[i] = 0), gone++;
    }
    if (!gone) return 0;
    this.history.push(this.alive);
    this.future = [];
    this.alive = next;
    this.show();
    return gone;
  }

  undo(): boolean {
    const prev = this.history.pop();
    if (!prev) return false;
    this.future.push(this.alive);
    this.alive = prev;
    this.show();
    return true;
  }

  redo(): boolean {
    const next = this.future.pop();
    if (!next) return false;
    this.history.push(this.alive);
    this.alive = next;
    this.show();
    return true;
  }

  /** The kept splats a selection leaves out. */
  invert(sel: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.alive[i] && !sel[i] ? 1 : 0;
    return out;
  }

  /** Kept splats whose centre `inside` accepts (scene-frame coordinates). */
  select(inside: (x: number, y: number, z: number) => boolean): Uint8Array {
    const sel = new Uint8Array(this.count);
    const c = this.centres;
    for (let i = 0; i < this.count; i++) if (this.alive[i] && inside(c[i * 3]!, c[i * 3 + 1]!, c[i * 3 + 2]!)) sel[i] = 1;
    return sel;
  }

  /** Inside a unit box / unit sphere (centre 0, edge or diameter 1) placed by `matrix` (scene frame). */
  selectShape(matrix: THREE.Matrix4, shape: 'box' | 'sphere'): Uint8Array {
    const inv = matrix.clone().invert().elements;
    return this.select((x, y, z) => {
      const lx = inv[0]! * x + inv[4]! * y + inv[8]! * z + inv[12]!;
      const ly = inv[1]! * x + inv[5]! * y + inv[9]! * z + inv[13]!;
      const lz = inv[2]! * x + inv[6]! * y + inv[10]! * z + inv[14]!;
      return shape === 'box' ? Math.abs(lx) <= 0.5 && Math.abs(ly) <= 0.5 && Math.abs(lz) <= 0.5 : lx * lx + ly * ly + lz * lz <= 0.25;
    });
  }

  /** Centres whose screen projection (`toScreen`, null behind the camera) falls in the polygon. */
  selectLasso(polygon: Array<[number, number]>, toScreen: (x: number, y: number, z: number) => [number, number] | null): Uint8Array {
    return this.select((x, y, z) => {
      const s = toScreen(x, y, z);
      return !!s && pointInPolygon(s[0], s[1], polygon);
    });
  }

  /**
   * Floaters: kept splats fainter than `minOpacity` and small (a large faint splat is sky or
   * haze that the scene needs), or with fewer than `minNeighbours` kept centres within a radius
   * that grows with the splat: `radius` for small splats, 3× its size for large ones (far
   * content — the sky — is made of large, sparse splats and is not isolated at its own scale).
   * Grids of cell sizes radius·4^k find the neighbours.
   */
  selectFloaters(minOpacity: number, minNeighbours: number, radius: number): Uint8Array {
    const sel = new Uint8Array(this.count);
    const c = this.centres;
    const LEVELS = 6;
    const levelOf = (i: number) => Math.min(LEVELS - 1, Math.max(0, Math.ceil(Math.log((3 * this.sizes[i]!) / radius) / Math.log(4))));
    const grids = Array.from({ length: LEVELS }, () => new Map<string, number[]>());
    const used = new Uint8Array(LEVELS);
    for (let i = 0; i < this.count; i++) if (this.alive[i]) used[levelOf(i)] = 1;
    for (let L = 0; L < LEVELS; L++) {
      if (!used[L]) continue;
      const r = radius * 4 ** L;
      for (let i = 0; i < this.count; i++) {
        if (!this.alive[i]) continue;
        const k = `${Math.floor(c[i * 3]! / r)},${Math.floor(c[i * 3 + 1]! / r)},${Math.floor(c[i * 3 + 2]! / r)}`;
        let cell = grids[L]!.get(k);
        if (!cell) grids[L]!.set(k, (cell = []));
        cell.push(i);
      }
    }
    for (let i = 0; i < this.count; i++) {
      if (!this.alive[i]) continue;
      const L = levelOf(i);
      if (this.opacities[i]! < minOpacity && L === 0) {
        sel[i] = 1;
        continue;
      }
      const rad = radius * 4 ** L, r2 = rad * rad, grid = grids[L]!;
      const x = c[i * 3]!, y = c[i * 3 + 1]!, z = c[i * 3 + 2]!;
      const gx = Math.floor(x / rad), gy = Math.floor(y / rad), gz = Math.floor(z / rad);
      let n = 0;
      search: for (let dx = -1; dx <= 1; dx++)
        for (let dy = -1; dy <= 1; dy++)
          for (let dz = -1; dz <= 1; dz++) {
            for (const j of grid.get(`${gx + dx},${gy + dy},${gz + dz}`) ?? []) {
              if (j === i) continue;
              if ((c[j * 3]! - x) ** 2 + (c[j * 3 + 1]! - y) ** 2 + (c[j * 3 + 2]! - z) ** 2 <= r2 && ++n >= minNeighbours) break search;
            }
          }
      if (n < minNeighbours) sel[i] = 1;
    }
    return sel;
  }

  /** Packed splats of `keep` (indices into the loaded file), tinted (red, else cyan) where `highlight` is set. */
  private subset(keep: Uint32Array, highlight?: Uint8Array, tint: 'red' | 'cyan' = 'red'): PackedSplats {
    const n = keep.length;
    const words = new Uint32Array(capacity(n) * 4);
    const a = this.words;
    for (let k = 0; k < n; k++) {
      const i = keep[k]!;
      words.set(a.subarray(i * 4, i * 4 + 4), k * 4);
      if (highlight?.[i]) {
        const w = words[k * 4]!;
        // word 0 is RGBA8: full red, darkened green and blue (or darkened red, bright green and blue), same alpha
        const r = w & 0xff, g = (w >>> 8) & 0xff, b = (w >>> 16) & 0xff;
        const [r2, g2, b2] = tint === 'red' ? [0xff, g >>> 2, b >>> 2] : [r >>> 2, 0x80 | (g >>> 1), 0xc0 | (b >>> 2)];
        words[k * 4] = (r2 | (g2 << 8) | (b2 << 16) | (w & 0xff000000)) >>> 0;
      }
    }
    const extra: Record<string, unknown> = {};
    for (const [key, per] of Object.entries(SH_WORDS)) {
      const arr = this.extra[key];
      if (!arr) continue;
      const out = new Uint32Array(capacity(n) * per);
      for (let k = 0; k < n; k++) out.set(arr.subarray(keep[k]! * per, keep[k]! * per + per), k * per);
      extra[key] = out;
    }
    return new PackedSplats({ packedArray: words, numSplats: n, extra, splatEncoding: this.encoding });
  }

  private keptIndices(limit = Infinity): Uint32Array {
    const idx: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.alive[i]) idx.push(i);
    if (idx.length > limit) {
      // over the budget: draw the splats that matter most (opaque and large) first
      idx.sort((p, q) => this.weights[q]! - this.weights[p]!);
      idx.length = limit;
      idx.sort((p, q) => p - q);
    }
    return Uint32Array.from(idx);
  }

  /** Rebuild the displayed mesh from the kept splats (and the budget), optionally highlighting some. */
  show(highlight?: Uint8Array, tint: 'red' | 'cyan' = 'red'): void {
    const packed = this.subset(this.keptIndices(this.budget), highlight, tint);
    const mesh = new SplatMesh({ packedSplats: packed });
    this.onMesh(mesh);
  }

  /** The kept splats as an .spz file (SH kept up to `maxSh`). */
  exportSpz(maxSh = 3): Uint8Array {
    return writeSpz(this.subset(this.keptIndices()), maxSh).fileBytes as Uint8Array;
  }

  /** SH degree of the loaded splats (0 without `extra` SH words). */
  get shDegree(): number {
    return this.extra.sh3 ? 3 : this.extra.sh2 ? 2 : this.extra.sh1 ? 1 : 0;
  }

  /**
   * The kept splats as a 3DGS .ply: positions, DC colour, the SH rest coefficients the file came
   * with (`f_rest_*`, channel-major as 3DGS writes them), opacity, scales, rotations. Same content
   * as the .spz export, up to each format's quantisation.
   */
  exportPly(frame?: object): Uint8Array {
    const idx = this.keptIndices();
    const p = this.subset(idx);
    const n = p.numSplats;
    const deg = this.shDegree;
    const K = (deg + 1) ** 2 - 1;
    const rest = Array.from({ length: 3 * K }, (_, i) => `f_rest_${i}`);
    const props = ['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2', ...rest, 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'];
    const head = new TextEncoder().encode(
      `ply\nformat binary_little_endian 1.0\ncomment r2s view export\n${frame ? `comment r2s.frame ${JSON.stringify(frame)}\n` : ''}element vertex ${n}\n${props.map((q) => `property float ${q}`).join('\n')}\nend_header\n`,
    );
    const stride = props.length;
    const body = new Float32Array(n * stride);
    const C0 = 0.28209479177387814;
    p.forEachSplat((i, c, s, q, o, col) => {
      const a = Math.min(1 - 1e-6, Math.max(1e-6, o));
      const log = (v: number) => Math.log(Math.max(v, 1e-12));
      const r = i * stride;
      body.set([c.x, c.y, c.z, 0, 0, 0, (col.r - 0.5) / C0, (col.g - 0.5) / C0, (col.b - 0.5) / C0], r);
      body.set([Math.log(a / (1 - a)), log(s.x), log(s.y), log(s.z), q.w, q.x, q.y, q.z], r + 9 + 3 * K);
    });
    if (K) {
      const sh = new Float32Array(45);
      for (let k = 0; k < n; k++) {
        this.decodeSh(idx[k]!, sh);
        // sh is [coefficient][rgb]; a .ply stores f_rest channel-major
        for (let ch = 0; ch < 3; ch++) for (let j = 0; j < K; j++) body[k * stride + 9 + ch * K + j] = sh[j * 3 + ch]!;
      }
    }
    const out = new Uint8Array(head.length + body.byteLength);
    out.set(head, 0);
    out.set(new Uint8Array(body.buffer), head.length);
    return out;
  }

  /**
   * SH rest coefficients of loaded splat `i` into `out` ([coefficient][rgb], degree 1 then 2 then
   * 3): the inverse of Spark's packing (sh1: 9 × sint7, sh2: 15 × sint8, sh3: 21 × sint6).
   */
  private decodeSh(i: number, out: Float32Array): void {
    const e = this.encoding;
    const bits = (arr: Uint32Array, base: number, n: number, width: number, scale: number, at: number) => {
      const half = 1 << (width - 1), mask = (1 << width) - 1;
      for (let j = 0; j < n; j++) {
        const start = j * width, w = start >>> 5, off = start & 31;
        let v = arr[base + w]! >>> off;
        if (off + width > 32) v |= arr[base + w + 1]! << (32 - off);
        v &= mask;
        out[at + j] = (v >= half ? v - 2 * half : v) * scale;
      }
    };
    const { sh1, sh2, sh3 } = this.extra;
    if (sh1) bits(sh1, i * 2, 9, 7, (e?.sh1Max ?? 1) / 63, 0);
    if (sh2) bits(sh2, i * 4, 15, 8, (e?.sh2Max ?? 1) / 127, 9);
    if (sh3) bits(sh3, i * 4, 21, 6, (e?.sh3Max ?? 1) / 31, 24);
  }
}

export function pointInPolygon(x: number, y: number, poly: Array<[number, number]>): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!, [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function countOf(sel: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < sel.length; i++) n += sel[i]!;
  return n;
}
