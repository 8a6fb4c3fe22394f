/**
 * WebGPU bring-up through Dawn (npm `webgpu`). One GPUDevice per process, shared by our WGSL
 * kernels and by tfjs's webgpu backend.
 *
 * Headless NVIDIA machines (data-centre GPUs without a display) ship a Vulkan ICD that points at
 * libGLX_nvidia.so.0, which fails with "Found no drivers". The same driver works through
 * libEGL_nvidia.so.0, so we write an ICD json for it and point VK_ICD_FILENAMES there before
 * Dawn creates its Vulkan instance. Without any adapter, callers fall back to CPU reference paths.
 *
 * WebGPU errors nobody captured in an error scope (a command buffer rejected at submit is dropped
 * whole, silently) print one warning line naming the labelled pass or object they came from. In
 * strict mode (R2S_GPU_STRICT=1: the test suite, self-checks) each is also recorded, and
 * `takeGpuErrors` / `assertNoGpuErrors` let the caller fail hard. R2S_VK_VALIDATION=<dir> runs
 * Dawn under the Khronos validation layer (vk-validation.ts).
 */
import { existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { warnOnce } from '../util/log.js';
import { quietNativeStderr } from './native-stderr.js';
import { enableVkValidation } from './vk-validation.js';

export interface GpuContext {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** Adapter description, e.g. "llvmpipe (LLVM 19.1.7, 256 bits)" or "NVIDIA H100". */
  adapterName: string;
  /** True for a software rasterizer (lavapipe / SwiftShader). */
  isSoftware: boolean;
  /** The ICD fix applied, if any. */
  icdFix?: string;
  /** The Vulkan validation layer's log for this process (R2S_VK_VALIDATION), if it is on. */
  validationLog?: string;
}

export interface DeviceProbe {
  ok: boolean;
  adapterName?: string;
  vendor?: string;
  architecture?: string;
  description?: string;
  isSoftware?: boolean;
  features?: string[];
  limits?: Record<string, number>;
  icdFix?: string;
  problem?: string;
  fix?: string;
}

const STOCK_ICD_DIRS = [
  '/usr/share/vulkan/icd.d',
  '/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/local/nvidia/share/vulkan/icd.d',
];

function nvidiaPresent(): boolean {
  return existsSync('/proc/driver/nvidia/version') || existsSync('/dev/nvidia0');
}

function libraryExists(name: string): boolean {
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes(name);
  } catch {
    return ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/local/nvidia/lib64', '/usr/lib'].some((d) => existsSync(path.join(d, name)));
  }
}

function stockNvidiaIcd(): { file: string; json: { ICD?: { api_version?: string; library_path?: string } } } | null {
  for (const dir of STOCK_ICD_DIRS) {
    const file = path.join(dir, 'nvidia_icd.json');
    if (existsSync(file)) {
      try {
        return { file, json: JSON.parse(readFileSync(file, 'utf8')) };
      } catch {
        /* unreadable: ignore */
      }
    }
  }
  return null;
}

export interface NvidiaIcdFacts {
  nvidiaPresent: boolean;
  eglLibraryPresent: boolean;
  /** library_path and api_version of the installed nvidia_icd.json, if any */
  stockLibraryPath?: string;
  stockApiVersion?: string;
  display?: string;
  /** VK_ICD_FILENAMES / VK_DRIVER_FILES already set by the user */
  userChoseIcd: boolean;
}

/**
 * Decide whether the headless-NVIDIA fix applies; returns the ICD json to write, or null.
 * Pure, so tests can cover every case without an NVIDIA machine.
 */
export function planNvidiaIcdFix(f: NvidiaIcdFacts): { file_format_version: string; ICD: { library_path: string; api_version: string } } | null {
  if (f.userChoseIcd || !f.nvidiaPresent || !f.eglLibraryPresent) return null;
  const stockLib = f.stockLibraryPath ?? '';
  if (stockLib.includes('EGL')) return null; // already the variant that works headless
  if (f.display && stockLib) return null; // a display exists: the GLX ICD can work
  return { file_format_version: '1.0.0', ICD: { library_path: 'libEGL_nvidia.so.0', api_version: f.stockApiVersion ?? '1.3.0' } };
}

/**
 * On a headless NVIDIA machine, write an ICD json for libEGL_nvidia.so.0 and point the Vulkan
 * loader at it. Returns the path written, or undefined when no fix applies. Must run before the
 * first Vulkan instance is created in this process.
 */
export function applyHeadlessNvidiaFix(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const present = nvidiaPresent();
  const stock = present ? stockNvidiaIcd() : null;
  const plan = planNvidiaIcdFix({
    nvidiaPresent: present,
    eglLibraryPresent: present && libraryExists('libEGL_nvidia.so.0'),
    stockLibraryPath: stock?.json.ICD?.library_path,
    stockApiVersion: stock?.json.ICD?.api_version,
    display: env.DISPLAY,
    userChoseIcd: Boolean(env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES),
  });
  if (!plan) return undefined;
  const dir = path.join(os.homedir(), '.cache', 'r2s');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'nvidia_icd_egl.json');
  writeFileSync(file, JSON.stringify(plan, null, 2));
  env.VK_ICD_FILENAMES = file;
  return file;
}

let cached: Promise<GpuContext | null> | null = null;

/** The shared device, or null when there is no adapter (callers use CPU reference paths). */
export function getDevice(): Promise<GpuContext | null> {
  if (!cached) cached = createContext();
  return cached;
}

/** The shared device if this process has asked for one (without creating it), else null. */
export async function deviceIfCreated(): Promise<GpuContext | null> {
  return cached ? cached.catch(() => null) : null;
}

/** Like getDevice(), but throws a clear error when no GPU adapter is available. */
export async function requireDevice(): Promise<GpuContext> {
  const ctx = await getDevice();
  if (!ctx) throw new Error(`no WebGPU adapter: ${noAdapterFix()}`);
  return ctx;
}

function noAdapterFix(): string {
  if (nvidiaPresent()) return 'NVIDIA driver found but Vulkan failed; run `r2s doctor` for the exact fix';
  return 'install a Vulkan driver (Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers) and run `r2s doctor`';
}

async function createContext(): Promise<GpuContext | null> {
  if (process.env.R2S_NO_GPU === '1') {
    warnOnce('no-gpu', 'R2S_NO_GPU=1: using CPU reference paths');
    return null;
  }
  const icdFix = applyHeadlessNvidiaFix();
  const validationLog = await enableVkValidation();
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (e) {
    warnOnce('no-gpu', `WebGPU (Dawn) failed to load: ${(e as Error).message.split('\n')[0]}; using CPU reference paths`);
    return null;
  }
  Object.assign(globalThis, webgpu.globals);
  // R2S_DAWN_FLAGS: dawn.node create() flags, space-separated (e.g. enable-dawn-features=dump_shaders)
  const gpu = webgpu.create((process.env.R2S_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean));
  // tfjs-backend-webgpu looks for navigator.gpu.
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav) {
    try {
      Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    } catch {
      /* read-only navigator: tfjs interop then needs setting up by the caller */
    }
  } else {
    // Node 20 has no navigator. Libraries that sniff it (exifr reads navigator.userAgent) must not
    // crash once it exists, so it gets a userAgent too.
    (globalThis as { navigator?: unknown }).navigator = { gpu, userAgent: `Node.js/${process.version}` };
  }
  // Dawn's limit-clamping notices are printed during this (synchronous) call: native-stderr.ts.
  const adapter = await quietNativeStderr(() => gpu.requestAdapter({ powerPreference: 'high-performance' }));
  if (!adapter) {
    warnOnce('no-gpu', `no WebGPU adapter (${noAdapterFix()}); using CPU reference paths`);
    return null;
  }
  const wanted: GPUFeatureName[] = ['timestamp-query', 'subgroups' as GPUFeatureName, 'shader-f16'];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const lim = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      // not maxStorageBuffersPerShaderStage: every kernel fits WebGPU's default of 8, and keeping
      // the default makes Dawn hold them to it on every adapter (browsers and Apple GPUs sit there)
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
    },
  });
  device.addEventListener?.('uncapturederror', (ev: Event) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    const line = describeGpuError(err);
    if (gpuStrict()) strictErrors.push(line);
    warnOnce(`gpu-error-${err.message.slice(0, 60)}`, line);
  });
  void device.lost.then((i) => {
    if (i.reason !== 'destroyed' && gpuStrict()) strictErrors.push(`GPU device lost (${i.reason}): ${i.message.split('\n')[0]}`);
  });
  const info = adapter.info;
  const adapterName = [info.description, info.device, info.vendor].find((s) => s && s.length > 0) ?? 'unknown adapter';
  const isSoftware = /llvmpipe|lavapipe|swiftshader/i.test(`${info.description} ${info.device} ${info.architecture}`) || info.vendor === 'mesa';
  return { adapter, device, adapterName, isSoftware, ...(icdFix ? { icdFix } : {}), ...(validationLog ? { validationLog } : {}) };
}

/** Strict mode: every uncaptured WebGPU error is recorded for takeGpuErrors (tests, self-checks). */
function gpuStrict(): boolean {
  return process.env.R2S_GPU_STRICT === '1';
}

const strictErrors: string[] = [];

/** Object kinds whose label names a pass, most specific first. */
const LABEL_KINDS = ['ComputePassEncoder', 'RenderPassEncoder', 'CommandBuffer', 'CommandEncoder', 'ComputePipeline', 'RenderPipeline', 'ShaderModule', 'BindGroup', 'Buffer', 'Texture'];

/**
 * One line for an uncaptured WebGPU error: its kind, the label of the pass (or other object) it
 * names, and the first line of Dawn's message, e.g.
 * `GPU validation error in "loss": [Buffer "dRgb"] used in submit while destroyed.`
 */
export function describeGpuError(err: { message: string; constructor?: { name?: string } }): string {
  const kind = (err.constructor?.name ?? '').replace(/^GPU/, '').replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  let label: string | undefined;
  for (const k of LABEL_KINDS) {
    const m = new RegExp(`${k} "([^"]+)"`).exec(err.message);
    if (m) { label = m[1]; break; }
  }
  return `GPU ${kind && kind !== 'error' ? `${kind} ` : ''}error${label ? ` in "${label}"` : ''}: ${err.message.split('\n')[0]}`;
}

/**
 * The uncaptured WebGPU errors recorded in strict mode since the last call (and clears them). Waits
 * for the device's queued work first, so errors of work already submitted are in.
 */
export async function takeGpuErrors(): Promise<string[]> {
  const ctx = await deviceIfCreated();
  if (ctx) {
    await Promise.race([ctx.device.queue.onSubmittedWorkDone().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
  }
  return strictErrors.splice(0);
}

/** Throws one Error listing every uncaptured WebGPU error recorded in strict mode (see takeGpuErrors). */
export async function assertNoGpuErrors(where = ''): Promise<void> {
  const errs = await takeGpuErrors();
  if (errs.length > 0) throw new Error(`${errs.length} uncaptured WebGPU error(s)${where ? ` ${where}` : ''}:\n${errs.join('\n')}`);
}

/** Everything `r2s doctor` prints. */
export async function probeDevice(): Promise<DeviceProbe> {
  const ctx = await getDevice();
  if (!ctx) {
    return { ok: false, problem: 'no WebGPU adapter found', fix: noAdapterFix(), ...(process.env.VK_ICD_FILENAMES ? { icdFix: process.env.VK_ICD_FILENAMES } : {}) };
  }
  const limits: Record<string, number> = {};
  const lim = ctx.device.limits as unknown as Record<string, number>;
  for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage']) {
    limits[k] = Number(lim[k]);
  }
  const info = ctx.adapter.info;
  return {
    ok: true,
    adapterName: ctx.adapterName,
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    isSoftware: ctx.isSoftware,
    features: [...ctx.device.features].map(String).sort(),
    limits,
    ...(ctx.icdFix ? { icdFix: ctx.icdFix } : {}),
  };
}
