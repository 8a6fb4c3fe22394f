/**
 * Small helpers around GPUBuffer: named buffers that grow on demand (never shrink silently below
 * what a caller asked for), uploads, read-backs, pipeline creation and dispatch sizing. A size
 * above the device's storage-binding limit throws an error that names the buffer and the limit,
 * instead of letting WebGPU fail later with a validation message.
 */
import { UserError } from '../util/errors.js';

export const STORAGE = 0x80; // GPUBufferUsage.STORAGE (constants are not globals before Dawn loads)
export const COPY_SRC = 0x04;
export const COPY_DST = 0x08;
export const UNIFORM = 0x40;
export const MAP_READ = 0x01;

/** A byte range of a buffer, bound as one storage binding (offset a multiple of 256). */
export interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

/** A whole buffer or a range of one: what kernels take as a storage binding. */
export type Binding = GPUBuffer | BufferRange;

/** Round a byte size up to a multiple of 4 and at least 16 (zero-sized bindings are invalid). */
export function alignSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 4) * 4);
}

/** A device limit was hit; a UserError so the CLI prints one line. */
export class GpuLimitError extends UserError {
  constructor(message: string, fix = 'render fewer Gaussians or a smaller image, or use a GPU with larger limits') {
    super(message, { fix });
    this.name = 'GpuLimitError';
  }
}

/** A set of named storage buffers that grow on demand; tracks the bytes it holds. */
export class BufferPool {
  private readonly buffers = new Map<string, GPUBuffer>();
  /** grown-out buffers, destroyed at the next retire() (they may still be used by recorded work) */
  private retired: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice) {}

  /**
   * A storage buffer named `name` of at least `bytes` bytes (contents undefined after growth).
   * Grows by 1.5× so a slowly growing scene does not reallocate every step.
   */
  get(name: string, bytes: number, usage = STORAGE | COPY_SRC | COPY_DST): GPUBuffer {
    const need = alignSize(bytes);
    const limit = Number(this.device.limits.maxStorageBufferBindingSize);
    if (need > limit) {
      throw new GpuLimitError(
        `GPU buffer '${name}' needs ${need} bytes but this device binds at most ${limit} bytes per storage buffer (maxStorageBufferBindingSize)`,
      );
    }
    const cur = this.buffers.get(name);
    if (cur && cur.size >= need) return cur;
    if (cur) this.retired.push(cur);
    const size = Math.min(limit, alignSize(Math.ceil(need * (cur ? 1.5 : 1))));
    const buf = this.device.createBuffer({ label: name, size, usage });
    this.buffers.set(name, buf);
    return buf;
  }

  /** Destroy grown-out buffers; call when no recorded-but-unsubmitted work may use them. */
  retire(): void {
    for (const b of this.retired) b.destroy();
    this.retired = [];
  }

  has(name: string): boolean {
    return this.buffers.has(name);
  }

  bytes(): number {
    let s = 0;
    for (const b of this.buffers.values()) s += b.size;
    return s;
  }

  destroy(): void {
    this.retire();
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}

export function upload(device: GPUDevice, buf: GPUBuffer, data: ArrayBufferView, offset = 0): void {
  // writeBuffer wants a multiple of 4 bytes
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength % 4 === 0) device.queue.writeBuffer(buf, offset, bytes);
  else {
    const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
    padded.set(bytes);
    device.queue.writeBuffer(buf, offset, padded);
  }
}

/** Copy `bytes` bytes of `src` (from `offset`) to the CPU. */
export async function readBuffer(device: GPUDevice, src: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  if (size === 0) return new ArrayBuffer(0);
  const staging = device.createBuffer({ size, usage: MAP_READ | COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, offset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(device: GPUDevice, src: Binding, count: number): Promise<Float32Array> {
  if ('buffer' in src) return new Float32Array(await readBuffer(device, src.buffer, count * 4, src.offset));
  return new Float32Array(await readBuffer(device, src, count * 4));
}

export async function readU32(device: GPUDevice, src: GPUBuffer, count: number, offset = 0): Promise<Uint32Array> {
  return new Uint32Array(await readBuffer(device, src, count * 4, offset));
}

/** Compile a compute pipeline; shader compile errors surface as one clear exception. */
export async function computePipeline(device: GPUDevice, label: string, code: string, entryPoint = 'main'): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    throw new Error(`WGSL '${label}' failed to compile: ${errors.map((e) => `line ${e.lineNum}: ${e.message}`).join('; ')}`);
  }
  return device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint } });
}

export function bindGroup(device: GPUDevice, pipeline: GPUComputePipeline, buffers: (Binding | { buffer: GPUBuffer; offset?: number; size?: number })[], group = 0): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(group),
    entries: buffers.map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } })),
  });
}

/**
 * Workgroup grid for `groups` workgroups: WebGPU allows 65535 per dimension, so larger counts
 * spill into y. Shaders compute the linear id as wid.x + wid.y · nwg.x and skip ids past the end.
 */
export function grid(groups: number, maxPerDim = 65535): [number, number] {
  if (groups <= maxPerDim) return [Math.max(1, groups), 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}

export function dispatch(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, group: GPUBindGroup, groups: number): void {
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  const [x, y] = grid(groups);
  pass.dispatchWorkgroups(x, y);
}
