/**
 * Adam on plain Float32Arrays, one instance per parameter group (each group has its own learning
 * rate, as in 3DGS). Densification reshapes the parameter arrays, so the moments are reshaped by
 * the same index maps (`remap`). State is plain arrays so checkpoints restore it exactly.
 */
import type { AdamState } from '../../core/optim.js';

export class Adam {
  m: Float32Array;
  v: Float32Array;
  t = 0;
  /** optional per-column lr multiplier within a row (SH: higher bands at lr/20) */
  colScale?: Float32Array;

  constructor(
    size: number,
    readonly rowSize: number,
    public lr: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-15,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** param ← param − lr·m̂/(√v̂ + ε). Rows whose `skip` flag is set (not visible) keep their state. */
  step(param: Float32Array | Float64Array, grad: ArrayLike<number>, skip?: Uint8Array): void {
    this.t++;
    const { beta1: b1, beta2: b2, eps, rowSize } = this;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    const base = this.lr;
    const cs = this.colScale;
    for (let i = 0; i < param.length; i++) {
      if (skip && skip[Math.floor(i / rowSize)]) continue;
      const lr = cs ? base * cs[i % rowSize]! : base;
      const g = grad[i]!;
      const m = (this.m[i] = b1 * this.m[i]! + (1 - b1) * g);
      const v = (this.v[i] = b2 * this.v[i]! + (1 - b2) * g * g);
      param[i]! -= (lr * (m / bc1)) / (Math.sqrt(v / bc2) + eps);
    }
  }

  /** Rebuild moments after densification: new row j takes old row src[j] (−1 = fresh zeros). */
  remap(src: Int32Array): void {
    const r = this.rowSize;
    const m = new Float32Array(src.length * r);
    const v = new Float32Array(src.length * r);
    for (let j = 0; j < src.length; j++) {
      const s = src[j]!;
      if (s < 0) continue;
      m.set(this.m.subarray(s * r, s * r + r), j * r);
      v.set(this.v.subarray(s * r, s * r + r), j * r);
    }
    this.m = m;
    this.v = v;
  }

  /** Zero the moments of selected rows (used after an opacity reset, as 3DGS does). */
  resetRows(rows: Iterable<number>): void {
    const r = this.rowSize;
    for (const j of rows) {
      this.m.fill(0, j * r, j * r + r);
      this.v.fill(0, j * r, j * r + r);
    }
  }

  state(): AdamState {
    return { m: this.m, v: this.v, t: this.t };
  }

  load(s: AdamState): void {
    this.m = s.m;
    this.v = s.v;
    this.t = s.t;
  }
}
