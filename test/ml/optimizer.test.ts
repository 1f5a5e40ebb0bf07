// The fused wasm optimizer updates (Adam(W), SGD momentum, LARS's undecayed parameters) against the
// same optimizer's separate tfjs ops: on wasm with the fused kernels off, and on the cpu backend.
// Sizes include odd ones (the kernels' scalar tail) and parameters with and without weight decay.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/ml/backend.ts';
import { Random } from '../../core/common/random.ts';
import { OPTIMIZERS, Optimizer, type OptimizerName } from '../../core/ml/optimizer.ts';
import { fusedUpdatesAvailable, setFusedUpdates } from '../../core/ml/kernels/wasm/optimizer-update.ts';
import type { Parameter, ParameterRole } from '../../core/ml/layers.ts';

const SHAPES: Array<{ shape: number[]; role: ParameterRole }> = [
  { shape: [3, 3, 5, 8], role: 'weight' },
  { shape: [7], role: 'bias' },
  { shape: [1], role: 'bn-scale' },
  { shape: [37, 3], role: 'weight' },
  { shape: [16], role: 'bn-offset' },
];

/** Every parameter's values after `steps` updates with seeded gradients, from seeded weights. */
function train(name: OptimizerName, steps: number): Float32Array[] {
  const random = new Random(11);
  const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => random.normal());
  const parameters: Parameter[] = SHAPES.map(({ shape, role }, i) => ({
    name: `p${i}`,
    role,
    variable: tf.variable(tf.tensor(values(shape.reduce((a, b) => a * b, 1)), shape), true, `fused-test/${name}/p${i}/${Math.random()}`),
  }));
  const optimizer = new Optimizer(parameters, { name, weightDecay: 0.05, adamEpsilon: 1e-6 });
  for (let step = 0; step < steps; step++) {
    const gradients: tf.NamedTensorMap = {};
    for (const p of parameters) gradients[p.variable.name] = tf.tensor(values(p.variable.size), p.variable.shape);
    optimizer.step(gradients, 0.1 / (step + 1));
    tf.dispose(Object.values(gradients));
  }
  const result = parameters.map((p) => p.variable.dataSync() as Float32Array).concat(optimizer.stateVariables().map((s) => s.variable.dataSync() as Float32Array));
  optimizer.dispose();
  for (const p of parameters) p.variable.dispose();
  return result;
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((values, i) => values.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i]![j]!)))));
  return worst;
}

describe('fused optimizer updates on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(OPTIMIZERS)('%s: the fused kernels give the values of the separate ops (wasm and cpu)', async (name) => {
    await tf.setBackend('wasm');
    expect(fusedUpdatesAvailable()).toBe(true);
    const fused = train(name, 4);
    setFusedUpdates(false);
    let separate: Float32Array[];
    try {
      expect(fusedUpdatesAvailable()).toBe(false);
      separate = train(name, 4);
    } finally {
      setFusedUpdates(true);
    }
    await tf.setBackend('cpu');
    expect(fusedUpdatesAvailable()).toBe(false);
    const cpu = train(name, 4);
    await tf.setBackend('wasm');
    // Same operation order in float32: exactly the wasm ops' values, the cpu backend's within rounding.
    expect(maxDifference(fused, separate)).toBe(0);
    expect(maxDifference(fused, cpu)).toBeLessThan(1e-5);
    // The updates moved the weights and the state (a kernel writing nothing would fail here).
    expect(maxDifference(fused, train(name, 0))).toBeGreaterThan(0.01);
  });
});
