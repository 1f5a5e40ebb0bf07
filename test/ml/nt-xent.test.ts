// NT-Xent (Chen et al. 2020, eq. 1) against a slow loop reference, its symmetry in the two views,
// the closed form for identical embeddings, and a finite-difference check of its gradient.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/ml/backend.ts';
import { ntXentLoss } from '../../core/ml/nt-xent.ts';
import { Random } from '../../core/common/random.ts';

/** The loss written out with plain loops over the 2N views. */
function referenceLoss(z1: number[][], z2: number[][], temperature: number): number {
  const z = [...z1, ...z2].map((v) => {
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => x / norm);
  });
  const n = z1.length;
  const sim = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / temperature;
  let total = 0;
  for (let i = 0; i < 2 * n; i++) {
    const positive = i < n ? i + n : i - n;
    let denominator = 0;
    for (let k = 0; k < 2 * n; k++) if (k !== i) denominator += Math.exp(sim(z[i]!, z[k]!));
    total += -Math.log(Math.exp(sim(z[i]!, z[positive]!)) / denominator);
  }
  return total / (2 * n);
}

function randomMatrix(random: Random, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => random.normal()));
}

function loss(z1: number[][], z2: number[][], temperature: number): number {
  return tf.tidy(() => ntXentLoss(tf.tensor2d(z1), tf.tensor2d(z2), temperature).dataSync()[0]!);
}

describe('NT-Xent', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('matches a slow loop reference', () => {
    const random = new Random(7);
    for (const [n, d, t] of [[4, 8, 0.5], [7, 3, 0.1], [2, 16, 1.0]] as const) {
      const z1 = randomMatrix(random, n, d);
      const z2 = randomMatrix(random, n, d);
      expect(loss(z1, z2, t)).toBeCloseTo(referenceLoss(z1, z2, t), 4);
    }
  });

  it('is symmetric in the two views', () => {
    const random = new Random(8);
    const z1 = randomMatrix(random, 6, 5);
    const z2 = randomMatrix(random, 6, 5);
    expect(loss(z1, z2, 0.5)).toBeCloseTo(loss(z2, z1, 0.5), 5);
  });

  it('equals −log(1/(2N−1)) when every embedding is the same', () => {
    for (const n of [2, 5, 16]) {
      const same = Array.from({ length: n }, () => [0.3, -1.2, 2.0, 0.5]);
      expect(loss(same, same, 0.5)).toBeCloseTo(-Math.log(1 / (2 * n - 1)), 4);
    }
  });

  it('falls when the positive pairs align', () => {
    const random = new Random(9);
    const z1 = randomMatrix(random, 8, 16);
    const unrelated = randomMatrix(random, 8, 16);
    expect(loss(z1, z1.map((v) => v.map((x) => x * 2)), 0.5)).toBeLessThan(loss(z1, unrelated, 0.5));
  });

  it('has the gradient finite differences give', () => {
    const random = new Random(10);
    const z1 = randomMatrix(random, 3, 4);
    const z2 = randomMatrix(random, 3, 4);
    const temperature = 0.5;
    const analytic = tf.tidy(() => {
      const b = tf.tensor2d(z2);
      return tf.grad((a: tf.Tensor) => ntXentLoss(a as tf.Tensor2D, b, temperature))(tf.tensor2d(z1)).arraySync() as number[][];
    });
    const epsilon = 1e-3;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) {
        const plus = z1.map((row) => [...row]);
        const minus = z1.map((row) => [...row]);
        plus[i]![j]! += epsilon;
        minus[i]![j]! -= epsilon;
        // central difference on the float64 reference, compared with tfjs's float32 gradient
        const numeric = (referenceLoss(plus, z2, temperature) - referenceLoss(minus, z2, temperature)) / (2 * epsilon);
        expect(analytic[i]![j]!).toBeCloseTo(numeric, 3);
      }
    }
  });

  it('rejects a non-positive temperature and mismatched views', () => {
    expect(() => loss([[1, 0]], [[0, 1]], 0)).toThrow(/temperature/);
    expect(() => tf.tidy(() => ntXentLoss(tf.ones([2, 3]), tf.ones([3, 3]), 0.5))).toThrow(/shape/);
  });
});
