// The fused training batch norm (wasm and cpu kernels) against the same computed with generic tfjs ops.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/ml/backend.ts';
import { batchNormTraining, genericBatchNormTraining } from '../../core/ml/batch-norm.ts';
import { Random } from '../../core/common/random.ts';

function run(fused: boolean, shape: number[], values: { x: Float32Array; scale: Float32Array; offset: Float32Array; dy: Float32Array }): Float32Array[] {
  return tf.tidy(() => {
    const channels = shape.at(-1)!;
    const x = tf.tensor(values.x, shape);
    const scale = tf.tensor1d(values.scale);
    const offset = tf.tensor1d(values.offset);
    const dy = tf.tensor(values.dy, shape);
    const f = fused ? batchNormTraining : genericBatchNormTraining;
    const forward = f(x, scale, offset, 1e-5);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c, 1e-5).y, dy)))([x, scale, offset]);
    expect(forward.mean.shape).toEqual([channels]);
    return [forward.y, forward.mean, forward.variance, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function closeTo(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let scale = 1e-3;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  expect(worst / scale).toBeLessThan(tolerance);
}

describe('fused training batch norm', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`matches generic ops on ${backend} (values and gradients)`, async () => {
      await initBackend('wasm');
      for (const shape of [[4, 5, 3, 7], [6, 16], [2, 9, 9, 1]]) {
        const random = new Random(shape.length * 7 + shape[0]!);
        const n = shape.reduce((a, b) => a * b, 1);
        const channels = shape.at(-1)!;
        const fill = (count: number, f: () => number) => Float32Array.from({ length: count }, f);
        const values = {
          x: fill(n, () => random.normal() * 3 + 1),
          scale: fill(channels, () => random.uniform(0.5, 2)),
          offset: fill(channels, () => random.normal()),
          dy: fill(n, () => random.normal()),
        };
        await tf.setBackend('cpu');
        const reference = run(false, shape, values);
        await tf.setBackend(backend);
        const fused = run(true, shape, values);
        reference.forEach((expected, i) => closeTo(fused[i]!, expected, 1e-4));
      }
      await tf.setBackend('wasm');
    });
  }
});
