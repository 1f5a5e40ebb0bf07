import { describe, expect, it } from 'vitest';
import { accuracy, argmaxRows, classWeights, fitLinearProbe, predictLogits, predictProba } from '../../core/label/linear-probe.ts';
import { seededRandom } from '../../core/common/random.ts';

/** Gaussian blobs: `perClass[c]` points around a random centre per class. */
function blobs(perClass: number[], dim: number, spread: number, seed: number) {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = perClass.map(() => Array.from({ length: dim }, () => gaussian()));
  const rows: number[][] = [];
  const labels: number[] = [];
  perClass.forEach((n, c) => {
    for (let i = 0; i < n; i++) {
      rows.push(centres[c]!.map((v) => v + spread * gaussian()));
      labels.push(c);
    }
  });
  return { features: Float32Array.from(rows.flat()), labels, dim };
}

/** Slow reference objective: weighted mean cross-entropy + (λ/2)‖W‖², straight from the formula. */
function referenceObjective(weights: number[], bias: number[], features: Float32Array, dim: number, labels: number[], classWeight: Float64Array, lambda: number): number {
  let total = 0;
  let weightSum = 0;
  labels.forEach((label, i) => {
    const logits = bias.map((b, c) => b + weights.slice(c * dim, (c + 1) * dim).reduce((s, w, d) => s + w * features[i * dim + d]!, 0));
    const logSumExp = Math.log(logits.reduce((s, z) => s + Math.exp(z), 0));
    total += classWeight[label]! * (logSumExp - logits[label]!);
    weightSum += classWeight[label]!;
  });
  return total / weightSum + (lambda / 2) * weights.reduce((s, w) => s + w * w, 0);
}

describe('linear probe', () => {
  it('separates Gaussian blobs with L-BFGS and with Adam', () => {
    // Even rows train, odd rows test: same centres, independent draws.
    const all = blobs([120, 120, 120], 8, 0.4, 1);
    const half = (parity: number) => {
      const rows = all.labels.map((_, i) => i).filter((i) => i % 2 === parity);
      return {
        features: Float32Array.from(rows.flatMap((i) => Array.from(all.features.subarray(i * 8, i * 8 + 8)))),
        labels: rows.map((i) => all.labels[i]!),
      };
    };
    const train = half(0);
    const test = half(1);
    const lbfgs = fitLinearProbe(train.features, 8, train.labels);
    const adam = fitLinearProbe(train.features, 8, train.labels, { optimizer: 'adam', steps: 400, learningRate: 1e-2, seed: 3 });
    expect(accuracy(predictProba(lbfgs, test.features), 3, test.labels)).toBeGreaterThan(0.97);
    expect(accuracy(predictProba(adam, test.features), 3, test.labels)).toBeGreaterThan(0.97);
    const probabilities = predictProba(lbfgs, test.features);
    for (let i = 0; i < test.labels.length; i++) {
      const row = probabilities.subarray(i * 3, i * 3 + 3);
      expect(row[0]! + row[1]! + row[2]!).toBeCloseTo(1, 5);
    }
  });

  it('L-BFGS reaches the minimum of the reference objective (no direction goes down)', () => {
    const { features, labels, dim } = blobs([12, 7, 9], 5, 1.5, 7);
    const lambda = 0.05;
    const model = fitLinearProbe(features, dim, labels, { standardize: false, weightDecay: lambda, gradientTolerance: 1e-9 });
    const weights = Array.from(model.weights);
    const bias = Array.from(model.bias);
    const classWeight = classWeights(labels, 3, 'balanced');
    const at = referenceObjective(weights, bias, features, dim, labels, classWeight, lambda);
    expect(model.finalLoss).toBeCloseTo(at, 5);
    const step = 1e-3;
    for (let p = 0; p < weights.length + bias.length; p++) {
      for (const sign of [1, -1]) {
        const w = weights.slice();
        const b = bias.slice();
        if (p < w.length) w[p]! += sign * step;
        else b[p - w.length]! += sign * step;
        // Convex objective at its minimum: any small move costs ~ step² or more, never gains.
        expect(referenceObjective(w, b, features, dim, labels, classWeight, lambda)).toBeGreaterThan(at - 1e-9);
      }
    }
  });

  it('class-balanced weighting favours the minority class more than unweighted training', () => {
    const { features, labels, dim } = blobs([180, 20], 4, 2.5, 11);
    const countMinority = (weighting: 'balanced' | 'none') => {
      const model = fitLinearProbe(features, dim, labels, { classWeighting: weighting });
      return argmaxRows(predictLogits(model, features), 2).reduce((n, c) => n + (c === 1 ? 1 : 0), 0);
    };
    expect(countMinority('balanced')).toBeGreaterThan(countMinority('none'));
    const weights = classWeights(labels, 2, 'balanced');
    expect(weights[0]! * 180).toBeCloseTo(weights[1]! * 20, 6);
  });

  it('folds standardisation into the weights, so badly scaled features still work', () => {
    const { features, labels, dim } = blobs([40, 40], 6, 0.5, 5);
    const scaled = features.map((v, i) => (i % dim === 0 ? v * 1000 + 5000 : v));
    const model = fitLinearProbe(scaled, dim, labels, { standardize: true });
    expect(accuracy(predictLogits(model, scaled), 2, labels)).toBeGreaterThan(0.97);
  });

  it('is deterministic for a seed', () => {
    const { features, labels, dim } = blobs([30, 30, 30], 6, 1, 2);
    const a = fitLinearProbe(features, dim, labels, { optimizer: 'adam', steps: 50, seed: 9 });
    const b = fitLinearProbe(features, dim, labels, { optimizer: 'adam', steps: 50, seed: 9 });
    const c = fitLinearProbe(features, dim, labels, { optimizer: 'adam', steps: 50, seed: 10, batchSize: 16 });
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    expect(Array.from(a.weights)).not.toEqual(Array.from(c.weights));
    expect(Array.from(fitLinearProbe(features, dim, labels).weights)).toEqual(Array.from(fitLinearProbe(features, dim, labels).weights));
  });

  it('rejects empty input, bad labels and mismatched shapes with a clear error', () => {
    expect(() => fitLinearProbe(new Float32Array(0), 4, [])).toThrow(/no labeled samples/);
    expect(() => fitLinearProbe(new Float32Array(8), 4, [0, 1.5])).toThrow(/not a class index/);
    expect(() => fitLinearProbe(new Float32Array(7), 4, [0, 1])).toThrow(/expected 2 × 4/);
    expect(() => fitLinearProbe(new Float32Array(8), 4, [0, 3], { classCount: 2 })).toThrow(/classCount/);
  });

  it('stops at a safe point when cancelled', () => {
    const { features, labels, dim } = blobs([30, 30], 4, 1, 2);
    const controller = new AbortController();
    controller.abort();
    expect(() => fitLinearProbe(features, dim, labels, { signal: controller.signal })).toThrow(/cancelled/);
  });
});
