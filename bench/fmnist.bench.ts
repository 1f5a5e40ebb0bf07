/**
 * bench:fmnist — embedding quality on Fashion-MNIST (Debian's dataset-fashion-mnist), with the
 * protocol of shared/gpu/README.md so numbers compare with its PyTorch anchor (ResNet-18, 50
 * epochs on an H200: probe_all 90.4 %, probe_10_per_class 76.8 %, knn200 84.7 %; raw pixels
 * 84.2 / 70.9 / 78.9):
 *  1. SimCLR on the 60k training images, labels unused, within a time budget (--minutes, default
 *     60) or a fixed number of steps (--steps); the cosine schedule is sized to the budget after
 *     timing the first steps.
 *  2. h = f(x) for the 60k training and 10k test images (no augmentation).
 *  3. probe_all: features standardised with the training mean/std, a linear layer trained with
 *     Adam (lr 1e-3, wd 1e-5, 6,000 steps of 1,024) on all training labels (core/label/linear-probe.ts);
 *     probe_10_per_class: the same on 10 random training images per class (500 steps, wd 1e-3);
 *     knn200: cosine kNN over the training set, k = 200, votes weighted by exp(sim / 0.1).
 *  4. The same evaluation on raw pixels (the baseline) and on the encoder at random init.
 * Differences from the anchor, for CPU speed: images are used at their native 28 px (not padded
 * to 32), and the default encoder is resnet-small. Prints one JSON line per feature set and
 * saves the SimCLR embeddings (format: bench/lib/fashion-mnist.ts) for bench:fewshot.
 *
 *   npm run bench:fmnist -- [--minutes 60 | --steps N] [--arch resnet-small|resnet18] [--batch 128]
 *                           [--backend auto] [--out .looktwice-tmp/fmnist-embeddings/simclr] [--skip-baselines | --skip-raw-pixels]
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { accuracy, featureMoments, fitLinearProbe, predictLogits } from '../core/label/linear-probe.ts';
import { DEFAULT_AUGMENT } from '../core/ml/augment.ts';
import { initBackend, parseBackendChoice } from '../core/ml/backend.ts';
import { RESNET_ARCHS, type ResNetArch } from '../core/ml/choices.ts';
import { computeEmbeddings } from '../core/ml/embed.ts';
import { Random } from '../core/ml/random.ts';
import { SimclrModel } from '../core/ml/simclr-model.ts';
import { SimclrTrainer, defaultTrainConfig, type TrainingImages } from '../core/ml/trainer.ts';
import { DEFAULT_EMBEDDINGS_DIR, FASHION_MNIST_DIR, loadFashionMnist, saveEmbeddings, type FashionMnistSplit } from './lib/fashion-mnist.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    steps: { type: 'string' },
    arch: { type: 'string', default: 'resnet-small' },
    batch: { type: 'string', default: '128' },
    lr: { type: 'string' },
    temperature: { type: 'string', default: '0.5' },
    backend: { type: 'string', default: 'auto' },
    data: { type: 'string', default: FASHION_MNIST_DIR },
    out: { type: 'string', default: path.join(DEFAULT_EMBEDDINGS_DIR, 'simclr') },
    'skip-baselines': { type: 'boolean', default: false },
    'skip-raw-pixels': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
  },
});

const log = (message: string): void => void process.stderr.write(`[fmnist] ${message}\n`);
const emit = (record: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ bench: 'fmnist', ...record })}\n`);

function asTrainingImages(split: FashionMnistSplit): TrainingImages {
  return { count: split.count, sizePx: split.height, channels: 1, pixels: split.pixels };
}

/** Standardises train and test with the training mean/std (the protocol), in place on copies. */
function standardise(train: Float32Array, test: Float32Array, dim: number): { train: Float32Array; test: Float32Array } {
  const { mean, std } = featureMoments(train, dim);
  const apply = (m: Float32Array): Float32Array => {
    const out = new Float32Array(m.length);
    for (let i = 0; i < m.length; i++) out[i] = (m[i]! - mean[i % dim]!) / std[i % dim]!;
    return out;
  };
  return { train: apply(train), test: apply(test) };
}

/** Cosine kNN (k = 200, votes weighted by exp(sim/0.1)), as in the anchor and Wu et al. 2018. */
function knn200(train: Float32Array, trainLabels: Uint8Array, test: Float32Array, testLabels: Uint8Array, dim: number, k = 200, classes = 10): number {
  return tf.tidy(() => {
    const normalise = (m: Float32Array, rows: number) => tf.tidy(() => {
      const t = tf.tensor2d(m, [rows, dim]);
      return tf.div(t, tf.maximum(tf.norm(t, 'euclidean', 1, true), 1e-12));
    });
    const reference = normalise(train, trainLabels.length); // [Ntrain, D]
    let correct = 0;
    const chunk = 500;
    for (let first = 0; first < testLabels.length; first += chunk) {
      const rows = Math.min(chunk, testLabels.length - first);
      const { values, indices } = tf.tidy(() => {
        const query = normalise(test.subarray(first * dim, (first + rows) * dim), rows);
        return tf.topk(tf.matMul(query, reference, false, true), k); // [rows, k]
      });
      const sims = values.dataSync();
      const neighbours = indices.dataSync();
      values.dispose();
      indices.dispose();
      for (let r = 0; r < rows; r++) {
        const votes = new Float64Array(classes);
        for (let j = 0; j < k; j++) votes[trainLabels[neighbours[r * k + j]!]!]! += Math.exp(sims[r * k + j]! / 0.1);
        let best = 0;
        for (let c = 1; c < classes; c++) if (votes[c]! > votes[best]!) best = c;
        if (best === testLabels[first + r]) correct += 1;
      }
    }
    return correct / testLabels.length;
  });
}

/** probe_all, probe_10_per_class and knn200 for one feature set. */
function evaluate(name: string, train: Float32Array, test: Float32Array, dim: number, trainSplit: FashionMnistSplit, testSplit: FashionMnistSplit, extra: Record<string, unknown>): void {
  const started = performance.now();
  const standardised = standardise(train, test, dim);
  const probe = (features: Float32Array, labels: ArrayLike<number>, steps: number, weightDecay: number): number => {
    const model = fitLinearProbe(features, dim, labels, { optimizer: 'adam', steps, batchSize: 1024, learningRate: 1e-3, weightDecay, standardize: false, classWeighting: 'none', classCount: 10, seed: 0 });
    return accuracy(predictLogits(model, standardised.test), 10, testSplit.labels);
  };
  const probeAll = probe(standardised.train, trainSplit.labels, 6000, 1e-5);
  // 10 random training images per class (seeded).
  const random = new Random(2024);
  const order = random.permutation(trainSplit.count);
  const perClass = new Map<number, number[]>();
  for (const i of order) {
    const label = trainSplit.labels[i]!;
    const list = perClass.get(label) ?? [];
    if (list.length < 10) list.push(i);
    perClass.set(label, list);
  }
  const chosen = [...perClass.values()].flat();
  const fewFeatures = new Float32Array(chosen.length * dim);
  chosen.forEach((index, row) => fewFeatures.set(standardised.train.subarray(index * dim, (index + 1) * dim), row * dim));
  const probe10 = probe(fewFeatures, chosen.map((i) => trainSplit.labels[i]!), 500, 1e-3);
  const knn = knn200(train, trainSplit.labels, test, testSplit.labels, dim);
  emit({ features: name, dim, probe_all: round(probeAll), probe_10_per_class: round(probe10), knn200: round(knn), eval_s: round((performance.now() - started) / 1000, 1), ...extra });
}

function round(x: number, digits = 4): number {
  return Number(x.toFixed(digits));
}

async function main(): Promise<void> {
  const backend = await initBackend(parseBackendChoice(args.backend!));
  log(`backend ${backend.backend} on ${backend.device}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
  const trainSplit = loadFashionMnist('train', args.data);
  const testSplit = loadFashionMnist('test', args.data);
  const trainImages = asTrainingImages(trainSplit);
  const testImages = asTrainingImages(testSplit);
  const common = { backend: backend.backend, device: backend.device, load_average: round(os.loadavg()[0]!, 1) };

  if (!args['skip-baselines'] && !args['skip-raw-pixels']) {
    const toFloat = (split: FashionMnistSplit) => Float32Array.from(split.pixels, (v) => v / 255);
    evaluate('raw-pixels', toFloat(trainSplit), toFloat(testSplit), trainSplit.height * trainSplit.width, trainSplit, testSplit, common);
  }

  const arch = args.arch as ResNetArch;
  if (!RESNET_ARCHS.includes(arch)) throw new Error(`--arch must be one of ${RESNET_ARCHS.join(', ')}`);
  const batchSize = Number(args.batch);
  const budgetS = Number(args.minutes) * 60;
  const fixedSteps = args.steps !== undefined ? Number(args.steps) : undefined;
  const config = defaultTrainConfig({
    arch,
    sizePx: trainSplit.height,
    channels: 1,
    batchSize,
    steps: fixedSteps ?? 1_000_000,
    temperature: Number(args.temperature),
    seed: Number(args.seed),
    optimizer: 'adam',
    ...(args.lr !== undefined ? { learningRate: Number(args.lr) } : {}),
    // The anchor's augmentation for grayscale: random resized crop (area 0.2–1) + flip,
    // brightness/contrast jitter with p = 0.8.
    augment: { ...DEFAULT_AUGMENT, minCropArea: 0.2, colorStrength: 0.5, grayscaleProbability: 0 },
  });

  if (!args['skip-baselines']) {
    const random = new SimclrModel(config, { withHead: false });
    const embedStarted = performance.now();
    const train = await computeEmbeddings(random.encoder, trainImages, { normalise: false, batchSize: 256 });
    const test = await computeEmbeddings(random.encoder, testImages, { normalise: false, batchSize: 256 });
    const embedS = (performance.now() - embedStarted) / 1000;
    evaluate(`${arch}-random-init`, train, test, random.featureDim, trainSplit, testSplit, { ...common, embed_images_per_s: round(70000 / embedS, 1) });
    random.encoder.dispose();
  }

  const trainer = new SimclrTrainer(config);
  const started = performance.now();
  const losses: number[] = [];
  const timingSteps = 3;
  while (true) {
    const elapsedS = (performance.now() - started) / 1000;
    if (trainer.step === timingSteps && fixedSteps === undefined) {
      // Size the cosine schedule to the budget now that a step's cost is known.
      const perStepS = elapsedS / timingSteps;
      trainer.config.steps = Math.max(timingSteps + 1, Math.floor(budgetS / perStepS));
      trainer.config.warmupSteps = Math.max(1, Math.round(trainer.config.steps * 0.05));
      log(`${perStepS.toFixed(2)} s/step → ${trainer.config.steps} steps in the ${(budgetS / 60).toFixed(0)}-minute budget (${((trainer.config.steps * batchSize) / trainSplit.count).toFixed(2)} epochs)`);
    }
    if (trainer.step >= trainer.config.steps) break;
    if (fixedSteps === undefined && trainer.step > timingSteps && elapsedS >= budgetS) break;
    losses.push(await trainer.trainStep(trainImages));
    if (trainer.step % 25 === 0) log(`step ${trainer.step}/${trainer.config.steps} loss ${losses.at(-1)!.toFixed(4)} ${((trainer.step * batchSize) / elapsedS).toFixed(1)} img/s`);
  }
  const trainS = (performance.now() - started) / 1000;
  const embedStarted = performance.now();
  const train = await computeEmbeddings(trainer.model.encoder, trainImages, { normalise: false, batchSize: 256 });
  const test = await computeEmbeddings(trainer.model.encoder, testImages, { normalise: false, batchSize: 256 });
  const embedS = (performance.now() - embedStarted) / 1000;
  const dim = trainer.model.featureDim;
  saveEmbeddings(args.out!, {
    meta: { name: path.basename(args.out!), dim, train_count: trainSplit.count, test_count: testSplit.count, features: 'simclr-h', created_at: new Date().toISOString(), arch, steps: trainer.step, batch: batchSize, size_px: trainSplit.height, backend: backend.backend, train_s: round(trainS, 1) },
    train,
    test,
    trainLabels: trainSplit.labels,
    testLabels: testSplit.labels,
  });
  log(`saved embeddings to ${args.out}`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  evaluate(`${arch}-simclr`, train, test, dim, trainSplit, testSplit, {
    ...common,
    steps: trainer.step,
    batch: batchSize,
    epochs: round((trainer.step * batchSize) / trainSplit.count, 3),
    budget_minutes: fixedSteps === undefined ? Number(args.minutes) : null,
    train_s: round(trainS, 1),
    train_images_per_s: round((trainer.step * batchSize) / trainS, 1),
    first_loss: round(mean(losses.slice(0, 10))),
    final_loss: round(mean(losses.slice(-10))),
    embed_images_per_s: round(70000 / embedS, 1),
    saved: args.out,
  });
  trainer.dispose();
}

await main();
