// Starts TensorFlow.js's webgpu backend on Dawn (the `webgpu` npm package) in Node, for the custom
// kernels' tests and benchmarks. The product's backend choice lives in core/ml/backend.ts; this helper
// exists so the kernels can be checked on their own (in CI on Mesa's lavapipe, on a real GPU in the kit).
//
// Import-order trap: @tensorflow/tfjs-backend-webgpu registers the 'webgpu' backend only if
// `navigator.gpu` exists when the module is evaluated, so navigator is installed first and the
// backend is imported dynamically afterwards.
import * as tf from '@tensorflow/tfjs';
import { create, globals } from 'webgpu';

/** What the started backend runs on. */
export interface DawnBackendInfo {
  /** Adapter description, e.g. "llvmpipe (LLVM 19.1.7, 256 bits)" or "NVIDIA H200". */
  adapterDescription: string;
  /** Whether GPU timestamp queries work, i.e. `tf.profile` kernelTimeMs is real GPU time. */
  timestampQuery: boolean;
}

interface NavigatorWithGpu {
  gpu?: unknown;
}

/** Installs `navigator.gpu` from Dawn if the process has none (Node). Idempotent. */
export function installDawnNavigator(): void {
  const holder = globalThis as unknown as { navigator?: NavigatorWithGpu };
  if (holder.navigator?.gpu !== undefined) return;
  Object.assign(globalThis, globals);
  const gpu = create([]);
  if (holder.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(holder.navigator, 'gpu', { value: gpu, configurable: true });
  }
}

/**
 * Makes 'webgpu' the active tfjs backend on Dawn. Throws (never falls back) when no adapter is
 * found: callers that need a GPU must fail loudly, e.g. CI where lavapipe must be installed.
 */
export async function startDawnWebgpuBackend(): Promise<DawnBackendInfo> {
  installDawnNavigator();
  const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) {
    throw new Error(
      'WebGPU: Dawn found no adapter. On Linux without a GPU install Mesa lavapipe >= 25 ' +
        '(mesa-vulkan-drivers from bookworm-backports); with a GPU check the Vulkan driver.',
    );
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('WebGPU: tfjs could not start the webgpu backend');
  await tf.ready();
  const info = adapter.info;
  const adapterDescription =
    [info.vendor, info.architecture, info.device, info.description].filter((part) => part !== '').join(' ') ||
    'unknown adapter';
  return { adapterDescription, timestampQuery: adapter.features.has('timestamp-query') };
}
