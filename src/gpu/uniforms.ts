/**
 * Small uniform buffers keyed by their contents. Several dispatches in one command buffer need
 * different parameters (radix-sort shifts, scan levels); writing one shared uniform buffer between
 * them would let the last write win, so each distinct parameter set gets its own buffer, created
 * once and reused across frames.
 */
import { COPY_DST, UNIFORM } from './buffers.js';

export class UniformCache {
  private readonly cache = new Map<string, GPUBuffer>();

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
      if (this.cache.size > 4096) this.clear();
      this.cache.set(key, buf);
    }
    return buf;
  }

  clear(): void {
    for (const b of this.cache.values()) b.destroy();
    this.cache.clear();
  }
}
