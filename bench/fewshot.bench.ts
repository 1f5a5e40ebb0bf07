/**
 * bench:fewshot — few-shot labeling on Fashion-MNIST: test accuracy of the product's linear probe
 * (core/label/linear-probe.ts: L-BFGS, class-balanced, L2 1e-2 on standardised features) against
 * the number of labels, with labels chosen
 *   - random:          k random training images per class (the usual few-shot protocol; it
 *                      knows the classes, which a real user's random picks would not),
 *   - random_uniform:  10·k random training images, class-blind (what "label whatever" gives),
 *   - suggest:         10·k images chosen by core/label/active-learning.ts in rounds
 *                      (cold start: typical images; then cluster-margin),
 * on raw pixels and on every saved embedding set of bench:fmnist (bench/lib/fashion-mnist.ts,
 * `.looktwice-tmp/fmnist-embeddings/<name>/`). Also: calibration (test ECE before and after
 * temperature scaling fitted by cross-validation), a PyTorch-style linear-probe protocol
 * (Adam, 500 steps, wd 1e-3) at 10 per class for comparison with its table, and how long a
 * retrain takes for thousands of labels. Prints JSON lines.
 *
 *   npm run bench:fewshot [-- --seeds 3] [--embeddings DIR] [--fmnist DIR] [--quick] [--skip-raw]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { suggestForLabeling } from '../core/label/active-learning.ts';
import { expectedCalibrationError, fitTemperature, shrinkTemperature, temperatureForMeanConfidence } from '../core/label/calibration.ts';
import { crossValidate } from '../core/label/cross-validation.ts';
import { accuracy, fitLinearProbe, predictLogits, predictProba, softmaxRows } from '../core/label/linear-probe.ts';
import { randomInt, seededRandom, shuffleInPlace } from '../core/common/random.ts';
import { DEFAULT_EMBEDDINGS_DIR, FASHION_MNIST_DIR, loadEmbeddings, loadFashionMnist } from './lib/fashion-mnist.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    embeddings: { type: 'string', default: DEFAULT_EMBEDDINGS_DIR },
    fmnist: { type: 'string', default: FASHION_MNIST_DIR },
    quick: { type: 'boolean', default: false },
    'skip-raw': { type: 'boolean', default: false },
  },
});
const SEEDS = Number(values.seeds);
const PER_CLASS = values.quick ? [1, 5, 10] : [1, 5, 10, 50];
const CLASSES = 10;
const WEIGHT_DECAY = 1e-2;

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

interface FeatureSet {
  name: string;
  dim: number;
  train: Float32Array; // [60000, dim]
  test: Float32Array; // [10000, dim]
  trainLabels: Uint8Array;
  testLabels: Uint8Array;
  note?: string;
}

function gather(features: Float32Array, dim: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((row, k) => out.set(features.subarray(row * dim, (row + 1) * dim), k * dim));
  return out;
}

function testAccuracy(set: FeatureSet, rows: readonly number[]): number {
  const model = fitLinearProbe(gather(set.train, set.dim, rows), set.dim, rows.map((r) => set.trainLabels[r]!), { classCount: CLASSES, weightDecay: WEIGHT_DECAY });
  return accuracy(predictLogits(model, set.test), CLASSES, set.testLabels);
}

function stratifiedRandom(set: FeatureSet, perClass: number, seed: number): number[] {
  const random = seededRandom(1000 + seed);
  const byClass: number[][] = Array.from({ length: CLASSES }, () => []);
  set.trainLabels.forEach((label, i) => byClass[label]!.push(i));
  return byClass.flatMap((members) => shuffleInPlace(members.slice(), random).slice(0, perClass));
}

function uniformRandom(set: FeatureSet, total: number, seed: number): number[] {
  const random = seededRandom(2000 + seed);
  const chosen = new Set<number>();
  while (chosen.size < total) chosen.add(randomInt(random, set.trainLabels.length));
  return [...chosen];
}

/** Active learning in rounds up to the largest budget; returns the labeled rows at each budget. */
function activeLearning(set: FeatureSet, budgets: readonly number[], seed: number): Map<number, { rows: number[]; ms: number }> {
  const schedule = [10, 20, 30, 50, 70, 100, 150, 200, 300, 400, 500].filter((b) => b <= Math.max(...budgets));
  for (const b of budgets) if (!schedule.includes(b)) schedule.push(b);
  schedule.sort((a, b) => a - b);
  const labeled: number[] = [];
  const isLabeled = new Uint8Array(set.trainLabels.length);
  const out = new Map<number, { rows: number[]; ms: number }>();
  const started = performance.now();
  for (const budget of schedule) {
    const need = budget - labeled.length;
    const candidates: number[] = [];
    for (let i = 0; i < set.trainLabels.length; i++) if (!isLabeled[i]) candidates.push(i);
    const candidateFeatures = gather(set.train, set.dim, candidates);
    let probabilities: Float32Array | null = null;
    const classesSeen = new Set(labeled.map((r) => set.trainLabels[r]!));
    if (classesSeen.size >= 2) {
      // The probe only knows the classes labeled so far, as in the product.
      const classList = [...classesSeen].sort((a, b) => a - b);
      const index = new Map(classList.map((c, k) => [c, k]));
      const model = fitLinearProbe(gather(set.train, set.dim, labeled), set.dim, labeled.map((r) => index.get(set.trainLabels[r]!)!), { classCount: classList.length, weightDecay: WEIGHT_DECAY });
      probabilities = predictProba(model, candidateFeatures);
    }
    const picks = suggestForLabeling({
      features: candidateFeatures,
      dim: set.dim,
      probabilities,
      labeledFeatures: labeled.length > 0 ? gather(set.train, set.dim, labeled) : null,
      count: need,
      seed,
    });
    for (const pick of picks) {
      const row = candidates[pick.index]!;
      labeled.push(row);
      isLabeled[row] = 1;
    }
    if (budgets.includes(budget)) out.set(budget, { rows: labeled.slice(), ms: performance.now() - started });
  }
  return out;
}

function meanStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean: Number(mean.toFixed(4)), std: Number(std.toFixed(4)) };
}

function rawPixels(): FeatureSet {
  const train = loadFashionMnist('train', values.fmnist);
  const test = loadFashionMnist('test', values.fmnist);
  const toFloat = (pixels: Uint8Array) => Float32Array.from(pixels, (v) => v / 255);
  return { name: 'raw_pixels', dim: train.height * train.width, train: toFloat(train.pixels), test: toFloat(test.pixels), trainLabels: train.labels, testLabels: test.labels };
}

function savedSets(): FeatureSet[] {
  const root = path.resolve(values.embeddings);
  const folders = fs.existsSync(root) ? fs.readdirSync(root).filter((name) => fs.existsSync(path.join(root, name, 'meta.json'))) : [];
  if (folders.length === 0) {
    print({ bench: 'fewshot', features: 'simclr', status: 'missing', note: `no saved embeddings under ${root}: run npm run bench:fmnist first; SimCLR results are NOT reported and nothing was substituted` });
  }
  return folders.map((name) => {
    const saved = loadEmbeddings(path.join(root, name));
    return { name: `${saved.meta.features}:${name}`, dim: saved.meta.dim, train: saved.train, test: saved.test, trainLabels: saved.trainLabels, testLabels: saved.testLabels, note: JSON.stringify(saved.meta) };
  });
}

function runFeatureSet(set: FeatureSet): void {
  const started = performance.now();
  if (set.note) print({ bench: 'fewshot', features: set.name, meta: JSON.parse(set.note) });
  const budgets = PER_CLASS.map((k) => k * CLASSES);
  const results: Record<string, Record<number, number[]>> = { random: {}, random_uniform: {}, suggest: {} };
  const suggestMs: number[] = [];
  for (let seed = 0; seed < SEEDS; seed++) {
    for (const k of PER_CLASS) {
      (results.random![k] ??= []).push(testAccuracy(set, stratifiedRandom(set, k, seed)));
      (results.random_uniform![k] ??= []).push(testAccuracy(set, uniformRandom(set, k * CLASSES, seed)));
    }
    const active = activeLearning(set, budgets, seed);
    for (const k of PER_CLASS) {
      const { rows, ms } = active.get(k * CLASSES)!;
      (results.suggest![k] ??= []).push(testAccuracy(set, rows));
      if (k === PER_CLASS.at(-1)) suggestMs.push(ms);
    }
  }
  for (const k of PER_CLASS) {
    const line: Record<string, unknown> = { bench: 'fewshot', features: set.name, labels_per_class: k, labels_total: k * CLASSES, seeds: SEEDS };
    for (const strategy of ['random', 'random_uniform', 'suggest']) line[strategy] = meanStd(results[strategy]![k]!);
    line.suggest_minus_random = Number(((line.suggest as { mean: number }).mean - (line.random as { mean: number }).mean).toFixed(4));
    line.suggest_minus_random_uniform = Number(((line.suggest as { mean: number }).mean - (line.random_uniform as { mean: number }).mean).toFixed(4));
    print(line);
  }

  // Calibration, measured on the 10k test images: the product's temperature (mean confidence on
  // the unlabeled training images = CV accuracy) against plain NLL on out-of-fold logits.
  for (const k of PER_CLASS.filter((n) => n >= 5)) {
    const measured: Record<string, number[]> = {};
    const add = (key: string, value: number) => (measured[key] ??= []).push(value);
    for (let seed = 0; seed < SEEDS; seed++) {
      const rows = stratifiedRandom(set, k, seed);
      const features = gather(set.train, set.dim, rows);
      const labels = rows.map((r) => set.trainLabels[r]!);
      const model = fitLinearProbe(features, set.dim, labels, { classCount: CLASSES, weightDecay: WEIGHT_DECAY });
      const cv = crossValidate(features, set.dim, labels, CLASSES, { weightDecay: WEIGHT_DECAY, maxIterations: 25 })!;
      const isLabeled = new Set(rows);
      const unlabeled = Array.from({ length: set.trainLabels.length }, (_, i) => i).filter((i) => !isLabeled.has(i));
      const matched = temperatureForMeanConfidence(predictLogits(model, gather(set.train, set.dim, unlabeled)), CLASSES, cv.accuracy);
      const temperature = shrinkTemperature(matched, k); // what ProbeService uses
      const nllTemperature = fitTemperature(cv.outOfFoldLogits, CLASSES, labels);
      const logits = predictLogits(model, set.test);
      const ece = (t: number) => expectedCalibrationError(softmaxRows(logits.slice(), CLASSES, t), CLASSES, set.testLabels);
      add('cv_accuracy', cv.accuracy);
      add('test_accuracy', accuracy(logits, CLASSES, set.testLabels));
      add('temperature', temperature);
      add('test_ece_uncalibrated', ece(1));
      add('test_ece_calibrated', ece(temperature));
      add('test_ece_matched_unshrunk', ece(matched));
      add('test_ece_nll_cv', ece(nllTemperature));
    }
    const line: Record<string, unknown> = { bench: 'fewshot:calibration', features: set.name, labels_per_class: k, seeds: SEEDS };
    for (const [key, list] of Object.entries(measured)) line[key] = Number((list.reduce((a, b) => a + b, 0) / list.length).toFixed(4));
    print(line);
  }

  // The PyTorch linear-probe protocol at 10 per class (Adam 500 steps, lr 1e-3, wd 1e-3, no class weights).
  const protocol: number[] = [];
  for (let seed = 0; seed < SEEDS; seed++) {
    const rows = stratifiedRandom(set, 10, seed);
    const model = fitLinearProbe(gather(set.train, set.dim, rows), set.dim, rows.map((r) => set.trainLabels[r]!), {
      classCount: CLASSES, optimizer: 'adam', steps: 500, learningRate: 1e-3, weightDecay: 1e-3, classWeighting: 'none', seed,
    });
    protocol.push(accuracy(predictLogits(model, set.test), CLASSES, set.testLabels));
  }
  print({ bench: 'fewshot:protocol', features: set.name, probe_10_per_class_adam: meanStd(protocol), seeds: SEEDS });
  print({ bench: 'fewshot:time', features: set.name, suggest_rounds_to_max_budget_ms: Math.round(suggestMs.reduce((a, b) => a + b, 0) / suggestMs.length), total_s: Number(((performance.now() - started) / 1000).toFixed(1)) });
}

/** Wall and CPU milliseconds of `work` (the CPU time is less distorted by other processes). */
function timed<T>(work: () => T): { value: T; wallMs: number; cpuMs: number } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = work();
  const used = process.cpuUsage(cpu);
  return { value, wallMs: Math.round(performance.now() - wall), cpuMs: Math.round((used.user + used.system) / 1000) };
}

function retrainTiming(set: FeatureSet): void {
  for (const count of [1000, 2000, 5000]) {
    const rows = stratifiedRandom(set, count / CLASSES, 0);
    const features = gather(set.train, set.dim, rows);
    const labels = rows.map((r) => set.trainLabels[r]!);
    const fit = timed(() => fitLinearProbe(features, set.dim, labels, { classCount: CLASSES, weightDecay: WEIGHT_DECAY }));
    const cv = timed(() => crossValidate(features, set.dim, labels, CLASSES, { weightDecay: WEIGHT_DECAY }));
    print({ bench: 'fewshot:retrain', features: set.name, labels: count, dim: set.dim, fit_wall_ms: fit.wallMs, fit_cpu_ms: fit.cpuMs, iterations: fit.value.iterations, cv_5fold_wall_ms: cv.wallMs, cv_5fold_cpu_ms: cv.cpuMs });
  }
}

if (!values['skip-raw']) {
  const raw = rawPixels();
  retrainTiming(raw);
  runFeatureSet(raw);
}
for (const set of savedSets()) {
  retrainTiming(set);
  runFeatureSet(set);
}
