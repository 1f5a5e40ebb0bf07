// Our WebGPU Conv2DBackpropFilter / Conv2DBackpropInput against tfjs's cpu backend, on random inputs
// of many shapes. Runs on Dawn: in CI on Mesa's lavapipe (a missing adapter fails this file — it is
// never skipped), on a developer's machine on the real GPU.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startDawnWebgpuBackend } from '../../../../core/ml/kernels/webgpu/dawn-backend.ts';
import {
  CUSTOM_WEBGPU_KERNELS,
  registerWebgpuKernels,
  restoreStockWebgpuKernels,
} from '../../../../core/ml/kernels/webgpu/index.ts';
import { planSplitK, setConv2DBackpropFilterTuning } from '../../../../core/ml/kernels/webgpu/conv2d-backprop-filter.ts';
import { randomValues } from './webgpu-test-kit.ts';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  name: string;
  x: Shape4; // [batch, height, width, cin]
  filter: Shape4; // [kh, kw, cin, cout]
  stride: number | [number, number];
  pad: Pad;
}

const CASES: ConvCase[] = [
  { name: '3x3 s1 same, odd sizes', x: [2, 9, 7, 5], filter: [3, 3, 5, 6], stride: 1, pad: 'same' },
  { name: '3x3 s2 same', x: [2, 9, 8, 8], filter: [3, 3, 8, 12], stride: 2, pad: 'same' },
  { name: '3x3 s1 valid', x: [1, 6, 10, 4], filter: [3, 3, 4, 4], stride: 1, pad: 'valid' },
  { name: '7x7 s2 same, RGB stem', x: [2, 13, 11, 3], filter: [7, 7, 3, 8], stride: 2, pad: 'same' },
  { name: '7x7 s2 valid', x: [1, 11, 11, 3], filter: [7, 7, 3, 5], stride: 2, pad: 'valid' },
  { name: '1x1 s2 valid (downsample), M and N over one tile', x: [3, 8, 8, 70], filter: [1, 1, 70, 66], stride: 2, pad: 'valid' },
  { name: '1x1 s1 same', x: [2, 5, 5, 9], filter: [1, 1, 9, 3], stride: 1, pad: 'same' },
  { name: '3x3 over one tile in M, N not a multiple of 4', x: [1, 6, 6, 10], filter: [3, 3, 10, 67], stride: 1, pad: 'same' },
  { name: '3x2 s(2,1), explicit asymmetric padding', x: [2, 7, 6, 3], filter: [3, 2, 3, 5], stride: [2, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
];

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Runs a kernel on the named backend and returns its output values. */
async function runOn(
  backendName: 'webgpu' | 'cpu',
  kernelName: string,
  inputs: Record<string, { shape: Shape4; values: Float32Array }>,
  attrs: Record<string, unknown>,
): Promise<Float32Array> {
  await tf.setBackend(backendName);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([key, { shape, values }]) => [key, tf.tensor4d(values, shape)]));
  const output = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const values = (await output.data()) as Float32Array;
  output.dispose();
  for (const tensor of Object.values(tensors)) tensor.dispose();
  return values;
}

/** Largest error in units of the tolerance (|a − b| ≤ 1e-4 · (1 + |b|) + 2e-6 · depth): must be ≤ 1. */
function worstError(actual: Float32Array, expected: Float32Array, depth: number): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const reference = expected[i] ?? 0;
    const difference = Math.abs((actual[i] ?? Number.NaN) - reference);
    const allowed = 1e-4 * (1 + Math.abs(reference)) + 2e-6 * depth;
    worst = Math.max(worst, Number.isNaN(difference) ? Infinity : difference / allowed);
  }
  return worst;
}

function outputShapeOf(testCase: ConvCase): Shape4 {
  return tf.tidy(() => {
    const x = tf.zeros(testCase.x) as tf.Tensor4D;
    const filter = tf.zeros(testCase.filter) as tf.Tensor4D;
    return tf.conv2d(x, filter, testCase.stride, testCase.pad).shape as Shape4;
  });
}

async function checkFilterGradient(testCase: ConvCase, seed: number): Promise<number> {
  await tf.setBackend('cpu');
  const dyShape = outputShapeOf(testCase);
  const inputs = {
    x: { shape: testCase.x, values: randomValues(sizeOf(testCase.x), seed) },
    dy: { shape: dyShape, values: randomValues(sizeOf(dyShape), seed + 1) },
  };
  const attrs = { strides: testCase.stride, pad: testCase.pad, dataFormat: 'NHWC', filterShape: testCase.filter };
  const expected = await runOn('cpu', 'Conv2DBackpropFilter', inputs, attrs);
  const actual = await runOn('webgpu', 'Conv2DBackpropFilter', inputs, attrs);
  return worstError(actual, expected, dyShape[0] * dyShape[1] * dyShape[2]);
}

async function checkInputGradient(testCase: ConvCase, seed: number): Promise<number> {
  await tf.setBackend('cpu');
  const dyShape = outputShapeOf(testCase);
  const inputs = {
    dy: { shape: dyShape, values: randomValues(sizeOf(dyShape), seed) },
    filter: { shape: testCase.filter, values: randomValues(sizeOf(testCase.filter), seed + 1) },
  };
  const attrs = { strides: testCase.stride, pad: testCase.pad, dataFormat: 'NHWC', inputShape: testCase.x };
  const expected = await runOn('cpu', 'Conv2DBackpropInput', inputs, attrs);
  const actual = await runOn('webgpu', 'Conv2DBackpropInput', inputs, attrs);
  return worstError(actual, expected, testCase.filter[0] * testCase.filter[1] * testCase.filter[3]);
}

/** Names of the compiled pipelines of our programs (proves our kernels, not the stock ones, ran). */
function ourPipelines(): string[] {
  const cache = (tf.findBackend('webgpu') as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache;
  return Object.keys(cache).filter((key) => key.startsWith('looktwice_'));
}

beforeAll(async () => {
  // Throws when Dawn finds no adapter: in CI that is a failure, not a skip.
  const info = await startDawnWebgpuBackend();
  expect(info.adapterDescription).not.toBe('');
  registerWebgpuKernels();
});

describe('webgpu kernel registration', () => {
  it('replaces the stock kernels and can put them back', () => {
    const ours = CUSTOM_WEBGPU_KERNELS.map((name) => tf.getKernel(name, 'webgpu')?.kernelFunc);
    restoreStockWebgpuKernels();
    const stock = CUSTOM_WEBGPU_KERNELS.map((name) => tf.getKernel(name, 'webgpu')?.kernelFunc);
    registerWebgpuKernels();
    const again = CUSTOM_WEBGPU_KERNELS.map((name) => tf.getKernel(name, 'webgpu')?.kernelFunc);
    CUSTOM_WEBGPU_KERNELS.forEach((name, i) => {
      expect(ours[i], name).toBeDefined();
      expect(again[i], name).toBeDefined();
      expect(ours[i], name).not.toBe(stock[i]);
      expect(again[i], name).not.toBe(stock[i]);
      // Replaced stock kernels come back; our new kernels (Looktwice*) have none.
      if (name.startsWith('Looktwice')) expect(stock[i], name).toBeUndefined();
      else expect(stock[i], name).toBeDefined();
    });
  });
});

describe('Conv2DBackpropFilter (split-K implicit GEMM) matches the cpu backend', () => {
  it.each(CASES.map((testCase, index) => [testCase.name, testCase, index] as const))('%s', async (_name, testCase, index) => {
    expect(await checkFilterGradient(testCase, 100 + index)).toBeLessThanOrEqual(1);
  });

  it('sums K slices correctly when split-K is forced', async () => {
    const previous = setConv2DBackpropFilterTuning({ minKTilesPerSplit: 1, targetWorkgroups: 4096 });
    try {
      const testCase: ConvCase = { name: 'split', x: [4, 9, 9, 6], filter: [3, 3, 6, 10], stride: 1, pad: 'same' };
      expect(planSplitK(54, 10, 4 * 81).splits).toBeGreaterThan(1);
      expect(await checkFilterGradient(testCase, 7)).toBeLessThanOrEqual(1);
      const strided: ConvCase = { name: 'split s2', x: [3, 10, 9, 4], filter: [3, 3, 4, 8], stride: 2, pad: 'valid' };
      expect(await checkFilterGradient(strided, 8)).toBeLessThanOrEqual(1);
      expect(ourPipelines().some((key) => key.startsWith('looktwice_splitKSum'))).toBe(true);
    } finally {
      setConv2DBackpropFilterTuning(previous);
    }
  });

  it('plans split-K to fill a large GPU for ResNet-18 stage 1 and not at all for stage 4', () => {
    // Stage 1 at 32 px, batch 512: M = 3·3·64, N = 64, K = 512·32·32.
    const stage1 = planSplitK(576, 64, 512 * 32 * 32);
    expect(stage1.splits * 9).toBeGreaterThanOrEqual(512);
    expect(stage1.splits * stage1.kTilesPerSplit * 16).toBeGreaterThanOrEqual(512 * 32 * 32);
    expect(planSplitK(4608, 512, 512 * 4 * 4).splits).toBe(1);
  });
});

describe('Conv2DBackpropInput (implicit GEMM) matches the cpu backend', () => {
  it.each(CASES.map((testCase, index) => [testCase.name, testCase, index] as const))('%s', async (_name, testCase, index) => {
    expect(await checkInputGradient(testCase, 200 + index)).toBeLessThanOrEqual(1);
  });
});

describe('gradients of a conv layer through tf.grads', () => {
  it('match the cpu backend and use our kernels', async () => {
    const x = randomValues(2 * 10 * 10 * 3, 11);
    const filter = randomValues(3 * 3 * 3 * 8, 12);
    const weights = randomValues(2 * 5 * 5 * 8, 13);
    const gradients = async (backendName: 'webgpu' | 'cpu'): Promise<Float32Array[]> => {
      await tf.setBackend(backendName);
      const [dx, dFilter] = tf.tidy(() =>
        tf.grads((input: tf.Tensor, kernel: tf.Tensor) =>
          tf.conv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, 2, 'same').mul(tf.tensor4d(weights, [2, 5, 5, 8])).sum(),
        )([tf.tensor4d(x, [2, 10, 10, 3]), tf.tensor4d(filter, [3, 3, 3, 8])]),
      ) as [tf.Tensor, tf.Tensor];
      const values = [(await dx.data()) as Float32Array, (await dFilter.data()) as Float32Array];
      dx.dispose();
      dFilter.dispose();
      return values;
    };
    const expected = await gradients('cpu');
    const actual = await gradients('webgpu');
    expect(worstError(actual[0] ?? new Float32Array(), expected[0] ?? new Float32Array(), 72)).toBeLessThanOrEqual(1);
    expect(worstError(actual[1] ?? new Float32Array(), expected[1] ?? new Float32Array(), 50)).toBeLessThanOrEqual(1);
    expect(ourPipelines().some((key) => key.startsWith('looktwice_conv2dBackpropFilterGemm'))).toBe(true);
    expect(ourPipelines().some((key) => key.startsWith('looktwice_conv2dBackpropInputGemm'))).toBe(true);
  });
});
