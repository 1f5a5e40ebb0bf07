// Sum for the webgpu backend when it reduces every axis but the last of a float32 tensor (per-channel
// sums of NHWC activations, as in batch norm's gradient): Σ_{n,h,w} x[n, h, w, c] without the stock
// kernel's transpose (see column-sum.ts). Every other case runs the stock kernel.
import { Sum, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs';
import { columnReductionConfig } from './column-sum.ts';

/** Kernel registration for the webgpu backend; `fallback` is the stock kernel it replaces. */
export function sumConfig(fallback: KernelFunc | undefined): KernelConfig {
  return columnReductionConfig(Sum, fallback);
}
