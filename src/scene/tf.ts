/**
 * TensorFlow.js set-up: ONE backend per process, chosen once. 'auto' is the cpu backend: what tfjs
 * still does per step (the photometric model's autodiff) is small elementwise work, and in Node the
 * webgpu backend cannot read tensors synchronously (dataSync needs OffscreenCanvas), which the
 * custom-gradient ops rely on. Measured on lavapipe, 128×96 loss+gradient: tfjs cpu 262 ms, tfjs
 * webgpu 167 ms, our TypeScript loss (image-loss.ts) 69–90 ms — so the loss left tfjs altogether.
 * 'webgpu' stays selectable for experiments (runs on the same Dawn device as the rasterizer).
 */
import * as tf from '@tensorflow/tfjs';
import { getDevice } from '../gpu/device.js';
import { warnOnce } from '../util/log.js';

export type TfBackendChoice = 'auto' | 'cpu' | 'webgpu';

// The cpu backend prints a 4-line "install tfjs-node" banner on its first tensor in Node, into
// every eval log. PROD only gates tfjs's console warnings (tfjs-core log.ts, environment.ts),
// not any computation: set before any backend exists.
tf.enableProdMode();

let chosen: Promise<'cpu' | 'webgpu'> | null = null;

export function initTf(choice: TfBackendChoice = 'auto'): Promise<'cpu' | 'webgpu'> {
  if (!chosen) chosen = pick(choice);
  return chosen;
}

async function pick(choice: TfBackendChoice): Promise<'cpu' | 'webgpu'> {
  const env = process.env.R2S_TF_BACKEND as TfBackendChoice | undefined;
  const want = env && env !== 'auto' ? env : choice;
  if (want !== 'cpu') {
    const ctx = await getDevice();
    const useGpu = ctx && want === 'webgpu';
    if (useGpu) {
      try {
        await import('@tensorflow/tfjs-backend-webgpu');
        // We hand GPUBuffers to tfjs ourselves; its CPU forwarding for small tensors would
        // break that interop.
        tf.env().set('WEBGPU_CPU_FORWARD', false);
        if (await tf.setBackend('webgpu')) {
          await tf.ready();
          return 'webgpu';
        }
      } catch (e) {
        warnOnce('tf-webgpu', `tfjs webgpu backend failed (${(e as Error).message.split('\n')[0]}); using the cpu backend`);
      }
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}

export { tf };
