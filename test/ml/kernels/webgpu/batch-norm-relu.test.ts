// The fused batch norm (+ ReLU) op on WebGPU (our three kernels) against the same op on the cpu
// backend (generic tfjs ops): outputs, batch statistics and gradients for x, scale and offset.
// On Dawn (lavapipe in CI: a missing adapter fails this file, it is never skipped).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { batchNormReluTraining, hasFusedBatchNorm } from '../../../../core/ml/kernels/webgpu/batch-norm-relu.ts';
import { evaluateBatchNorm, expectBatchNormOutputsClose, useDawnWebgpuKernels } from './webgpu-test-kit.ts';

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
function evaluate(testCase: Case, seed: number): Promise<Float32Array[]> {
  return evaluateBatchNorm((x, scale, offset) => batchNormReluTraining(x, scale, offset, 1e-5, testCase.relu), testCase.shape, seed, 0.5);
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
