// Looktwice's own WebGPU kernels for tfjs-backend-webgpu, registered over the stock ones.
//
// tfjs keeps one kernel per (kernelName, backendName) in a global registry and looks it up on every
// op, so replacing a stock kernel is `unregisterKernel` + `registerKernel`; the stock function is kept
// as the fallback for cases a custom kernel does not cover (NCHW, non-float32) and so that
// `restoreStockWebgpuKernels()` can put it back (benchmarks compare the two in one process).
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs';
import { batchNormApplyConfig } from './batch-norm-apply.ts';
import { batchNormGradConfig } from './batch-norm-grad.ts';
import { batchNormStatsConfig } from './batch-norm-stats.ts';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, batchNormTrainingConfig, batchNormTrainingGradConfig } from './batch-norm-training.ts';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.ts';
import { meanConfig } from './mean.ts';
import { sgdMomentumVelocityConfig } from './sgd-momentum-velocity.ts';
import { sumConfig } from './sum.ts';

type ConfigFactory = (fallback: KernelFunc | undefined) => KernelConfig;

/** Custom kernels, by kernel name. */
const FACTORIES: ReadonlyMap<string, ConfigFactory> = new Map([
  ['Conv2DBackpropFilter', conv2DBackpropFilterConfig],
  ['Conv2DBackpropInput', conv2DBackpropInputConfig],
  ['Sum', sumConfig],
  ['Mean', meanConfig],
  // New kernels (no stock counterpart), used by the fused ops batch-norm-relu.ts and sgd-momentum-update.ts.
  ['LooktwiceBatchNormStats', batchNormStatsConfig],
  ['LooktwiceBatchNormApply', batchNormApplyConfig],
  ['LooktwiceBatchNormGrad', batchNormGradConfig],
  ['LooktwiceSgdMomentumVelocity', sgdMomentumVelocityConfig], // used by sgd-momentum-update.ts
  // webgpu versions of core/ml's own fused batch-norm kernels (used by batch-norm.ts as they are).
  [BATCH_NORM_TRAINING, batchNormTrainingConfig],
  [BATCH_NORM_TRAINING_GRAD, batchNormTrainingGradConfig],
]);

const stock = new Map<string, KernelConfig | undefined>();

/** Names of the kernels this module replaces. */
export const CUSTOM_WEBGPU_KERNELS: readonly string[] = [...FACTORIES.keys()];

/**
 * Replaces tfjs-backend-webgpu's kernels named in `only` (default: all of CUSTOM_WEBGPU_KERNELS)
 * with ours. Idempotent. Call after '@tensorflow/tfjs-backend-webgpu' has been imported (its
 * import registers the stock kernels; registering ours first would be overwritten).
 */
export function registerWebgpuKernels(only: readonly string[] = CUSTOM_WEBGPU_KERNELS): void {
  for (const name of only) {
    const factory = FACTORIES.get(name);
    if (factory === undefined) throw new Error(`registerWebgpuKernels: no custom webgpu kernel named ${name}`);
    if (stock.has(name)) continue;
    const original = getKernel(name, 'webgpu');
    stock.set(name, original);
    if (original !== undefined) unregisterKernel(name, 'webgpu');
    registerKernel(factory(original?.kernelFunc));
  }
}

/** Puts the stock kernels back (for before/after measurements). */
export function restoreStockWebgpuKernels(): void {
  for (const [name, original] of stock) {
    unregisterKernel(name, 'webgpu');
    if (original !== undefined) registerKernel(original);
  }
  stock.clear();
}
