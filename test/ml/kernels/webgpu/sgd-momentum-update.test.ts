// The fused SGD-momentum update on WebGPU against the same update on the cpu backend (generic ops),
// over several steps, with and without weight decay. On Dawn (lavapipe in CI: never skipped).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { hasFusedSgdMomentum, sgdMomentumUpdate } from '../../../../core/ml/kernels/webgpu/sgd-momentum-update.ts';
import { randomValues, useDawnWebgpuKernels } from './webgpu-test-kit.ts';

async function threeSteps(shape: number[], weightDecay: number): Promise<Float32Array[]> {
  const size = shape.reduce((a, b) => a * b, 1);
  const initialWeight = tf.tensor(randomValues(size, 1), shape);
  const initialVelocity = tf.zeros(shape);
  const weight = tf.variable(initialWeight);
  const velocity = tf.variable(initialVelocity);
  tf.dispose([initialWeight, initialVelocity]);
  for (let step = 0; step < 3; step++) {
    const gradient = tf.tensor(randomValues(size, 10 + step), shape);
    sgdMomentumUpdate(weight, velocity, gradient, 0.1 / (step + 1), 0.9, weightDecay);
    gradient.dispose();
  }
  const values = [Float32Array.from(await weight.data()), Float32Array.from(await velocity.data())];
  weight.dispose();
  velocity.dispose();
  return values;
}

useDawnWebgpuKernels();

describe('fused SGD-momentum update (webgpu) matches the generic update (cpu)', () => {
  it.each([
    [[3, 3, 16, 8], 1e-4],
    [[513], 0],
    [[7, 5], 5e-4],
  ] as const)('%j, weight decay %d', async (shape, weightDecay) => {
    await tf.setBackend('cpu');
    expect(hasFusedSgdMomentum()).toBe(false);
    const expected = await threeSteps([...shape], weightDecay);
    await tf.setBackend('webgpu');
    expect(hasFusedSgdMomentum()).toBe(true);
    const before = tf.memory().numTensors;
    const actual = await threeSteps([...shape], weightDecay);
    expect(tf.memory().numTensors).toBe(before);
    actual.forEach((values, i) => {
      const reference = expected[i] ?? new Float32Array();
      expect(values.length).toBe(reference.length);
      for (let j = 0; j < values.length; j++) expect(Math.abs((values[j] ?? Number.NaN) - (reference[j] ?? 0))).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(reference[j] ?? 0));
    });
  });
});
