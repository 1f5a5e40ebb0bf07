/**
 * What a training step minimises, as one function of the projections of the whole batch. Both
 * the single-thread step and the data-parallel step (./parallel-trainer.ts) call it on the same
 * [2N, D] matrix — in the parallel step, the projections gathered from every replica — so a new
 * self-supervised method is one more objective here, not a change to either step.
 */
import * as tf from '@tensorflow/tfjs';
import { ntXentLoss } from './nt-xent.ts';

/** A loss on the projections of two views of N images. */
export interface ProjectionObjective {
  /** z: [2N, D], rows [0, N) view 1 of the batch's images, rows [N, 2N) view 2, same image order. */
  loss(z: tf.Tensor2D): tf.Scalar;
}

/** SimCLR's NT-Xent (Chen et al. 2020, eq. 1) with temperature τ. */
export function ntXentObjective(temperature: number): ProjectionObjective {
  return {
    loss: (z) =>
      tf.tidy(() => {
        const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D]; // [N, D] each
        return ntXentLoss(z1, z2, temperature);
      }),
  };
}

/**
 * The loss and its gradient with respect to the projections: what the parallel step computes on
 * the gathered z before sending each replica its rows of dL/dz. Returns tensors the caller frees.
 */
export function lossAndProjectionGradient(objective: ProjectionObjective, z: tf.Tensor2D): { loss: tf.Scalar; dz: tf.Tensor2D } {
  const { value, grad } = tf.valueAndGrad((projections: tf.Tensor) => objective.loss(projections as tf.Tensor2D))(z);
  return { loss: value as tf.Scalar, dz: grad as tf.Tensor2D };
}
