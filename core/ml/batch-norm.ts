/**
 * Training-mode batch normalisation (Ioffe & Szegedy 2015) over every axis but the last (channels):
 *   y = (x − mean) / sqrt(variance + ε) · scale + offset, with the batch's own mean and variance,
 * optionally followed by a ReLU. On wasm and cpu this is one fused kernel each way, ReLU included
 * (./kernels/batch-norm-training.ts); other backends use their own kernel or generic tfjs ops and
 * a separate tf.relu.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, hasFusedBatchNormTraining, registerBatchNormTrainingKernels } from './kernels/batch-norm-training.ts';

registerBatchNormTrainingKernels();

/** Backends whose fused kernel also applies the ReLU (the webgpu one does not). */
const FUSED_RELU_BACKENDS = new Set(['wasm', 'cpu']);
let reluFusion = true;

/** false: a separate tf.relu after the batch norm, as before the fusion (benchmarks compare both). */
export function setBatchNormReluFusion(enabled: boolean): void {
  reluFusion = enabled;
}

/**
 * x: [..., C]; scale, offset: [C]. Returns y like x (max(0, ·) of it with `relu`) and the batch
 * mean/variance [C].
 */
export function batchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor,
  offset: tf.Tensor,
  epsilon: number,
  relu = false,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  if (hasFusedBatchNormTraining() && x.dtype === 'float32') {
    const fuseRelu = relu && reluFusion && FUSED_RELU_BACKENDS.has(tf.getBackend());
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAINING, { x, scale, offset }, fuseRelu ? { epsilon, relu: true } : { epsilon }) as tf.Tensor[];
    return { y: relu && !fuseRelu ? tf.relu(y!) : y!, mean: mean!, variance: variance! };
  }
  const result = genericBatchNormTraining(x, scale, offset, epsilon);
  return relu ? { ...result, y: tf.relu(result.y) } : result;
}

/** The same with generic ops (any backend; also the reference in tests), without the ReLU. */
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
