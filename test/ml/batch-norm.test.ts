// The fused training batch norm (wasm SIMD, wasm/cpu scalar kernels), with and without the fused
// ReLU, against the same computed with generic tfjs ops on the cpu backend.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/ml/backend.ts';
import { batchNormTraining, genericBatchNormTraining } from '../../core/ml/batch-norm.ts';
import { setSimdKernelsDisabled, simdKernels } from '../../core/ml/kernels/wasm/simd-kernels.ts';
import type { WasmBackend } from '../../core/ml/kernels/wasm/wasm-backend.ts';
import { Random } from '../../core/common/random.ts';

interface Values {
  x: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
  dy: Float32Array;
}

function run(fused: boolean, relu: boolean, shape: number[], values: Values): Float32Array[] {
  return tf.tidy(() => {
    const channels = shape.at(-1)!;
    const x = tf.tensor(values.x, shape);
    const scale = tf.tensor1d(values.scale);
    const offset = tf.tensor1d(values.offset);
    const dy = tf.tensor(values.dy, shape);
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
      if (fused) return batchNormTraining(a, b, c, 1e-5, relu);
      const result = genericBatchNormTraining(a, b, c, 1e-5);
      return relu ? { ...result, y: tf.relu(result.y) } : result;
    };
    const forward = f(x, scale, offset);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c).y, dy)))([x, scale, offset]);
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

function valuesFor(shape: number[], seed: number, mean = 1): Values {
  const random = new Random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const channels = shape.at(-1)!;
  const fill = (count: number, f: () => number) => Float32Array.from({ length: count }, f);
  return {
    x: fill(n, () => random.normal() * 3 + mean),
    scale: fill(channels, () => random.uniform(0.5, 2)),
    offset: fill(channels, () => random.normal()),
    dy: fill(n, () => random.normal()),
  };
}

// C % 4 == 0 takes the wasm SIMD kernels; the others the scalar loops. [300, 8] spans several
// SIMD row blocks, [2, 3, 3, 256] has blocks of 16 rows.
const SHAPES = [[4, 5, 3, 7], [6, 16], [2, 9, 9, 1], [3, 7, 5, 12], [300, 8], [2, 3, 3, 256]];

describe('fused training batch norm', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    for (const relu of [false, true]) {
      it(`matches generic ops on ${backend}${relu ? ' with the fused ReLU' : ''} (values and gradients)`, async () => {
        await initBackend('wasm');
        for (const shape of SHAPES) {
          const values = valuesFor(shape, shape.length * 7 + shape[0]!);
          await tf.setBackend('cpu');
          const reference = run(false, relu, shape, values);
          await tf.setBackend(backend);
          const fused = run(true, relu, shape, values);
          reference.forEach((expected, i) => closeTo(fused[i]!, expected, 1e-4));
        }
        await tf.setBackend('wasm');
      });
    }
  }

  it('runs the wasm SIMD kernels on wasm, and they agree with the scalar loops', async () => {
    await initBackend('wasm');
    await tf.setBackend('wasm');
    expect(simdKernels(tf.backend() as unknown as WasmBackend)).not.toBeNull();
    // Statistics far from zero: the shifted sums must not cancel.
    for (const [shape, mean] of [[[64, 8, 8, 16], 1], [[16, 4, 4, 64], 1000]] as const) {
      for (const relu of [false, true]) {
        const values = valuesFor([...shape], 5, mean);
        const simd = run(true, relu, [...shape], values);
        setSimdKernelsDisabled(true);
        try {
          const scalar = run(true, relu, [...shape], values);
          scalar.forEach((expected, i) => closeTo(simd[i]!, expected, 2e-5));
        } finally {
          setSimdKernelsDisabled(false);
        }
      }
    }
  });
});
