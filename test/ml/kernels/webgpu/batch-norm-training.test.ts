// core/ml's fused training batch norm (batch-norm.ts → LooktwiceBatchNormTraining and its gradient)
// running on our WebGPU kernels, against the generic tfjs ops on the cpu backend: y, batch statistics
// and gradients for x, scale, offset. On Dawn (lavapipe in CI: a missing adapter fails, never skips).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { batchNormTraining, genericBatchNormTraining } from '../../../../core/ml/batch-norm.ts';
import { hasFusedBatchNormTraining } from '../../../../core/ml/kernels/batch-norm-training.ts';
import { expectBatchNormOutputsClose, randomValues, useDawnWebgpuKernels } from './webgpu-test-kit.ts';

type Implementation = typeof batchNormTraining;

async function evaluate(implementation: Implementation, shape: number[], seed: number): Promise<Float32Array[]> {
  const channels = shape[shape.length - 1] ?? 1;
  const size = shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(randomValues(size, seed, 0.3, 2), shape);
  const scale = tf.tensor1d(randomValues(channels, seed + 1, 1, 2));
  const offset = tf.tensor1d(randomValues(channels, seed + 2, 0, 2));
  const weights = tf.tensor(randomValues(size, seed + 3, 0, 2), shape);
  const forward = implementation(x, scale, offset, 1e-5);
  const gradients = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.tidy(() => tf.sum(tf.mul(tf.relu(implementation(a, b, c, 1e-5).y), weights))),
  )([x, scale, offset]);
  const outputs = [forward.y, forward.mean, forward.variance, ...gradients];
  const values = await Promise.all(outputs.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose([x, scale, offset, weights, ...outputs]);
  return values;
}

useDawnWebgpuKernels();

describe('batch-norm.ts fused path on webgpu matches the generic ops on cpu', () => {
  it.each([[[4, 6, 6, 24]], [[2, 5, 5, 3]], [[3, 4, 4, 70]], [[16, 20]]] as const)('%j', async (shape) => {
    await tf.setBackend('cpu');
    const expected = await evaluate(genericBatchNormTraining, [...shape], 60);
    await tf.setBackend('webgpu');
    expect(hasFusedBatchNormTraining()).toBe(true);
    const before = tf.memory().numTensors;
    const actual = await evaluate(batchNormTraining, [...shape], 60);
    expect(tf.memory().numTensors).toBe(before);
    expectBatchNormOutputsClose(actual, expected);
    const pipelines = Object.keys((tf.findBackend('webgpu') as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache);
    expect(pipelines.some((key) => key.startsWith('looktwice_batchNormApply_false'))).toBe(true);
    expect(pipelines.some((key) => key.startsWith('looktwice_batchNormGradSums_false'))).toBe(true);
  });
});
