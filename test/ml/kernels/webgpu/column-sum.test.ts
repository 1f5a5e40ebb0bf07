// Our WebGPU Sum/Mean over all-but-the-last axis (per-channel reductions of NHWC activations)
// against tfjs's cpu backend; other reductions must still go to the stock kernels and stay correct.
// On Dawn (lavapipe in CI: a missing adapter fails this file, it is never skipped).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { registerWebgpuKernels, restoreStockWebgpuKernels } from '../../../../core/ml/kernels/webgpu/index.ts';
import { randomValues, useDawnWebgpuKernels } from './webgpu-test-kit.ts';

async function onBoth(compute: () => tf.Tensor | tf.Tensor[]): Promise<{ gpu: Float32Array[]; cpu: Float32Array[]; shapes: number[][][] }> {
  const read = async (): Promise<{ values: Float32Array[]; shapes: number[][] }> => {
    const out = tf.tidy(compute);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
    const shapes = list.map((t) => t.shape);
    tf.dispose(list);
    return { values, shapes };
  };
  await tf.setBackend('cpu');
  const cpu = await read();
  await tf.setBackend('webgpu');
  const gpu = await read();
  return { gpu: gpu.values, cpu: cpu.values, shapes: [gpu.shapes, cpu.shapes] };
}

function expectClose(actual: Float32Array[], expected: Float32Array[], terms: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((values, i) => {
    const reference = expected[i] ?? new Float32Array();
    expect(values.length).toBe(reference.length);
    for (let j = 0; j < values.length; j++) {
      const allowed = 1e-5 * (1 + Math.abs(reference[j] ?? 0)) + 1e-6 * terms;
      expect(Math.abs((values[j] ?? Number.NaN) - (reference[j] ?? 0))).toBeLessThanOrEqual(allowed);
    }
  });
}

function ourPipelines(): string[] {
  const cache = (tf.findBackend('webgpu') as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache;
  return Object.keys(cache).filter((key) => key.startsWith('looktwice_columnSum'));
}

useDawnWebgpuKernels();

const SHAPES: number[][] = [
  [2, 5, 7, 3],
  [3, 4, 4, 70],
  [2, 9, 9, 16],
  [4, 8, 8, 32],
  [17, 33],
  [64, 40, 5],
  [2, 16, 16, 64],
];

describe('Sum and Mean over all axes but the last (column reduction)', () => {
  it.each(SHAPES.map((shape, i) => [shape.join('x'), shape, i] as const))('%s matches cpu, keepDims both ways', async (_name, shape, i) => {
    const values = randomValues(shape.reduce((a, b) => a * b, 1), 300 + i, 0.25);
    const axes = shape.slice(0, -1).map((_, axis) => axis);
    const { gpu, cpu, shapes } = await onBoth(() => {
      const x = tf.tensor(values, shape);
      return [tf.sum(x, axes), tf.mean(x, axes), tf.sum(x, axes, true), tf.mean(x, [...axes].reverse(), true)];
    });
    expect(shapes[0]).toEqual(shapes[1]);
    expectClose(gpu, cpu, values.length);
  });

  it('runs our programs for these reductions', () => {
    expect(ourPipelines().length).toBeGreaterThan(0);
  });

  it('leaves other reductions to the stock kernels (identical results with and without ours)', async () => {
    const values = randomValues(2 * 3 * 4 * 5, 9, 0.25);
    const reduce = async (): Promise<Float32Array[]> => {
      const x = tf.tensor4d(values, [2, 3, 4, 5]);
      const outputs = [tf.sum(x, -1), tf.sum(x, [1, 2]), tf.sum(x), tf.mean(x, 0), tf.sum(tf.tensor1d(values))];
      const read = await Promise.all(outputs.map(async (t) => Float32Array.from(await t.data())));
      tf.dispose([x, ...outputs]);
      return read;
    };
    await tf.setBackend('webgpu');
    const ours = await reduce();
    restoreStockWebgpuKernels();
    try {
      const stock = await reduce();
      expect(ours).toEqual(stock);
    } finally {
      registerWebgpuKernels();
    }
  });

  it('gives batch-norm gradients that match cpu', async () => {
    const shape = [4, 6, 6, 24];
    const x = randomValues(shape.reduce((a, b) => a * b, 1), 21, 0.25);
    const weights = randomValues(x.length, 22, 0.25);
    const { gpu, cpu } = await onBoth(() => {
      const gradients = tf.grads((input: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor) => {
        const { mean, variance } = tf.moments(input, [0, 1, 2]);
        return tf.batchNorm(input, mean, variance, offset, scale, 1e-5).relu().mul(tf.tensor(weights, shape)).sum();
      });
      return gradients([tf.tensor(x, shape), tf.ones([24]), tf.zeros([24])]);
    });
    expectClose(gpu, cpu, 4 * 6 * 6 * 4);
  });
});
