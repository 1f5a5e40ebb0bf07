/**
 * Stratified k-fold cross-validation of the linear probe: an honest accuracy estimate from the
 * user's own labels, plus out-of-fold logits on which the confidence temperature is fitted
 * (calibration.ts) — never on the samples the probe was trained on.
 */
import { throwIfCancelled } from '../common/progress.ts';
import { accuracy, fitLinearProbe, predictLogits, type LinearProbeOptions } from './linear-probe.ts';
import { seededRandom, shuffleInPlace } from '../common/random.ts';

/**
 * A fold index in [0, k) per sample, dealt round-robin within each class after a seeded
 * shuffle, so every fold has each class in (nearly) the same proportion.
 */
export function stratifiedFolds(labels: ArrayLike<number>, folds: number, seed = 0): Int32Array {
  const random = seededRandom(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const members = byClass.get(labels[i]!) ?? [];
    members.push(i);
    byClass.set(labels[i]!, members);
  }
  const out = new Int32Array(labels.length);
  let offset = 0; // rotate the start so small classes do not all land in fold 0
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = shuffleInPlace(byClass.get(label)!, random);
    members.forEach((index, position) => (out[index] = (position + offset) % folds));
    offset += members.length;
  }
  return out;
}

/** How many folds the labels allow: min(5, smallest class size); < 2 means no CV. */
export function foldCountFor(labels: ArrayLike<number>, maxFolds = 5): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  if (counts.size < 2) return 0;
  return Math.min(maxFolds, ...counts.values());
}

export interface CrossValidationResult {
  folds: number;
  accuracy: number;
  /** Logits [N, C] of each sample from the probe that did not see it. */
  outOfFoldLogits: Float32Array;
}

/**
 * Stratified k-fold CV on `features` [N, dim]; null when some class has fewer than 2 labels
 * (no fold could both train on and test a class).
 */
export function crossValidate(
  features: Float32Array,
  dim: number,
  labels: ArrayLike<number>,
  classCount: number,
  options: LinearProbeOptions & { maxFolds?: number } = {},
): CrossValidationResult | null {
  const folds = foldCountFor(labels, options.maxFolds ?? 5);
  if (folds < 2) return null;
  const assignment = stratifiedFolds(labels, folds, options.seed ?? 0);
  const outOfFoldLogits = new Float32Array(labels.length * classCount);
  for (let fold = 0; fold < folds; fold++) {
    throwIfCancelled(options.signal);
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < labels.length; i++) (assignment[i] === fold ? test : train).push(i);
    const gather = (rows: number[]) => {
      const out = new Float32Array(rows.length * dim);
      rows.forEach((row, k) => out.set(features.subarray(row * dim, (row + 1) * dim), k * dim));
      return out;
    };
    const model = fitLinearProbe(gather(train), dim, train.map((i) => labels[i]!), { ...options, classCount, onProgress: undefined });
    const logits = predictLogits(model, gather(test));
    test.forEach((row, k) => outOfFoldLogits.set(logits.subarray(k * classCount, (k + 1) * classCount), row * classCount));
  }
  return { folds, accuracy: accuracy(outOfFoldLogits, classCount, labels), outOfFoldLogits };
}
