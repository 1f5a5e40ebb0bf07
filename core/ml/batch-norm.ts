/**
 * Training-mode batch normalisation (Ioffe & Szegedy 2015) over every axis but the last (channels):
 *   y = (x − mean) / sqrt(variance + ε) · scale + offset, with the batch's own mean and variance.
 * Written with generic tfjs ops; backends with a fused kernel (./kernels/wasm/) are faster because
 * tfjs reduces over leading axes by transposing the whole activation first.
 */
import * as tf from '@tensorflow/tfjs';

/** x: [..., C]; scale, offset: [C]. Returns y like x and the batch mean/variance [C]. */
export function batchNormTraining(
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
