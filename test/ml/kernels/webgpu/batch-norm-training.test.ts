// core/ml's fused training batch norm (batch-norm.ts → LooktwiceBatchNormTraining and its gradient)
// running on our WebGPU kernels, against the generic tfjs ops on the cpu backend: y, batch statistics
// and gradients for x, scale, offset. On Dawn (lavapipe in CI: a missing adapter fails, never skips).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { batchNormTraining, genericBatchNormTraining } from '../../../../core/ml/batch-norm.ts';
import { hasFusedBatchNormTraining } from '../../../../core/ml/kernels/batch-norm-training.ts';
import { evaluateBatchNorm, expectBatchNormOutputsClose, useDawnWebgpuKernels } from './webgpu-test-kit.ts';

type Implementation = typeof batchNormTraining;

/** y, mean, variance and the gradients of Σ w·relu(y) for x, scale, offset, on the active backend. */
function evaluate(implementation: Implementation, shape: number[], seed: number): Promise<Float32Array[]> {
  return evaluateBatchNorm((x, scale, offset) => implementation(x, scale, offset, 1e-5), shape, seed, 0.3, tf.relu);
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
