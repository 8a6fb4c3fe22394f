/**
 * Small uniform buffers keyed by their contents. Several dispatches in one command buffer need
 * different parameters (radix-sort shifts, scan levels); writing one shared uniform buffer between
 * them would let the last write win, so each distinct parameter set gets its own buffer, created
 * once and reused across frames.
 */
import { COPY_DST, UNIFORM } from './buffers.js';

export class UniformCache {
  private readonly cache = new Map<string, GPUBuffer>();
  /** the previous generation, dropped from the cache at the last overflow */
  private retired: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice) {}

  /** A uniform buffer holding these u32 words (padded to 16 bytes). */
  u32(words: number[]): GPUBuffer {
    const key = words.join(',');
    let buf = this.cache.get(key);
    if (!buf) {
      const data = new Uint32Array(Math.max(4, Math.ceil(words.length / 4) * 4));
      data.set(words.map((w) => w >>> 0));
      buf = this.device.createBuffer({ size: data.byteLength, usage: UNIFORM | COPY_DST });
      this.device.queue.writeBuffer(buf, 0, data);
      if (this.cache.size > 4096) this.rotate();
      this.cache.set(key, buf);
    }
    return buf;
  }

  /**
   * Keys include counts that change every frame, so the cache is bounded. Buffers handed out
   * earlier may sit in a command encoder that is not yet submitted, so an overflow must not destroy
   * them (it did: "used in submit while destroyed" during long training runs): they are retired,
   * and destroyed at the next overflow, 4096 creations later.
   */
  private rotate(): void {
    for (const b of this.retired) b.destroy();
    this.retired = [...this.cache.values()];
    this.cache.clear();
  }

  clear(): void {
    for (const b of this.retired) b.destroy();
    this.retired = [];
    for (const b of this.cache.values()) b.destroy();
    this.cache.clear();
  }
}
