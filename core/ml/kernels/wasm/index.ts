/**
 * Training kernels the project registers for tfjs's wasm backend: the ones it lacks
 * (Conv2DBackpropFilter) and the ones it has but runs too slowly for training
 * (Conv2DBackpropInput). Each is checked against the cpu backend in test/ml/kernels/wasm/.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.ts';

export const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [conv2dBackpropFilterConfig, conv2dBackpropInputConfig];

let registered = false;

/** Registers (once) the project's wasm kernels, replacing the backend's own where it has one. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const config of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
