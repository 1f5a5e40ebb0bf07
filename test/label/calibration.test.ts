import { describe, expect, it } from 'vitest';
import { expectedCalibrationError, fitTemperature, meanConfidence, negativeLogLikelihood, temperatureForMeanConfidence } from '../../core/label/calibration.ts';
import { foldCountFor, stratifiedFolds } from '../../core/label/cross-validation.ts';
import { softmaxRows } from '../../core/label/linear-probe.ts';
import { seededRandom } from '../../core/common/random.ts';

describe('temperature calibration', () => {
  it('softens overconfident logits: T > 1, lower NLL and lower ECE', () => {
    // Logits that are right 70 % of the time but always claim ~99 %.
    const random = seededRandom(4);
    const count = 2000, classCount = 4;
    const logits = new Float32Array(count * classCount);
    const labels: number[] = [];
    for (let i = 0; i < count; i++) {
      const label = i % classCount;
      labels.push(label);
      const predicted = random() < 0.7 ? label : (label + 1) % classCount;
      logits[i * classCount + predicted] = 6;
    }
    const temperature = fitTemperature(logits, classCount, labels);
    expect(temperature).toBeGreaterThan(1.5);
    expect(negativeLogLikelihood(logits, classCount, labels, temperature)).toBeLessThan(negativeLogLikelihood(logits, classCount, labels, 1));
    const before = expectedCalibrationError(softmaxRows(logits.slice(), classCount, 1), classCount, labels);
    const after = expectedCalibrationError(softmaxRows(logits.slice(), classCount, temperature), classCount, labels);
    expect(before).toBeGreaterThan(0.25);
    expect(after).toBeLessThan(0.05);
  });

  it('the NLL at the fitted temperature is a minimum', () => {
    const logits = Float32Array.from([2, 0, 0, 1, 0.5, 0, 0, 0, 3, 1, 1, 0]);
    const labels = [0, 1, 2, 0];
    const t = fitTemperature(logits, 3, labels);
    const at = negativeLogLikelihood(logits, 3, labels, t);
    expect(negativeLogLikelihood(logits, 3, labels, t * 1.05)).toBeGreaterThanOrEqual(at - 1e-9);
    expect(negativeLogLikelihood(logits, 3, labels, t / 1.05)).toBeGreaterThanOrEqual(at - 1e-9);
  });
});

describe('calibration in the large', () => {
  it('finds the temperature at which the mean confidence equals the estimated accuracy', () => {
    const random = seededRandom(8);
    const logits = Float32Array.from({ length: 300 * 5 }, () => random() * 8);
    for (const target of [0.35, 0.6, 0.9]) {
      const t = temperatureForMeanConfidence(logits, 5, target);
      expect(meanConfidence(logits, 5, t)).toBeCloseTo(target, 4);
    }
    // Lower accuracy → softer probabilities → higher temperature.
    expect(temperatureForMeanConfidence(logits, 5, 0.4)).toBeGreaterThan(temperatureForMeanConfidence(logits, 5, 0.8));
    expect(temperatureForMeanConfidence(new Float32Array(0), 5, 0.5)).toBe(1);
  });
});

describe('stratified folds', () => {
  it('puts each class in every fold in near-equal numbers', () => {
    const labels = [...Array(23).fill(0), ...Array(7).fill(1), ...Array(10).fill(2)] as number[];
    const folds = stratifiedFolds(labels, 5, 1);
    for (const label of [0, 1, 2]) {
      const perFold = [0, 0, 0, 0, 0];
      labels.forEach((l, i) => l === label && perFold[folds[i]!]!++);
      expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
    }
    expect(foldCountFor(labels)).toBe(5);
    expect(foldCountFor([0, 0, 1])).toBeLessThan(2); // a class with one label: no CV
    expect(foldCountFor([0, 0, 0])).toBe(0);
  });
});
