/**
 * NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, eq. 1):
 * for 2N projections of N images (two views each), z_i are L2-normalised, sim = z·zᵀ/τ, and for
 * each view i the positive is its sibling view; the other 2N − 2 views are negatives:
 *   ℓ(i, j) = −log( exp(sim_ij) / Σ_{k≠i} exp(sim_ik) ),  L = mean over all 2N anchors.
 */
import * as tf from '@tensorflow/tfjs';

/** z1, z2: [N, D] projections of the two views (row n of each is the same image) → scalar loss. */
export function ntXentLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number): tf.Scalar {
  if (!(temperature > 0)) throw new Error(`NT-Xent temperature must be positive, got ${temperature}`);
  const n = z1.shape[0];
  if (z2.shape[0] !== n || z1.shape[1] !== z2.shape[1]) throw new Error(`NT-Xent views differ in shape: ${z1.shape} vs ${z2.shape}`);
  return tf.tidy(() => {
    const z = tf.concat([z1, z2], 0); // [2N, D]
    const normalised = tf.div(z, tf.sqrt(tf.maximum(tf.sum(tf.square(z), 1, true), 1e-12))); // [2N, D]
    const similarity = tf.div(tf.matMul(normalised, normalised, false, true), temperature); // [2N, 2N]
    // A view is never its own negative: push the diagonal to −∞ (a large finite value keeps gradients finite).
    const masked = tf.sub(similarity, tf.mul(tf.eye(2 * n), 1e9)); // [2N, 2N]
    const logProbabilities = tf.logSoftmax(masked, 1); // [2N, 2N]
    // Built on the host: wasm's OneHot writes int32 bits into float32 outputs in tfjs 4.22.
    const mask = new Float32Array(4 * n * n);
    for (let i = 0; i < 2 * n; i++) mask[i * 2 * n + (i < n ? i + n : i - n)] = 1;
    const positiveMask = tf.tensor2d(mask, [2 * n, 2 * n]); // [2N, 2N]
    return tf.neg(tf.mean(tf.sum(tf.mul(logProbabilities, positiveMask), 1))) as tf.Scalar;
  });
}
