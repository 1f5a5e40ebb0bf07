/**
 * Optimizers for SimCLR training, with their state in named variables so a checkpoint can save and
 * restore it exactly:
 *  - `lars`: SGD with momentum and layer-wise adaptive rate scaling (You, Gitman, Ginsburg 2017), as
 *    SimCLR trains (trust coefficient 0.001, momentum 0.9); batch-norm parameters and biases get
 *    neither weight decay nor the trust ratio, as in SimCLR's implementation.
 *  - `sgd`: SGD with momentum 0.9 and L2 weight decay (not on batch-norm parameters and biases).
 *  - `adam`: AdamW (Kingma & Ba 2015; decoupled weight decay, Loshchilov & Hutter 2019), robust for
 *    the small batches a CPU affords.
 * On wasm the Adam and momentum updates of each variable run as one fused kernel
 * (./kernels/wasm/optimizer-update.ts) with the same operation order as the ops here, so both paths
 * give the same values; LARS's trust ratio stays in ops.
 */
import * as tf from '@tensorflow/tfjs';
import type { Parameter } from './layers.ts';
import { fusedAdamUpdate, fusedMomentumUpdate, fusedUpdatesAvailable } from './kernels/wasm/optimizer-update.ts';

import type { OptimizerName } from './choices.ts';

export { OPTIMIZERS, type OptimizerName } from './choices.ts';

export interface OptimizerOptions {
  name: OptimizerName;
  weightDecay: number;
  momentum?: number;
  larsTrustCoefficient?: number;
  adamBeta1?: number;
  adamBeta2?: number;
  adamEpsilon?: number;
}

interface Slot {
  parameter: Parameter;
  /** lars/sgd: [velocity]; adam: [first moment, second moment]. */
  state: tf.Variable[];
  decayed: boolean;
}

/** Applies one update per call to `step`; state is exposed for checkpoints. */
export class Optimizer {
  private readonly slots: Slot[];
  /** Number of updates applied so far (Adam's bias correction needs it). */
  iterations = 0;

  constructor(parameters: Parameter[], readonly options: OptimizerOptions) {
    const slotCount = options.name === 'adam' ? 2 : 1;
    this.slots = parameters
      .filter((p) => p.variable.trainable)
      .map((parameter) => ({
        parameter,
        state: Array.from({ length: slotCount }, (_, i) => tf.variable(tf.zerosLike(parameter.variable), false, `${parameter.variable.name}/slot${i}`)),
        decayed: parameter.role === 'weight',
      }));
  }

  /** Updates every parameter with its gradient (a map from variable name) at `learningRate`. */
  step(gradients: tf.NamedTensorMap, learningRate: number): void {
    this.iterations += 1;
    const { name, weightDecay } = this.options;
    const momentum = this.options.momentum ?? 0.9;
    const fused = fusedUpdatesAvailable();
    for (const slot of this.slots) {
      const variable = slot.parameter.variable;
      const gradient = gradients[variable.name];
      if (!gradient) continue;
      tf.tidy(() => {
        if (name === 'adam') {
          const beta1 = this.options.adamBeta1 ?? 0.9;
          const beta2 = this.options.adamBeta2 ?? 0.999;
          const epsilon = this.options.adamEpsilon ?? 1e-8;
          const [m, v] = slot.state as [tf.Variable, tf.Variable];
          const correction1 = 1 - beta1 ** this.iterations;
          const correction2 = 1 - beta2 ** this.iterations;
          if (fused) {
            const decay = slot.decayed && weightDecay > 0 ? weightDecay : 0;
            const [nextW, nextM, nextV] = fusedAdamUpdate(variable, m, v, gradient, { beta1, beta2, correction1, correction2, epsilon, weightDecay: decay, learningRate });
            m.assign(nextM);
            v.assign(nextV);
            variable.assign(nextW);
            return;
          }
          const nextM = tf.add(tf.mul(m, beta1), tf.mul(gradient, 1 - beta1));
          const nextV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
          m.assign(nextM);
          v.assign(nextV);
          let update = tf.div(tf.div(nextM, correction1), tf.add(tf.sqrt(tf.div(nextV, correction2)), epsilon));
          if (slot.decayed && weightDecay > 0) update = tf.add(update, tf.mul(variable, weightDecay));
          variable.assign(tf.sub(variable, tf.mul(update, learningRate)));
          return;
        }
        const [velocity] = slot.state as [tf.Variable];
        if (fused && (name === 'sgd' || !slot.decayed)) {
          // LARS without its trust ratio (parameters without decay) is this same momentum step.
          const decay = slot.decayed && weightDecay > 0 ? weightDecay : 0;
          const [nextW, nextVelocity] = fusedMomentumUpdate(variable, velocity, gradient, { momentum, weightDecay: decay, learningRate });
          velocity.assign(nextVelocity);
          variable.assign(nextW);
          return;
        }
        let g: tf.Tensor = gradient;
        if (slot.decayed && weightDecay > 0) g = tf.add(g, tf.mul(variable, weightDecay));
        let scaledRate: tf.Tensor | number = learningRate;
        if (name === 'lars' && slot.decayed) {
          // trust ratio η·‖w‖/‖g‖, 1 when either norm is 0.
          const trust = this.options.larsTrustCoefficient ?? 0.001;
          const weightNorm = tf.norm(variable);
          const gradientNorm = tf.norm(g);
          const ratio = tf.where(
            tf.logicalAnd(tf.greater(weightNorm, 0), tf.greater(gradientNorm, 0)),
            tf.div(tf.mul(weightNorm, trust), gradientNorm),
            tf.scalar(1),
          );
          scaledRate = tf.mul(ratio, learningRate);
        }
        const nextVelocity = tf.add(tf.mul(velocity, momentum), tf.mul(g, scaledRate));
        velocity.assign(nextVelocity);
        variable.assign(tf.sub(variable, nextVelocity));
      });
    }
  }

  /** Every state variable, named by its parameter and slot index, for checkpoints. */
  stateVariables(): Array<{ name: string; variable: tf.Variable }> {
    return this.slots.flatMap((slot) => slot.state.map((variable, i) => ({ name: `${slot.parameter.name}/slot${i}`, variable })));
  }

  dispose(): void {
    for (const slot of this.slots) for (const v of slot.state) v.dispose();
  }
}
