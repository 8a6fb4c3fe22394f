/**
 * WebGPU errors by pass: a command buffer that fails validation is dropped whole and silently
 * (its outputs keep their old contents), so where a wrong result must not pass unnoticed (the
 * resident step's self-checks, tests, R2S_GPU_STRICT=1) each pass runs inside error scopes of
 * every kind and the first error raised becomes a GpuPassError naming the pass.
 */
const SCOPE_FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/** A WebGPU error raised by one pass of a resident step (validation, out of memory, internal). */
export class GpuPassError extends Error {
  constructor(readonly pass: string, readonly kind: string, readonly detail: string) {
    super(`WebGPU ${kind} error in the ${pass} pass: ${detail}`);
    this.name = 'GpuPassError';
  }
}

/** Run `f` inside error scopes of every kind; throw GpuPassError for the first error raised. */
export async function inErrorScopes<T>(device: GPUDevice, pass: string, on: boolean, f: () => T | Promise<T>): Promise<T> {
  if (!on) return f();
  for (const k of SCOPE_FILTERS) device.pushErrorScope(k);
  let value: T;
  try {
    value = await f();
  } finally {
    // popped in reverse order of the pushes; all are popped even when f threw
    const errs: [string, GPUError | null][] = [];
    for (const k of [...SCOPE_FILTERS].reverse()) errs.push([k, await device.popErrorScope()]);
    const hit = errs.find(([, e]) => e);
    if (hit) throw new GpuPassError(pass, hit[0], hit[1]!.message.split('\n')[0]!);
  }
  return value;
}
