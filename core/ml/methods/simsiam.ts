/**
 * SimSiam (Chen & He, "Exploring Simple Siamese Representation Learning", CVPR 2021): no negative
 * pairs, so no dependence on the batch size — the weak spot of SimCLR on a CPU, where batches are
 * small (the paper's ImageNet accuracy moves by ~2 points from batch 64 to 4096; SimCLR's by ~10).
 *
 * For two views with projections z1, z2: [N, D] (the encoder f and the projection head g shared
 * with SimCLR), a predictor MLP q gives p1 = q(z1), p2 = q(z2): [N, D], and
 *   L = −½ · mean cos(p1, sg(z2)) − ½ · mean cos(p2, sg(z1)),
 * where sg is the stop-gradient that keeps it from collapsing (the paper's §4.1). L ∈ [−1, 1].
 * The predictor is the paper's bottleneck: D → D/4 (BN, ReLU) → D. It is used only in training,
 * so its batch norm keeps no running statistics; its weights are checkpointed under "predictor/".
 */
import * as tf from '@tensorflow/tfjs';
import { Parameters, addBatchNorm, batchNorm, heNormal, uniformFanIn, type BatchNormParameters, type Parameter } from '../layers.ts';
import type { Random } from '../../common/random.ts';

/** x with a zero gradient: sg(·) of the paper. */
export const stopGradient = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = inputs[0] as tf.Tensor;
  return { value: x.clone(), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor) };
}) as (x: tf.Tensor) => tf.Tensor;

/** Mean over rows of cos(a_i, b_i); a, b: [N, D] → scalar. */
function meanCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const norm = (x: tf.Tensor2D) => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-12))); // [N, D]
    return tf.mean(tf.sum(tf.mul(norm(a), norm(b)), 1)) as tf.Scalar;
  });
}

/**
 * The symmetrised SimSiam loss from predictions p1, p2 and projections z1, z2 (all [N, D], row n
 * of each the same image); gradients flow into p only, never into the z targets.
 */
export function simsiamLoss(p1: tf.Tensor2D, p2: tf.Tensor2D, z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar {
  const n = p1.shape[0];
  for (const [name, t] of [['p2', p2], ['z1', z1], ['z2', z2]] as const) {
    if (t.shape[0] !== n || t.shape[1] !== p1.shape[1]) throw new Error(`SimSiam: ${name} is ${t.shape.join('×')}, p1 is ${p1.shape.join('×')}`);
  }
  return tf.tidy(() => {
    const first = meanCosine(p1, stopGradient(z2) as tf.Tensor2D);
    const second = meanCosine(p2, stopGradient(z1) as tf.Tensor2D);
    return tf.neg(tf.mul(tf.add(first, second), 0.5)) as tf.Scalar;
  });
}

/** SimSiam's predictor q: [B, D] → [B, D] through a D/4 bottleneck. */
export class SimsiamPredictor {
  readonly parameters: Parameters;
  private readonly w1: tf.Variable; // [D, D/4]
  private readonly bn: BatchNormParameters;
  private readonly w2: tf.Variable; // [D/4, D]
  private readonly b2: tf.Variable; // [D]

  constructor(readonly dim: number, random: Random, prefix = 'predictor') {
    const hidden = Math.max(1, Math.round(dim / 4));
    this.parameters = new Parameters(prefix);
    const p = this.parameters;
    this.w1 = p.add('dense1/kernel', 'weight', heNormal([dim, hidden], dim, random));
    this.bn = addBatchNorm(p, 'bn1', hidden);
    this.w2 = p.add('dense2/kernel', 'weight', uniformFanIn([hidden, dim], hidden, random));
    this.b2 = p.add('dense2/bias', 'bias', tf.zeros([dim]));
  }

  /** z: [B, D] → p: [B, D] (training mode: batch statistics, none kept). */
  forward(z: tf.Tensor2D): tf.Tensor2D {
    const hidden = tf.relu(batchNorm(tf.matMul(z, this.w1 as tf.Tensor2D), this.bn, true, null)) as tf.Tensor2D; // [B, D/4]
    return tf.add(tf.matMul(hidden, this.w2 as tf.Tensor2D), this.b2); // [B, D]
  }

  list(): Parameter[] {
    return this.parameters.list;
  }

  dispose(): void {
    this.parameters.dispose();
  }
}
