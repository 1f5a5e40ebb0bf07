// One SGD-with-momentum step for one variable, in place, as optimizer.ts's `sgd` computes it:
//
//   v ← μ·v + lr·(g + λ·w)        w ← w − v
//
// On the webgpu backend with registerWebgpuKernels() done the velocity is one fused kernel
// (sgd-momentum-velocity.ts) and the weight one subtraction: 2 dispatches and no scalar uploads
// instead of ~6 and 3. Elsewhere it is the same formula in generic ops. Meant for core/ml's
// optimizer to adopt (its `sgd` branch; LARS scales lr per layer with a tensor, so it is not covered).
import * as tf from '@tensorflow/tfjs';
import { SGD_MOMENTUM_VELOCITY } from './sgd-momentum-velocity.ts';

/** True when the fused velocity kernel is registered for the active backend. */
export function hasFusedSgdMomentum(): boolean {
  return tf.getKernel(SGD_MOMENTUM_VELOCITY, tf.getBackend()) !== undefined;
}

/** Updates `velocity` and `weight` in place; `gradient` is left to the caller. */
export function sgdMomentumUpdate(
  weight: tf.Variable,
  velocity: tf.Variable,
  gradient: tf.Tensor,
  learningRate: number,
  momentum: number,
  weightDecay: number,
): void {
  tf.tidy(() => {
    let nextVelocity: tf.Tensor;
    if (hasFusedSgdMomentum()) {
      const attrs = { learningRate, momentum, weightDecay };
      nextVelocity = tf.engine().runKernel(SGD_MOMENTUM_VELOCITY, { velocity, gradient, weight }, attrs) as tf.Tensor;
    } else {
      const decayed = weightDecay > 0 ? tf.add(gradient, tf.mul(weight, weightDecay)) : gradient;
      nextVelocity = tf.add(tf.mul(velocity, momentum), tf.mul(decayed, learningRate));
    }
    velocity.assign(nextVelocity);
    weight.assign(tf.sub(weight, nextVelocity));
  });
}
