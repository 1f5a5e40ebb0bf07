// SimSiam (Chen & He 2021): the loss against a loop reference and its closed forms (−1 when
// predictions point at the other view's projection, 0 when orthogonal), symmetry in the views,
// the stop-gradient (no gradient reaches the targets), finite differences through the predictions,
// and the method wrapper's shapes and errors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/ml/backend.ts';
import { createMethod, parseMethod } from '../../core/ml/methods/index.ts';
import { simsiamLoss, stopGradient } from '../../core/ml/methods/simsiam.ts';
import { Random } from '../../core/common/random.ts';

function randomMatrix(random: Random, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => random.normal()));
}

/** −½ mean cos(p1, z2) − ½ mean cos(p2, z1), in float64 loops. */
function referenceLoss(p1: number[][], p2: number[][], z1: number[][], z2: number[][]): number {
  const cos = (a: number[], b: number[]) => {
    const dot = a.reduce((s, x, i) => s + x * b[i]!, 0);
    return dot / Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
  };
  const mean = (pairs: Array<[number[], number[]]>) => pairs.reduce((s, [a, b]) => s + cos(a, b), 0) / pairs.length;
  return -0.5 * mean(p1.map((p, i) => [p, z2[i]!])) - 0.5 * mean(p2.map((p, i) => [p, z1[i]!]));
}

function loss(p1: number[][], p2: number[][], z1: number[][], z2: number[][]): number {
  return tf.tidy(() => simsiamLoss(tf.tensor2d(p1), tf.tensor2d(p2), tf.tensor2d(z1), tf.tensor2d(z2)).dataSync()[0]!);
}

describe('SimSiam', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('matches a loop reference', () => {
    const random = new Random(21);
    const [p1, p2, z1, z2] = [0, 1, 2, 3].map(() => randomMatrix(random, 5, 7)) as [number[][], number[][], number[][], number[][]];
    expect(loss(p1, p2, z1, z2)).toBeCloseTo(referenceLoss(p1, p2, z1, z2), 5);
  });

  it('is −1 when each prediction points at the other view, 0 when orthogonal to it', () => {
    const random = new Random(22);
    const z1 = randomMatrix(random, 6, 4);
    const z2 = randomMatrix(random, 6, 4);
    expect(loss(z2.map((r) => r.map((x) => 3 * x)), z1, z1, z2)).toBeCloseTo(-1, 5);
    const e1 = [[1, 0], [0, 1]];
    const e2 = [[0, 1], [1, 0]];
    expect(loss(e1, e2, e1, e2)).toBeCloseTo(0, 6);
  });

  it('is symmetric in the two views', () => {
    const random = new Random(23);
    const [p1, p2, z1, z2] = [0, 1, 2, 3].map(() => randomMatrix(random, 4, 3)) as [number[][], number[][], number[][], number[][]];
    expect(loss(p1, p2, z1, z2)).toBeCloseTo(loss(p2, p1, z2, z1), 6);
  });

  it('stops the gradient at the targets and has the gradient finite differences give at the predictions', () => {
    const random = new Random(24);
    const [p1, p2, z1, z2] = [0, 1, 2, 3].map(() => randomMatrix(random, 3, 4)) as [number[][], number[][], number[][], number[][]];
    const [gradP1, gradZ2] = tf.tidy(() => {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => simsiamLoss(a as tf.Tensor2D, tf.tensor2d(p2), tf.tensor2d(z1), b as tf.Tensor2D));
      return grads([tf.tensor2d(p1), tf.tensor2d(z2)]).map((g) => g.arraySync() as number[][]);
    }) as [number[][], number[][]];
    expect(gradZ2.flat().every((g) => g === 0)).toBe(true);
    const epsilon = 1e-3;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) {
        const plus = p1.map((row) => [...row]);
        const minus = p1.map((row) => [...row]);
        plus[i]![j]! += epsilon;
        minus[i]![j]! -= epsilon;
        const numeric = (referenceLoss(plus, p2, z1, z2) - referenceLoss(minus, p2, z1, z2)) / (2 * epsilon);
        expect(gradP1[i]![j]!).toBeCloseTo(numeric, 3);
      }
    }
    // stopGradient itself passes values through unchanged.
    expect(tf.tidy(() => stopGradient(tf.tensor1d([1.5, -2])).arraySync())).toEqual([1.5, -2]);
  });

  it('as a method: a loss in [−1, 1] on [2N, D] projections, gradients for its predictor, and clear errors', () => {
    const method = createMethod('simsiam', { projectionDim: 16, temperature: 0.5, random: new Random(25) });
    try {
      expect(method.parameters.map((p) => p.name)).toContain('predictor/dense1/kernel');
      const z = tf.tensor2d(randomMatrix(new Random(26), 8, 16)); // [2N = 8, 16]
      const variables = method.parameters.filter((p) => p.variable.trainable).map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => method.loss(z), variables);
      const lossValue = value.dataSync()[0]!;
      expect(lossValue).toBeGreaterThanOrEqual(-1);
      expect(lossValue).toBeLessThanOrEqual(1);
      expect(Object.keys(grads)).toHaveLength(variables.length);
      const norm = tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
      expect(norm).toBeGreaterThan(0);
      tf.dispose([z, value, ...Object.values(grads)]);
    } finally {
      method.dispose();
    }
    expect(parseMethod('simclr')).toBe('simclr');
    expect(() => parseMethod('byol')).toThrow(/simclr, simsiam/);
    expect(() => tf.tidy(() => simsiamLoss(tf.ones([2, 3]), tf.ones([3, 3]), tf.ones([2, 3]), tf.ones([2, 3])))).toThrow(/p2 is 3×3/);
  });
});
