/**
 * Training kernels the project registers for tfjs's wasm backend: the ones it lacks
 * (Conv2DBackpropFilter) and the ones it has but runs too slowly for training
 * (Conv2DBackpropInput; Identity, which copies every tensor the tape saves), and the fused
 * optimizer updates (./optimizer-update.ts). Each is checked against the cpu backend or the
 * separate ops in test/ml/kernels/wasm/.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.ts';
import { identityConfig } from './identity.ts';
import { adamUpdateConfig, momentumUpdateConfig } from './optimizer-update.ts';

export const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [conv2dBackpropFilterConfig, conv2dBackpropInputConfig, identityConfig, adamUpdateConfig, momentumUpdateConfig];

let registered = false;
/** The backend's own kernels that ours replaced (undefined: it had none), for A/B benchmarks. */
const stock = new Map<string, tf.KernelConfig | undefined>();

/** Registers (once) the project's wasm kernels, replacing the backend's own where it has one. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (!stock.has(config.kernelName)) stock.set(config.kernelName, existing);
    if (existing) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}

/**
 * Puts the backend's own kernel back for `kernelName` (true) or ours again (false); benchmarks
 * compare the two in one process. A kernel the backend lacks stays ours.
 */
export function useStockWasmKernel(kernelName: string, useStock: boolean): void {
  const ours = WASM_TRAINING_KERNELS.find((config) => config.kernelName === kernelName);
  const theirs = stock.get(kernelName);
  if (!ours || !theirs) return;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel(useStock ? theirs : ours);
}
