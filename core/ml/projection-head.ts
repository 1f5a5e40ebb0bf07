/**
 * SimCLR's projection head g (Chen et al. 2020, §2.1): z = W2·ReLU(BN(W1·h)), a 2-layer MLP whose
 * output (128-d) is where NT-Xent is applied; it is discarded after training and h is kept,
 * because h retains information (colour, orientation) that the contrastive objective teaches g
 * to throw away.
 */
import * as tf from '@tensorflow/tfjs';
import { Parameters, addBatchNorm, batchNorm, heNormal, uniformFanIn, type BatchNormParameters, type StatisticsUpdate } from './layers.ts';
import type { Random } from '../common/random.ts';

export const PROJECTION_DIM = 128;

export class ProjectionHead {
  readonly parameters: Parameters;
  private readonly w1: tf.Variable; // [inputDim, hiddenDim]
  private readonly bn: BatchNormParameters;
  private readonly w2: tf.Variable; // [hiddenDim, outputDim]
  private readonly b2: tf.Variable; // [outputDim]

  constructor(readonly inputDim: number, random: Random, readonly hiddenDim = inputDim, readonly outputDim = PROJECTION_DIM, prefix = 'head') {
    this.parameters = new Parameters(prefix);
    const p = this.parameters;
    // No bias on W1: the batch norm right after it would cancel it.
    this.w1 = p.add('dense1/kernel', 'weight', heNormal([inputDim, hiddenDim], inputDim, random));
    this.bn = addBatchNorm(p, 'bn1', hiddenDim);
    this.w2 = p.add('dense2/kernel', 'weight', uniformFanIn([hiddenDim, outputDim], hiddenDim, random));
    this.b2 = p.add('dense2/bias', 'bias', tf.zeros([outputDim]));
  }

  /** h: [B, inputDim] → z: [B, outputDim]. */
  forward(h: tf.Tensor2D, training: boolean, updates: StatisticsUpdate[] | null = null): tf.Tensor2D {
    const hidden = tf.relu(batchNorm(tf.matMul(h, this.w1 as tf.Tensor2D), this.bn, training, updates)) as tf.Tensor2D; // [B, hidden]
    return tf.add(tf.matMul(hidden, this.w2 as tf.Tensor2D), this.b2); // [B, outputDim]
  }

  dispose(): void {
    this.parameters.dispose();
  }
}
