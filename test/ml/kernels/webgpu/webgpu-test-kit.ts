// What the WebGPU kernel tests share: reproducible inputs that do not depend on a backend's RNG, the
// Dawn backend with our kernels registered before the file's tests, and the batch norm evaluation and
// comparison.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect } from 'vitest';
import { startDawnWebgpuBackend } from '../../../../core/ml/kernels/webgpu/dawn-backend.ts';
import { registerWebgpuKernels } from '../../../../core/ml/kernels/webgpu/index.ts';

/** `count` values of a small LCG from `seed`, uniform in [shift − scale, shift + scale). */
export function randomValues(count: number, seed: number, shift = 0, scale = 1): Float32Array {
  const values = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 2 ** 31 - 1) * scale + shift;
  }
  return values;
}

/** Starts the Dawn webgpu backend and registers our kernels before this file's tests (no adapter = failure, never a skip). */
export function useDawnWebgpuKernels(): void {
  beforeAll(async () => {
    await startDawnWebgpuBackend();
    registerWebgpuKernels();
  });
}

/** Names of the six tensors a batch norm evaluation returns, in order. */
const BATCH_NORM_OUTPUTS = ['y', 'mean', 'variance', 'dx', 'dScale', 'dOffset'];

/** Expects each of y, mean, variance, dx, dScale, dOffset within 1e-4 · (1 + |reference|) of the reference. */
export function expectBatchNormOutputsClose(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual.length).toBe(BATCH_NORM_OUTPUTS.length);
  actual.forEach((values, i) => {
    const reference = expected[i] ?? new Float32Array();
    const name = BATCH_NORM_OUTPUTS[i];
    expect(values.length, name).toBe(reference.length);
    let worst = 0;
    for (let j = 0; j < values.length; j++) {
      const allowed = 1e-4 * (1 + Math.abs(reference[j] ?? 0));
      worst = Math.max(worst, Math.abs((values[j] ?? Number.NaN) - (reference[j] ?? 0)) / allowed);
    }
    expect(worst, name).toBeLessThanOrEqual(1);
  });
}

/** A training-mode batch norm under test: x [..., C], scale [C], offset [C] → y like x, mean/variance [C]. */
export type BatchNormUnderTest = (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor) => { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor };

/**
 * y, mean, variance and the gradients of Σ w·after(y) for x, scale, offset on the active backend,
 * from LCG inputs of `shape` (x centred on `xShift`), in the order expectBatchNormOutputsClose names.
 */
export async function evaluateBatchNorm(
  batchNorm: BatchNormUnderTest,
  shape: number[],
  seed: number,
  xShift: number,
  after: (y: tf.Tensor) => tf.Tensor = (y) => y,
): Promise<Float32Array[]> {
  const channels = shape[shape.length - 1] ?? 1;
  const size = shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(randomValues(size, seed, xShift, 2), shape);
  const scale = tf.tensor1d(randomValues(channels, seed + 1, 1, 2));
  const offset = tf.tensor1d(randomValues(channels, seed + 2, 0, 2));
  const weights = tf.tensor(randomValues(size, seed + 3, 0, 2), shape);
  const forward = batchNorm(x, scale, offset);
  const gradients = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.tidy(() => tf.sum(tf.mul(after(batchNorm(a, b, c).y), weights))))([
    x,
    scale,
    offset,
  ]);
  const outputs = [forward.y, forward.mean, forward.variance, ...gradients];
  const values = await Promise.all(outputs.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose([x, scale, offset, weights, ...outputs]);
  return values;
}
