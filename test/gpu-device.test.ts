import { describe, it, expect } from 'vitest';
import { planNvidiaIcdFix } from '../src/gpu/device.js';

const base = { nvidiaPresent: true, eglLibraryPresent: true, userChoseIcd: false };

describe('headless NVIDIA Vulkan ICD fix', () => {
  it('points the loader at libEGL_nvidia when the stock ICD uses GLX and there is no display', () => {
    const plan = planNvidiaIcdFix({ ...base, stockLibraryPath: 'libGLX_nvidia.so.0', stockApiVersion: '1.3.277' });
    expect(plan).toEqual({ file_format_version: '1.0.0', ICD: { library_path: 'libEGL_nvidia.so.0', api_version: '1.3.277' } });
  });
  it('also applies when no stock ICD json is installed at all', () => {
    expect(planNvidiaIcdFix({ ...base })?.ICD.library_path).toBe('libEGL_nvidia.so.0');
  });
  it('leaves machines alone where it does not apply', () => {
    expect(planNvidiaIcdFix({ ...base, nvidiaPresent: false })).toBeNull();
    expect(planNvidiaIcdFix({ ...base, eglLibraryPresent: false })).toBeNull();
    expect(planNvidiaIcdFix({ ...base, userChoseIcd: true, stockLibraryPath: 'libGLX_nvidia.so.0' })).toBeNull();
    expect(planNvidiaIcdFix({ ...base, stockLibraryPath: 'libEGL_nvidia.so.0' })).toBeNull();
    expect(planNvidiaIcdFix({ ...base, stockLibraryPath: 'libGLX_nvidia.so.0', display: ':0' })).toBeNull();
  });
});

describe('the navigator global set for tfjs-webgpu', () => {
  it('does not break libraries loaded after it that sniff navigator (exifr read navigator.userAgent)', async () => {
    const { getDevice } = await import('../src/gpu/device.js');
    await getDevice(); // sets globalThis.navigator (with or without an adapter)
    const { readFileSync } = await import('node:fs');
    const { readExif } = await import('../src/io/exif.js'); // loads exifr now, after the global exists
    const info = await readExif(new Uint8Array(readFileSync(new URL('../samples/lund/' + (await import('node:fs')).readdirSync(new URL('../samples/lund/', import.meta.url)).find((f) => f.endsWith('.jpg'))!, import.meta.url))));
    expect(info).toBeTruthy();
  });
});
