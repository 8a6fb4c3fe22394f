/** Optimizer state that CPU and GPU optimizers exchange (checkpoints, GPU-resident training). */

export interface AdamState {
  m: Float32Array;
  v: Float32Array;
  /** per-row step counts would be more exact after densification; 3DGS uses one global count */
  t: number;
}
