// WebGPU implementations of core/ml's fused training batch-norm kernels (the names and contract of
// ../batch-norm-training.ts, whose gradient registration drives autodiff on every backend):
//
//   LooktwiceBatchNormTraining      {x, scale, offset}, {epsilon} → [y, mean, variance]
//     mean, variance = biased batch statistics over all axes but the last; y = x̂·scale + offset
//   LooktwiceBatchNormTrainingGrad  {dy, x, scale, mean, variance}, {epsilon} → [dx, dScale, dOffset]
//     dOffset = Σ dy, dScale = Σ dy·x̂, dx = scale/√(var + ε) · (dy − dOffset/R − x̂·dScale/R)
//
// built from batch-norm-stats.ts, batch-norm-apply.ts and batch-norm-grad.ts (without the ReLU).
// Registering them makes core/ml/batch-norm.ts's batchNormTraining take its fused path on webgpu:
// 5 dispatches forward and 5 backward per layer instead of tfjs's ~30 for moments → batchNorm.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../batch-norm-training.ts';
import { batchNormApply } from './batch-norm-apply.ts';
import { batchNormGradient } from './batch-norm-grad.ts';
import { batchNormStatistics } from './batch-norm-stats.ts';
import { splitKSum } from './split-k-sum.ts';
import type { WebGPUBackend } from './webgpu-program.ts';

export { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD };

export function batchNormTrainingConfig(): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const backend = args.backend as WebGPUBackend;
    const { x, scale, offset } = args.inputs as Record<string, TensorInfo | undefined>;
    const epsilon = Number(args.attrs?.epsilon);
    if (x === undefined || scale === undefined || offset === undefined) throw new Error(`${BATCH_NORM_TRAINING}: needs x, scale, offset`);
    const [mean, variance] = batchNormStatistics(backend, x);
    const y = batchNormApply(backend, { x, mean, variance, scale, offset }, epsilon, false);
    return [y, mean, variance];
  };
  return { kernelName: BATCH_NORM_TRAINING, backendName: 'webgpu', kernelFunc };
}

export function batchNormTrainingGradConfig(): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const backend = args.backend as WebGPUBackend;
    const { dy, x, scale, mean, variance } = args.inputs as Record<string, TensorInfo | undefined>;
    const epsilon = Number(args.attrs?.epsilon);
    if (dy === undefined || x === undefined || scale === undefined || mean === undefined || variance === undefined) {
      throw new Error(`${BATCH_NORM_TRAINING_GRAD}: needs dy, x, scale, mean, variance`);
    }
    const [dx, sums] = batchNormGradient(backend, { dy, x, mean, variance, scale }, epsilon); // sums [2, C]
    const channels = x.shape[x.shape.length - 1] ?? 1;
    const dOffset = splitKSum(backend, sums, 1, [channels], 1, 0);
    const dScale = splitKSum(backend, sums, 1, [channels], 1, channels);
    backend.disposeData(sums.dataId);
    return [dx, dScale, dOffset];
  };
  return { kernelName: BATCH_NORM_TRAINING_GRAD, backendName: 'webgpu', kernelFunc };
}
