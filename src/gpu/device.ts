/**
 * WebGPU bring-up through Dawn (npm `webgpu`). One GPUDevice per process, shared by our WGSL
 * kernels and by tfjs's webgpu backend.
 *
 * Headless NVIDIA machines (data-centre GPUs without a display) ship a Vulkan ICD that points at
 * libGLX_nvidia.so.0, which fails with "Found no drivers". The same driver works through
 * libEGL_nvidia.so.0, so we write an ICD json for it and point VK_ICD_FILENAMES there before
 * Dawn creates its Vulkan instance. Without any adapter, callers fall back to CPU reference paths.
 */
import { existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { warnOnce } from '../util/log.js';
import { quietNativeStderr } from './native-stderr.js';

export interface GpuContext {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** Adapter description, e.g. "llvmpipe (LLVM 19.1.7, 256 bits)" or "NVIDIA H100". */
  adapterName: string;
  /** True for a software rasterizer (lavapipe / SwiftShader). */
  isSoftware: boolean;
  /** The ICD fix applied, if any. */
  icdFix?: string;
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
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (e) {
    warnOnce('no-gpu', `WebGPU (Dawn) failed to load: ${(e as Error).message.split('\n')[0]}; using CPU reference paths`);
    return null;
  }
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
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
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
    },
  });
  device.addEventListener?.('uncapturederror', (ev: Event) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    warnOnce(`gpu-error-${err.message.slice(0, 40)}`, `GPU error: ${err.message.split('\n')[0]}`);
  });
  const info = adapter.info;
  const adapterName = [info.description, info.device, info.vendor].find((s) => s && s.length > 0) ?? 'unknown adapter';
  const isSoftware = /llvmpipe|lavapipe|swiftshader/i.test(`${info.description} ${info.device} ${info.architecture}`) || info.vendor === 'mesa';
  return { adapter, device, adapterName, isSoftware, ...(icdFix ? { icdFix } : {}) };
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
