// Augmentations (seeded, in range, actually varied), the ResNet encoder (shapes, stems, parameter
// counts) and the projection head, with real tfjs on the cpu backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/ml/backend.ts';
import { augmentBatch, DEFAULT_AUGMENT } from '../../core/ml/augment.ts';
import { Random } from '../../core/common/random.ts';
import { ResNet, resnetConfig } from '../../core/ml/resnet.ts';
import { ProjectionHead } from '../../core/ml/projection-head.ts';
import { warmupCosine } from '../../core/ml/learning-rate.ts';

beforeAll(async () => {
  await initBackend('cpu');
});

function images(batch: number, size: number, channels: number): tf.Tensor4D {
  const random = new Random(5);
  return tf.tensor4d(Float32Array.from({ length: batch * size * size * channels }, () => random.next()), [batch, size, size, channels]);
}

describe('augmentations', () => {
  it('are deterministic for a seed, stay in range, and differ between views', () => {
    const x = images(4, 24, 3);
    const a = augmentBatch(x, new Random(1)).dataSync();
    const b = augmentBatch(x, new Random(1)).dataSync();
    const c = augmentBatch(x, new Random(2)).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-0.5 - 1e-6);
    expect(Math.max(...a)).toBeLessThanOrEqual(0.5 + 1e-6);
  });

  it('work on grayscale and apply blur only from 96 px', () => {
    const gray = augmentBatch(images(2, 20, 1), new Random(3), { ...DEFAULT_AUGMENT, blurProbability: 1 });
    expect(gray.shape).toEqual([2, 20, 20, 1]);
    const large = augmentBatch(images(1, 96, 3), new Random(3), { ...DEFAULT_AUGMENT, blurProbability: 1, jitterProbability: 0, grayscaleProbability: 0, minCropArea: 1 });
    // With the whole image kept (maybe flipped) and no colour change, blur lowers the pixel variance.
    const plain = augmentBatch(images(1, 96, 3), new Random(3), { ...DEFAULT_AUGMENT, blurProbability: 0, jitterProbability: 0, grayscaleProbability: 0, minCropArea: 1 });
    expect(tf.moments(large).variance.dataSync()[0]!).toBeLessThan(tf.moments(plain).variance.dataSync()[0]! * 0.8);
  });

  it('grayscale makes the three channels equal', () => {
    const view = augmentBatch(images(2, 16, 3), new Random(4), { ...DEFAULT_AUGMENT, grayscaleProbability: 1, jitterProbability: 0 });
    const [r, g, b] = tf.split(view, 3, 3);
    expect(tf.max(tf.abs(tf.sub(r!, g!))).dataSync()[0]!).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(tf.sub(r!, b!))).dataSync()[0]!).toBeLessThan(1e-5);
  });
});

describe('ResNet encoder and projection head', () => {
  it('resnet18 has ~11.2M parameters and a 512-d h; the CIFAR stem keeps the resolution', () => {
    const config = resnetConfig('resnet18', 32);
    expect(config.cifarStem).toBe(true);
    const net = new ResNet(config, new Random(1));
    // 11.17M for the CIFAR stem (3×3 conv instead of 7×7, no fc layer)
    expect(net.parameters.count()).toBeGreaterThan(11.1e6);
    expect(net.parameters.count()).toBeLessThan(11.3e6);
    expect(net.featureDim).toBe(512);
    net.dispose();
    expect(resnetConfig('resnet18', 96).cifarStem).toBe(false);
  });

  it('maps [B, S, S, C] to h [B, D] in both stems, and g(h) to 128-d', () => {
    for (const size of [16, 72]) {
      const net = new ResNet(resnetConfig('resnet-small', size, 3, { widths: [8, 16], blocks: [1, 1] }), new Random(2));
      const h = net.forward(images(3, size, 3), true, []);
      expect(h.shape).toEqual([3, 16]);
      const head = new ProjectionHead(16, new Random(3));
      expect(head.forward(h as tf.Tensor2D, true, []).shape).toEqual([3, 128]);
      net.dispose();
      head.dispose();
    }
  });

  it('warm-up then cosine decay', () => {
    expect(warmupCosine(0, 100, 10, 1)).toBeCloseTo(0.1);
    expect(warmupCosine(9, 100, 10, 1)).toBeCloseTo(1);
    expect(warmupCosine(55, 100, 10, 1)).toBeCloseTo(0.5);
    expect(warmupCosine(100, 100, 10, 1)).toBeCloseTo(0);
  });
});
