/**
 * Training-mode batch normalisation (Ioffe & Szegedy 2015) over every axis but the last (channels):
 *   y = (x − mean) / sqrt(variance + ε) · scale + offset, with the batch's own mean and variance.
 * On wasm and cpu this is one fused kernel each way (./kernels/batch-norm-training.ts); other
 * backends use generic tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, hasFusedBatchNormTraining, registerBatchNormTrainingKernels } from './kernels/batch-norm-training.ts';

registerBatchNormTrainingKernels();

/** x: [..., C]; scale, offset: [C]. Returns y like x and the batch mean/variance [C]. */
export function batchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor,
  offset: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  if (hasFusedBatchNormTraining() && x.dtype === 'float32') {
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAINING, { x, scale, offset }, { epsilon }) as tf.Tensor[];
    return { y: y!, mean: mean!, variance: variance! };
  }
  return genericBatchNormTraining(x, scale, offset, epsilon);
}

/** The same with generic ops (any backend; also the reference in tests). */
export function genericBatchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor,
  offset: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.batchNorm(x, mean, variance, offset, scale, epsilon);
  return { y, mean, variance };
}
