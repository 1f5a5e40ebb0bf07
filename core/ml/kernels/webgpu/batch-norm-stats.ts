// LooktwiceBatchNormStats (webgpu): the batch statistics of training-mode batch norm per channel,
//
//   mean[c]     = (1/R) Σ_r x[r, c]
//   variance[c] = (1/R) Σ_r (x[r, c] − mean[c])²        (biased, as tf.moments; two passes for accuracy)
//
// over x viewed as [R, C] (R = N·H·W for NHWC activations), with the transpose-free column reduction
// of column-sum.ts. Outputs [mean, variance], each [C].
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { columnSum } from './column-sum.ts';
import type { WebGPUBackend } from './webgpu-program.ts';

export const BATCH_NORM_STATS = 'LooktwiceBatchNormStats';

/** [mean, variance] ([C] each) of x viewed as [R, C]. */
export function batchNormStatistics(backend: WebGPUBackend, x: TensorInfo): [TensorInfo, TensorInfo] {
  if (x.dtype !== 'float32' || x.shape.length < 2) throw new Error(`${BATCH_NORM_STATS}: needs a float32 x of rank ≥ 2`);
  const channels = x.shape[x.shape.length - 1] ?? 1;
  const rows = util.sizeFromShape(x.shape) / channels;
  const mean = columnSum(backend, x, [channels], 1 / rows);
  const variance = columnSum(backend, x, [channels], 1 / rows, mean);
  return [mean, variance];
}

export function batchNormStatsConfig(): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x?: TensorInfo };
    if (x === undefined) throw new Error(`${BATCH_NORM_STATS}: needs x`);
    return batchNormStatistics(args.backend as WebGPUBackend, x);
  };
  return { kernelName: BATCH_NORM_STATS, backendName: 'webgpu', kernelFunc };
}
