/**
 * Self-supervised methods behind one trainer, encoder and checkpoint format: each is a loss on the
 * projections z = g(f(x)) of two views of the batch ([2N, D], rows [0, N) view 1 and [N, 2N)
 * view 2 of the same images), plus any parameters of its own (checkpointed with the model).
 *  - `simclr`: NT-Xent with temperature τ (Chen et al. 2020); no parameters of its own.
 *  - `simsiam`: SimSiam (Chen & He 2021), ./simsiam.ts; a predictor MLP, no negatives.
 */
import * as tf from '@tensorflow/tfjs';
import type { Parameter } from '../layers.ts';
import { ntXentLoss } from '../nt-xent.ts';
import type { Random } from '../../common/random.ts';
import { SimsiamPredictor, simsiamLoss } from './simsiam.ts';

export const METHODS = ['simclr', 'simsiam'] as const;
export type MethodName = (typeof METHODS)[number];

/** A method as the trainer uses it. */
export interface TrainingMethod {
  readonly name: MethodName;
  /** The method's own parameters (trained and checkpointed with the model); [] for SimCLR. */
  readonly parameters: Parameter[];
  /** z: [2N, D] → scalar loss (inside a gradient tape over the model's and the method's variables). */
  loss(z: tf.Tensor2D): tf.Scalar;
  dispose(): void;
}

/** Parses a --method value, naming the choices when it is not one. */
export function parseMethod(value: string): MethodName {
  if (!(METHODS as readonly string[]).includes(value)) throw new Error(`method must be one of ${METHODS.join(', ')}, got ${value}`);
  return value as MethodName;
}

/** The method `name` for projections of `projectionDim`; `random` seeds its own parameters. */
export function createMethod(name: MethodName, options: { projectionDim: number; temperature: number; random: Random }): TrainingMethod {
  const split = (z: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] => tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D]; // [N, D] each
  if (name === 'simclr') {
    return { name, parameters: [], loss: (z) => tf.tidy(() => ntXentLoss(...split(z), options.temperature)), dispose: () => {} };
  }
  const predictor = new SimsiamPredictor(options.projectionDim, options.random);
  return {
    name,
    parameters: predictor.list(),
    loss: (z) =>
      tf.tidy(() => {
        const [z1, z2] = split(z);
        const [p1, p2] = split(predictor.forward(z)); // the predictor sees both views in one batch
        return simsiamLoss(p1, p2, z1, z2);
      }),
    dispose: () => predictor.dispose(),
  };
}
