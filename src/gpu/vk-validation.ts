/**
 * The Khronos Vulkan validation layer under Dawn, for tests and device checks.
 *
 * With R2S_VK_VALIDATION=<dir>, `enableVkValidation` (called by device.ts before Dawn creates its
 * Vulkan instance) turns the layer on for this process with synchronization validation, and has it
 * write every error (core validation errors and SYNC-HAZARD-* reports alike) to
 * `<dir>/<R2S_VK_VALIDATION_TAG or "r2s">.<pid>.log`. Child processes inherit the variables and get
 * their own file the same way, so a test can find every message its process tree produced.
 *
 * Why a log file: Dawn (npm `webgpu`, dawn.node) turns the layer on itself with the create() flag
 * `validate=1` and forwards an error to a device only when one of the Vulkan objects named in the
 * message carries Dawn's device label; everything else (e.g. an out-of-limit vkCmdDispatch, whose
 * objects are an unnamed command buffer and pipeline) is only printed to stderr as "Error: …" and
 * never reaches an error scope or the uncapturederror event. The layer's own log misses nothing.
 *
 * Which layer: Debian 12's `vulkan-validationlayers` (1.3.239; none in bookworm-backports) predates
 * the Vulkan 1.3/1.4 structures Dawn chains (VkPhysicalDeviceProperties2 / VkDeviceCreateInfo pNext,
 * SPV_KHR_maximal_reconvergence) and reports them as errors. Debian's `chromium` package ships a
 * current layer (/usr/lib/chromium/libVkLayer_khronos_validation.so) without a manifest; we write
 * one under <dir>/layer and point VK_LAYER_PATH there.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/fsx.js';

const LAYER = 'VK_LAYER_KHRONOS_validation';
const LAYER_LIBRARIES = ['/usr/lib/chromium/libVkLayer_khronos_validation.so'];

/** The manifest the Vulkan loader needs to load a layer library that ships without one. */
function layerManifest(library: string): string {
  const ext = (name: string, spec: string, entrypoints?: string[]) => ({ name, spec_version: spec, ...(entrypoints ? { entrypoints } : {}) });
  return JSON.stringify({
    file_format_version: '1.2.0',
    layer: {
      name: LAYER,
      type: 'GLOBAL',
      library_path: library,
      api_version: '1.4.309',
      implementation_version: '1',
      description: 'Khronos Validation Layer',
      instance_extensions: [ext('VK_EXT_debug_report', '9'), ext('VK_EXT_debug_utils', '1'), ext('VK_EXT_layer_settings', '2'), ext('VK_EXT_validation_features', '2')],
      device_extensions: [
        ext('VK_EXT_debug_marker', '4', ['vkDebugMarkerSetObjectTagEXT', 'vkDebugMarkerSetObjectNameEXT', 'vkCmdDebugMarkerBeginEXT', 'vkCmdDebugMarkerEndEXT', 'vkCmdDebugMarkerInsertEXT']),
        ext('VK_EXT_validation_cache', '1', ['vkCreateValidationCacheEXT', 'vkDestroyValidationCacheEXT', 'vkGetValidationCacheDataEXT', 'vkMergeValidationCachesEXT']),
        ext('VK_EXT_tooling_info', '1', ['vkGetPhysicalDeviceToolPropertiesEXT']),
      ],
    },
  }, null, 2) + '\n';
}

/** The validation layer library this machine has, or null. */
export function findValidationLayer(): string | null {
  return LAYER_LIBRARIES.find((f) => existsSync(f)) ?? null;
}

/**
 * Turn the validation layer on for this process when R2S_VK_VALIDATION names a folder; returns the
 * log file this process's messages go to, or undefined when validation is off. Must run before the
 * first Vulkan instance is created. Throws when validation is asked for and no layer is installed
 * (a run that silently validated nothing would pass every check).
 */
export async function enableVkValidation(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const dir = env.R2S_VK_VALIDATION;
  if (!dir) return undefined;
  const library = findValidationLayer();
  if (!library) throw new Error('R2S_VK_VALIDATION is set but no Vulkan validation layer is installed (fix: bash scripts/setup.sh installs chromium, which ships it)');
  const layerDir = path.join(path.resolve(dir), 'layer');
  const manifest = path.join(layerDir, 'VkLayer_khronos_validation.json');
  const text = layerManifest(library);
  if (!existsSync(manifest) || readFileSync(manifest, 'utf8') !== text) await writeFileAtomic(manifest, text);
  const layers = (env.VK_INSTANCE_LAYERS ?? '').split(':').filter(Boolean);
  env.VK_LAYER_PATH = layerDir;
  env.VK_INSTANCE_LAYERS = [...new Set([...layers, LAYER])].join(':');
  env.VK_KHRONOS_VALIDATION_VALIDATE_SYNC = 'true';
  env.VK_KHRONOS_VALIDATION_DEBUG_ACTION = 'VK_DBG_LAYER_ACTION_LOG_MSG';
  env.VK_KHRONOS_VALIDATION_REPORT_FLAGS = env.R2S_VK_VALIDATION_REPORT ?? 'error';
  const log = path.join(path.resolve(dir), `${env.R2S_VK_VALIDATION_TAG ?? 'r2s'}.${process.pid}.log`);
  env.VK_KHRONOS_VALIDATION_LOG_FILENAME = log;
  return log;
}

/** One message of a validation log: its id (a VUID or SYNC-HAZARD-…) and its first lines. */
export interface VkValidationMessage {
  file: string;
  severity: string;
  id: string;
  text: string;
}

/**
 * Split a validation layer log into its messages: "Validation Error: [ id ] …" blocks, each ended
 * by an empty line.
 */
export function parseValidationLog(text: string, file = ''): VkValidationMessage[] {
  const out: VkValidationMessage[] = [];
  for (const block of text.split(/\n\n+(?=\S)/)) {
    if (!block.trim()) continue;
    // a block in a format we do not know still counts: a message must never be dropped
    const m = /^Validation ([A-Za-z ]+): \[ ([^\]]+?) \]/.exec(block.trimStart());
    const lines = block.trim().split('\n').filter((l) => l.trim() && !/^(Objects: \d+|\s+\[\d+\] )/.test(l));
    out.push({ file, severity: m?.[1] ?? 'message', id: m?.[2] ?? '?', text: lines.slice(0, 3).join(' ').replace(/\s+/g, ' ').slice(0, 600) });
  }
  return out;
}

/**
 * Messages logged under `dir` by the processes tagged `tag` since the offsets in `seen` (file →
 * bytes already read; updated in place), so a caller can check once per test.
 */
export function readValidationLogs(dir: string, tag: string, seen: Map<string, number> = new Map()): VkValidationMessage[] {
  if (!existsSync(dir)) return [];
  const out: VkValidationMessage[] = [];
  for (const name of readdirSync(dir).filter((f) => f.startsWith(`${tag}.`) && f.endsWith('.log')).sort()) {
    const file = path.join(dir, name);
    const size = statSync(file).size;
    const from = seen.get(file) ?? 0;
    if (size <= from) continue;
    const text = readFileSync(file).subarray(from, size).toString('utf8');
    // the layer writes a message with several calls: read only up to the last complete one
    const end = text.lastIndexOf('\n\n');
    const complete = end >= 0 ? text.slice(0, end + 1) : '';
    seen.set(file, from + Buffer.byteLength(complete));
    out.push(...parseValidationLog(complete, file));
  }
  return out;
}
