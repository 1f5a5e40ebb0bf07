// Mean for the webgpu backend when it reduces every axis but the last of a float32 tensor (per-channel
// means of NHWC activations: batch norm's batch statistics): (1/R)·Σ_{n,h,w} x[n, h, w, c] without the stock
// kernel's transpose (see column-sum.ts). Every other case runs the stock kernel.
import { Mean, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs';
import { columnReductionConfig } from './column-sum.ts';

/** Kernel registration for the webgpu backend; `fallback` is the stock kernel it replaces. */
export function meanConfig(fallback: KernelFunc | undefined): KernelConfig {
  return columnReductionConfig(Mean, fallback);
}
