// The fused batch norm (+ ReLU) op on WebGPU (our three kernels) against the same op on the cpu
// backend (generic tfjs ops): outputs, batch statistics and gradients for x, scale and offset.
// On Dawn (lavapipe in CI: a missing adapter fails this file, it is never skipped).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { batchNormReluTraining, hasFusedBatchNorm } from '../../../../core/ml/kernels/webgpu/batch-norm-relu.ts';
import { expectBatchNormOutputsClose, randomValues, useDawnWebgpuKernels } from './webgpu-test-kit.ts';

interface Case {
  shape: number[];
  relu: boolean;
}

const CASES: Case[] = [
  { shape: [4, 6, 6, 24], relu: true },
  { shape: [4, 6, 6, 24], relu: false },
  { shape: [2, 5, 5, 3], relu: true },
  { shape: [3, 4, 4, 70], relu: true },
  { shape: [16, 20], relu: true },
  { shape: [2, 8, 8, 64], relu: false },
];

/** y, mean, variance and the gradients of Σ w·y for x, scale, offset, on the active backend. */
async function evaluate(testCase: Case, seed: number): Promise<Float32Array[]> {
  const channels = testCase.shape[testCase.shape.length - 1] ?? 1;
  const size = testCase.shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(randomValues(size, seed, 0.5, 2), testCase.shape);
  const scale = tf.tensor1d(randomValues(channels, seed + 1, 1, 2));
  const offset = tf.tensor1d(randomValues(channels, seed + 2, 0, 2));
  const weights = tf.tensor(randomValues(size, seed + 3, 0, 2), testCase.shape);
  const forward = batchNormReluTraining(x, scale, offset, 1e-5, testCase.relu);
  const gradients = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.tidy(() => {
      const result = batchNormReluTraining(a, b, c, 1e-5, testCase.relu);
      return tf.sum(tf.mul(result.y, weights));
    }),
  )([x, scale, offset]);
  const outputs = [forward.y, forward.mean, forward.variance, ...gradients];
  const values = await Promise.all(outputs.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose([x, scale, offset, weights, ...outputs]);
  return values;
}

useDawnWebgpuKernels();

describe('fused batch norm + ReLU (webgpu) matches the generic ops (cpu)', () => {
  it('uses the fused kernels on webgpu only', async () => {
    await tf.setBackend('webgpu');
    expect(hasFusedBatchNorm()).toBe(true);
    await tf.setBackend('cpu');
    expect(hasFusedBatchNorm()).toBe(false);
  });

  it.each(CASES.map((c, i) => [`${c.shape.join('x')} relu=${c.relu}`, c, i] as const))('%s', async (_name, testCase, index) => {
    await tf.setBackend('cpu');
    const expected = await evaluate(testCase, 40 + index);
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const actual = await evaluate(testCase, 40 + index);
    expect(tf.memory().numTensors).toBe(before); // nothing leaks from the custom op
    expectBatchNormOutputsClose(actual, expected);
  });
});
