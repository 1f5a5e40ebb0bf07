// The project's wasm training kernels (Conv2DBackpropFilter, Conv2DBackpropInput) against the cpu
// backend's reference implementation, over strides, paddings, filter sizes and odd shapes; the
// filter gradient both through its SIMD kernel (Co % 8 == 0) and through XNNPACK (the others).
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../../core/ml/backend.ts';
import { Random } from '../../../../core/common/random.ts';

interface Case {
  batch: number;
  size: [number, number];
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** tfjs's 'same'/'valid', or explicit padding on every side (PyTorch's, the 'symmetric' ResNets). */
  pad: 'same' | 'valid' | number;
}

const CASES: Case[] = [];
for (const kernel of [1, 3, 7]) {
  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      CASES.push({ batch: 2, size: [9, 11], inChannels: 3, outChannels: 5, kernel, stride, pad });
      CASES.push({ batch: 3, size: [8, 8], inChannels: 16, outChannels: 8, kernel, stride, pad });
    }
  }
}
CASES.push({ batch: 1, size: [32, 32], inChannels: 16, outChannels: 32, kernel: 3, stride: 2, pad: 'same' });
CASES.push({ batch: 2, size: [12, 12], inChannels: 24, outChannels: 24, kernel: 3, stride: 1, pad: 'same' });
CASES.push({ batch: 5, size: [7, 5], inChannels: 1, outChannels: 4, kernel: 3, stride: 1, pad: 'valid' });
CASES.push({ batch: 2, size: [13, 13], inChannels: 6, outChannels: 3, kernel: 7, stride: 2, pad: 'same' });
// Co % 8 == 0 takes the SIMD filter-gradient kernel: input channels not a multiple of 4 (the stem's
// 3, 6 = one 4-block + 2 single), several images per call and one image per call (64×64×16).
CASES.push({ batch: 3, size: [10, 10], inChannels: 3, outChannels: 16, kernel: 3, stride: 1, pad: 'same' });
CASES.push({ batch: 2, size: [9, 7], inChannels: 6, outChannels: 8, kernel: 3, stride: 2, pad: 'valid' });
CASES.push({ batch: 2, size: [64, 64], inChannels: 16, outChannels: 16, kernel: 3, stride: 1, pad: 'same' });
CASES.push({ batch: 9, size: [6, 6], inChannels: 12, outChannels: 24, kernel: 1, stride: 2, pad: 'same' });
// Ci % 8 == 0 takes the SIMD input-gradient kernel: strides 1–3, explicit padding, odd sizes, a row
// of 1–3 pixels per phase after the 4-pixel tiles, a filter larger than the image, 1×1 shortcuts.
CASES.push({ batch: 3, size: [9, 11], inChannels: 8, outChannels: 5, kernel: 3, stride: 2, pad: 'same' });
CASES.push({ batch: 2, size: [7, 7], inChannels: 16, outChannels: 8, kernel: 3, stride: 2, pad: 1 });
CASES.push({ batch: 2, size: [8, 8], inChannels: 16, outChannels: 32, kernel: 1, stride: 2, pad: 0 });
CASES.push({ batch: 2, size: [10, 6], inChannels: 8, outChannels: 12, kernel: 3, stride: 1, pad: 1 });
CASES.push({ batch: 2, size: [4, 4], inChannels: 32, outChannels: 16, kernel: 3, stride: 1, pad: 'same' });
CASES.push({ batch: 2, size: [11, 9], inChannels: 8, outChannels: 8, kernel: 3, stride: 3, pad: 'valid' });
CASES.push({ batch: 1, size: [5, 5], inChannels: 8, outChannels: 4, kernel: 7, stride: 2, pad: 'same' });
CASES.push({ batch: 2, size: [9, 9], inChannels: 24, outChannels: 16, kernel: 3, stride: 2, pad: 'valid' });
CASES.push({ batch: 2, size: [13, 7], inChannels: 16, outChannels: 9, kernel: 5, stride: 2, pad: 2 });

function values(random: Random, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = random.normal();
  return out;
}

function gradients(c: Case, x: Float32Array, filter: Float32Array, dy: Float32Array): { dx: Float32Array; dFilter: Float32Array } {
  return tf.tidy(() => {
    const xT = tf.tensor4d(x, [c.batch, c.size[0], c.size[1], c.inChannels]);
    const fT = tf.tensor4d(filter, [c.kernel, c.kernel, c.inChannels, c.outChannels]);
    const y = tf.conv2d(xT, fT, c.stride, c.pad);
    const dyT = tf.tensor(dy, y.shape);
    const [dx, dFilter] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dyT)))([xT, fT]);
    return { dx: dx!.dataSync() as Float32Array, dFilter: dFilter!.dataSync() as Float32Array };
  });
}

function outputSize(c: Case): number {
  const pad = c.pad;
  const out = (n: number) =>
    pad === 'same' ? Math.ceil(n / c.stride) : Math.floor((n + 2 * (pad === 'valid' ? 0 : pad) - c.kernel) / c.stride) + 1;
  return c.batch * out(c.size[0]) * out(c.size[1]) * c.outChannels;
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 1e-6;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst / scale;
}

describe('wasm training kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(CASES.map((c) => [`${c.batch}x${c.size.join('x')}x${c.inChannels}→${c.outChannels} k${c.kernel} s${c.stride} ${c.pad}`, c] as const))('%s', async (_name, c) => {
    const random = new Random(c.kernel * 100 + c.stride * 10 + c.inChannels);
    const x = values(random, c.batch * c.size[0] * c.size[1] * c.inChannels);
    const filter = values(random, c.kernel * c.kernel * c.inChannels * c.outChannels);
    const dy = values(random, outputSize(c));
    await tf.setBackend('wasm');
    const wasm = gradients(c, x, filter, dy);
    await tf.setBackend('cpu');
    const cpu = gradients(c, x, filter, dy);
    await tf.setBackend('wasm');
    expect(wasm.dFilter.length).toBe(cpu.dFilter.length);
    expect(wasm.dx.length).toBe(cpu.dx.length);
    expect(maxRelativeError(wasm.dFilter, cpu.dFilter)).toBeLessThan(1e-4);
    expect(maxRelativeError(wasm.dx, cpu.dx)).toBeLessThan(1e-4);
  });

  it('uses the project kernels on wasm', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });
});
