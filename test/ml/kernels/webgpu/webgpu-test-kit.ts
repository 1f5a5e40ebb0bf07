// What the WebGPU kernel tests share: reproducible inputs that do not depend on a backend's RNG, the
// Dawn backend with our kernels registered before the file's tests, and the batch norm comparison.
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
