// Training-mode batch norm, optionally followed by ReLU, as ONE differentiable op:
//
//   mean, variance = per-channel batch statistics of x (all axes but the last; biased variance)
//   y = act( (x − mean) / √(variance + ε) · scale + offset ),   act = ReLU or identity
//
// with the exact gradient (through the batch statistics) written out in batch-norm-grad.ts. On the
// webgpu backend, with registerWebgpuKernels() done, it runs 3 fused kernels forward
// (LooktwiceBatchNormStats, LooktwiceBatchNormApply) and one backward (LooktwiceBatchNormGrad)
// instead of the ~30 small dispatches tfjs's autodiff of tf.moments → tf.batchNorm → tf.relu makes;
// on any other backend it is exactly those generic ops. Meant as a drop-in for the encoder's
// `relu(batchNorm(conv(x)))` in core/ml (layers.ts / resnet.ts), which decide whether to adopt it.
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_APPLY } from './batch-norm-apply.ts';
import { BATCH_NORM_GRAD } from './batch-norm-grad.ts';
import { BATCH_NORM_STATS } from './batch-norm-stats.ts';

/** y and the batch statistics ([C] each), like batch-norm.ts's batchNormTraining. */
export interface BatchNormTrainingResult {
  y: tf.Tensor;
  mean: tf.Tensor;
  variance: tf.Tensor;
}

/** True when the fused kernels are registered for the active backend. */
export function hasFusedBatchNorm(): boolean {
  const backend = tf.getBackend();
  return [BATCH_NORM_STATS, BATCH_NORM_APPLY, BATCH_NORM_GRAD].every((name) => tf.getKernel(name, backend) !== undefined);
}

function genericBatchNorm(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, epsilon: number, relu: boolean): BatchNormTrainingResult {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const normalised = tf.batchNorm(x, mean, variance, offset, scale, epsilon);
  return { y: relu ? tf.relu(normalised) : normalised, mean, variance };
}

/**
 * x: [..., C] float32 (e.g. NHWC [N, H, W, C] or [N, C]); scale, offset: [C].
 * Returns y like x and the batch mean/variance [C] (for the running averages; not differentiated).
 */
export function batchNormReluTraining(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, epsilon: number, relu: boolean): BatchNormTrainingResult {
  if (!hasFusedBatchNorm()) return genericBatchNorm(x, scale, offset, epsilon, relu);
  const attrs = { epsilon, relu };
  let statistics: tf.Tensor[] = [];
  const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, gamma, beta] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    if (input === undefined || gamma === undefined || beta === undefined) throw new Error('batchNormReluTraining: missing inputs');
    // The statistics are computed inside the custom op, so the tape never differentiates them
    // separately: their effect on the gradient is part of LooktwiceBatchNormGrad's formula.
    const [mean, variance] = tf.engine().runKernel(BATCH_NORM_STATS, { x: input }) as tf.Tensor[];
    if (mean === undefined || variance === undefined) throw new Error(`${BATCH_NORM_STATS} returned no statistics`);
    statistics = [tf.keep(mean), tf.keep(variance)];
    const y = tf.engine().runKernel(BATCH_NORM_APPLY, { x: input, mean, variance, scale: gamma, offset: beta }, attrs) as tf.Tensor;
    save([input, y, mean, variance, gamma]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedX, savedY, savedMean, savedVariance, savedScale] = saved;
        const [dx, sums] = tf.engine().runKernel(
          BATCH_NORM_GRAD,
          { dy, x: savedX as tf.Tensor, y: savedY as tf.Tensor, mean: savedMean as tf.Tensor, variance: savedVariance as tf.Tensor, scale: savedScale as tf.Tensor },
          attrs,
        ) as tf.Tensor[];
        const [dOffset, dScale] = tf.unstack(sums as tf.Tensor, 0); // [C] each
        return [dx as tf.Tensor, dScale as tf.Tensor, dOffset as tf.Tensor];
      },
    };
  });
  const y = fused(x, scale, offset);
  // Hand the statistics to the caller's scope (a clone shares the data), so an enclosing tf.tidy
  // frees them like any other intermediate.
  const [mean, variance] = statistics.map((kept) => {
    const owned = tf.clone(kept);
    kept.dispose();
    return owned;
  }) as [tf.Tensor, tf.Tensor];
  return { y, mean, variance };
}
