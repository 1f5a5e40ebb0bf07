/**
 * bench:fmnist — embedding quality on Fashion-MNIST (Debian's dataset-fashion-mnist), with the
 * protocol of a PyTorch SimCLR reference run, so numbers compare with it (ResNet-18, 50
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
 *  5. The label-free quality gauge (core/ml/quality-gauge.ts: held-out contrastive top-1,
 *     alignment, uniformity of h) on --gauge-images test images, at the end and at each --eval-at step.
 *  6. When /usr/bin/python3 has torch: the PyTorch CPU reference of the same recipe
 *     (bench/torch-fmnist-reference.py) with the same budget, batch and --torch-threads, run after
 *     this one (--torch after, the default) or at the same time (--torch side-by-side).
 * Differences from the anchor, for CPU speed: images are used at their native 28 px (not padded
 * to 32), and the default encoder is resnet-small. Prints one JSON line per feature set (each with
 * the load average) and saves the SimCLR embeddings (format: bench/lib/fashion-mnist.ts) for
 * bench:fewshot.
 *
 *   npm run bench:fmnist -- [--minutes 60 | --steps N] [--arch resnet-small|resnet18] [--batch 128]
 *                           [--backend auto] [--out .looktwice-tmp/fmnist-embeddings/simclr] [--skip-baselines | --skip-raw-pixels]
 * Recipe (for ablations; the defaults are the product's CPU recipe, core/app/training-plan.ts: τ 0.1):
 *     [--method simclr|simsiam] [--lr X] [--warmup 0.05] [--optimizer adam|sgd|lars] [--temperature 0.1] [--crop-min 0.2]
 *     [--color-strength 0.5] [--jitter-p 0.8] [--blur] [--widths 16,32,64,128] [--blocks 1,1,1,1]
 *     [--size-schedule 16@0.5,22@0.8]  (train at 16 px for the first 50 % of steps, 22 px to 80 %, then 28)
 * Evaluation and records:
 *     [--eval-train 60000] [--eval-test 10000]  (a seeded subset of each split, to save time)
 *     [--eval-at 50,100]  (also evaluate, gauge included, at these steps)
 *     [--gauge-images 512] [--label TEXT] [--record bench/results/FILE.jsonl]  (append every JSON line)
 *     [--threads 1]  (training threads: the data-parallel step of core/ml/parallel-trainer.ts above 1)
 *     [--torch after|side-by-side|skip] [--torch-threads N]  (default: --threads, the same count)
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { accuracy, featureMoments, fitLinearProbe, predictLogits } from '../core/label/linear-probe.ts';
import { DEFAULT_AUGMENT } from '../core/ml/augment.ts';
import { initBackend, parseBackendChoice } from '../core/ml/backend.ts';
import { RESNET_ARCHS, type ResNetArch } from '../core/ml/choices.ts';
import { computeEmbeddings } from '../core/ml/embed.ts';
import { parseMethod } from '../core/ml/methods/index.ts';
import { OPTIMIZERS, type OptimizerName } from '../core/ml/optimizer.ts';
import { heldOutIndices, measureGauge, type GaugeReading } from '../core/ml/quality-gauge.ts';
import { Random } from '../core/common/random.ts';
import { SimclrModel } from '../core/ml/simclr-model.ts';
import { ParallelSimclrTrainer } from '../core/ml/parallel-trainer.ts';
import { SimclrTrainer, defaultTrainConfig, type TrainingImages } from '../core/ml/trainer.ts';
import { DEFAULT_EMBEDDINGS_DIR, FASHION_MNIST_DIR, loadFashionMnist, saveEmbeddings, type FashionMnistSplit } from './lib/fashion-mnist.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    steps: { type: 'string' },
    arch: { type: 'string', default: 'resnet-small' },
    batch: { type: 'string', default: '128' },
    lr: { type: 'string' },
    temperature: { type: 'string', default: '0.1' },
    backend: { type: 'string', default: 'auto' },
    data: { type: 'string', default: FASHION_MNIST_DIR },
    out: { type: 'string', default: path.join(DEFAULT_EMBEDDINGS_DIR, 'simclr') },
    'skip-baselines': { type: 'boolean', default: false },
    'skip-raw-pixels': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '0.05' },
    method: { type: 'string', default: 'simclr' },
    optimizer: { type: 'string', default: 'adam' },
    'crop-min': { type: 'string', default: '0.2' },
    'color-strength': { type: 'string', default: '0.5' },
    'jitter-p': { type: 'string', default: '0.8' },
    blur: { type: 'boolean', default: false },
    widths: { type: 'string' },
    blocks: { type: 'string' },
    'size-schedule': { type: 'string' },
    'eval-train': { type: 'string', default: '60000' },
    'eval-test': { type: 'string', default: '10000' },
    'eval-at': { type: 'string' },
    'gauge-images': { type: 'string', default: '512' },
    label: { type: 'string' },
    record: { type: 'string' },
    torch: { type: 'string', default: 'after' },
    threads: { type: 'string', default: '1' },
    'torch-threads': { type: 'string' },
  },
});

const log = (message: string): void => void process.stderr.write(`[fmnist] ${message}\n`);
/** Prints one JSON line (and appends it to --record). */
const emit = (record: Record<string, unknown>): void => {
  const line = `${JSON.stringify({ bench: 'fmnist', ...(args.label !== undefined ? { label: args.label } : {}), ...record })}\n`;
  process.stdout.write(line);
  if (args.record !== undefined) {
    fs.mkdirSync(path.dirname(args.record), { recursive: true });
    fs.appendFileSync(args.record, line);
  }
};

/** A number flag, refusing what does not parse. */
function numberFlag(name: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${value}`);
  return n;
}

function listFlag(name: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((part) => numberFlag(name, part.trim()));
  if (list.some((n) => !(Number.isInteger(n) && n > 0))) throw new Error(`--${name} must be positive integers separated by commas, got ${value}`);
  return list;
}

/** "16@0.5,22@0.8" → [{ sizePx: 16, until: 0.5 }, { sizePx: 22, until: 0.8 }] (then native size). */
function parseSizeSchedule(value: string | undefined, nativePx: number): Array<{ sizePx: number; until: number }> {
  if (value === undefined) return [];
  return value.split(',').map((part) => {
    const match = /^(\d+)@([\d.]+)$/.exec(part.trim());
    if (!match) throw new Error(`--size-schedule parts are PX@FRACTION (e.g. 16@0.5), got ${part}`);
    const sizePx = Number(match[1]);
    const until = Number(match[2]);
    if (!(sizePx >= 8 && sizePx <= nativePx && until > 0 && until <= 1)) throw new Error(`--size-schedule: ${part} needs 8 ≤ px ≤ ${nativePx} and 0 < fraction ≤ 1`);
    return { sizePx, until };
  });
}

/** The images bilinearly resized to sizePx (progressive resizing trains early steps on smaller views). */
function resizedImages(images: TrainingImages, sizePx: number): TrainingImages {
  if (sizePx === images.sizePx) return images;
  const out = new Uint8Array(images.count * sizePx * sizePx * images.channels);
  const chunk = 4096;
  for (let first = 0; first < images.count; first += chunk) {
    const count = Math.min(chunk, images.count - first);
    const per = images.sizePx * images.sizePx * images.channels;
    const values = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(images.pixels.subarray(first * per, (first + count) * per)), [count, images.sizePx, images.sizePx, images.channels]);
      return tf.clipByValue(tf.round(tf.image.resizeBilinear(x, [sizePx, sizePx], true)), 0, 255).dataSync();
    });
    out.set(Uint8Array.from(values), first * sizePx * sizePx * images.channels);
  }
  return { count: images.count, sizePx, channels: images.channels, pixels: out };
}

/** A seeded subset of a split (the whole split when count ≥ its size), in file order. */
function subsetSplit(split: FashionMnistSplit, count: number, seed: number): FashionMnistSplit {
  if (count >= split.count) return split;
  const chosen = heldOutIndices(split.count, count, seed);
  const per = split.height * split.width;
  const pixels = new Uint8Array(chosen.length * per);
  const labels = new Uint8Array(chosen.length);
  chosen.forEach((index, row) => {
    pixels.set(split.pixels.subarray(index * per, (index + 1) * per), row * per);
    labels[row] = split.labels[index]!;
  });
  return { count: chosen.length, height: split.height, width: split.width, pixels, labels };
}

/** True when /usr/bin/python3 imports torch (Debian's python3-torch). */
function torchAvailable(): boolean {
  const result = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  return result.status === 0;
}

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

/** The PyTorch reference's command line for this run's budget and recipe. */
function torchCommand(batchSize: number, fixedSteps: number | undefined): string[] {
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), 'torch-fmnist-reference.py');
  return [
    script,
    ...(fixedSteps !== undefined ? ['--steps', String(fixedSteps)] : ['--minutes', args.minutes!]),
    '--threads', args['torch-threads'] ?? args.threads!,
    '--batch', String(batchSize),
    '--temperature', args.temperature!,
    '--crop-min', args['crop-min']!,
    '--color-strength', args['color-strength']!,
    '--seed', args.seed!,
    '--method', args.method!,
    '--data', args.data!,
    ...(args.lr !== undefined ? ['--lr', args.lr] : []),
    ...(args['skip-baselines'] ? ['--skip-random-init'] : []),
  ];
}

/** Starts the PyTorch reference; resolves when it exits, each of its JSON lines emitted as they come. */
function runTorchReference(argv: string[]): Promise<void> {
  log(`PyTorch reference: /usr/bin/python3 ${argv.join(' ')}`);
  const child = spawn('/usr/bin/python3', argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (!line) continue;
      try {
        const { bench: _bench, ...record } = JSON.parse(line) as Record<string, unknown>;
        emit({ ...record, run: 'pytorch-reference' });
      } catch {
        log(`PyTorch reference printed a line that is not JSON: ${line}`);
      }
    }
  });
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      if (code !== 0) log(`PyTorch reference exited with code ${code}`);
      resolve();
    });
  });
}

async function main(): Promise<void> {
  const backend = await initBackend(parseBackendChoice(args.backend!));
  log(`backend ${backend.backend} on ${backend.device}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
  const trainSplit = loadFashionMnist('train', args.data);
  const testSplit = loadFashionMnist('test', args.data);
  const trainImages = asTrainingImages(trainSplit);
  const testImages = asTrainingImages(testSplit);
  // The evaluation may use seeded subsets of both splits (time); training always sees all 60k.
  const evalTrain = subsetSplit(trainSplit, numberFlag('eval-train', args['eval-train']), 1);
  const evalTest = subsetSplit(testSplit, numberFlag('eval-test', args['eval-test']), 2);
  const evalTrainImages = asTrainingImages(evalTrain);
  const evalTestImages = asTrainingImages(evalTest);
  const load = (): number => round(os.loadavg()[0]!, 1);
  const common = (): Record<string, unknown> => ({ backend: backend.backend, device: backend.device, load_average: load(), eval_train: evalTrain.count, eval_test: evalTest.count });

  const batchSize = numberFlag('batch', args.batch);
  const fixedSteps = args.steps !== undefined ? numberFlag('steps', args.steps) : undefined;
  const torchMode = args.torch!;
  if (!['after', 'side-by-side', 'skip'].includes(torchMode)) throw new Error(`--torch must be after, side-by-side or skip, got ${torchMode}`);
  const withTorch = torchMode !== 'skip' && torchAvailable();
  if (torchMode !== 'skip' && !withTorch) log('no PyTorch reference: /usr/bin/python3 cannot import torch (Debian: apt-get install python3-torch)');
  // Side by side shares the machine with this run (fair when each gets its own cores); after waits.
  const sideBySide = withTorch && torchMode === 'side-by-side' ? runTorchReference(torchCommand(batchSize, fixedSteps)) : null;

  if (!args['skip-baselines'] && !args['skip-raw-pixels']) {
    const toFloat = (split: FashionMnistSplit) => Float32Array.from(split.pixels, (v) => v / 255);
    evaluate('raw-pixels', toFloat(evalTrain), toFloat(evalTest), trainSplit.height * trainSplit.width, evalTrain, evalTest, common());
  }

  const arch = args.arch as ResNetArch;
  if (!RESNET_ARCHS.includes(arch)) throw new Error(`--arch must be one of ${RESNET_ARCHS.join(', ')}`);
  const optimizer = args.optimizer as OptimizerName;
  if (!OPTIMIZERS.includes(optimizer)) throw new Error(`--optimizer must be one of ${OPTIMIZERS.join(', ')}`);
  const budgetS = numberFlag('minutes', args.minutes) * 60;
  const warmupFraction = numberFlag('warmup', args.warmup);
  const widths = listFlag('widths', args.widths);
  const blocks = listFlag('blocks', args.blocks);
  const sizeSchedule = parseSizeSchedule(args['size-schedule'], trainSplit.height);
  const config = defaultTrainConfig({
    arch,
    sizePx: trainSplit.height,
    channels: 1,
    batchSize,
    steps: fixedSteps ?? 1_000_000,
    temperature: numberFlag('temperature', args.temperature),
    seed: numberFlag('seed', args.seed),
    optimizer,
    method: parseMethod(args.method!),
    ...(args.lr !== undefined ? { learningRate: numberFlag('lr', args.lr) } : {}),
    ...(widths ? { widths } : {}),
    ...(blocks ? { blocks } : {}),
    // The anchor's augmentation for grayscale: random resized crop (area 0.2–1) + flip,
    // brightness/contrast jitter with p = 0.8; --blur turns on Gaussian blur at this small size.
    augment: {
      ...DEFAULT_AUGMENT,
      minCropArea: numberFlag('crop-min', args['crop-min']),
      colorStrength: numberFlag('color-strength', args['color-strength']),
      jitterProbability: numberFlag('jitter-p', args['jitter-p']),
      grayscaleProbability: 0,
      ...(args.blur ? { blurMinSizePx: 0 } : {}),
    },
  });
  if (fixedSteps !== undefined) config.warmupSteps = Math.max(1, Math.round(fixedSteps * warmupFraction));
  const recipe = {
    method: config.method,
    optimizer,
    lr: config.learningRate,
    warmup: warmupFraction,
    temperature: config.temperature,
    crop_min: config.augment.minCropArea,
    color_strength: config.augment.colorStrength,
    jitter_p: config.augment.jitterProbability,
    blur: args.blur,
    widths: widths ?? null,
    blocks: blocks ?? null,
    size_schedule: args['size-schedule'] ?? null,
  };

  // The gauge's held-out images: test images (never trained on), the same views at every reading.
  const gaugeIndices = heldOutIndices(testImages.count, numberFlag('gauge-images', args['gauge-images']), 3);
  const gauge = (model: SimclrModel): Promise<GaugeReading> =>
    measureGauge((views) => model.encoder.forward(views, false), testImages, { indices: gaugeIndices, augment: config.augment, seed: 4 });
  // The same gauge on the raw pixels of the same views: the baseline the product compares with.
  const pixelsGauge = await measureGauge((views) => tf.reshape(views, [views.shape[0], -1]) as tf.Tensor2D, testImages, { indices: gaugeIndices, augment: config.augment, seed: 4 });
  const gaugeRecord = (reading: GaugeReading): Record<string, number> => ({
    gauge_pixels_top1: round(pixelsGauge.top1),
    gauge_top1: round(reading.top1),
    gauge_alignment: round(reading.alignment),
    gauge_uniformity: round(reading.uniformity),
    gauge_images: reading.images,
  });
  const evaluateModel = async (name: string, model: SimclrModel, extra: Record<string, unknown>): Promise<{ train: Float32Array; test: Float32Array; embedS: number }> => {
    const embedStarted = performance.now();
    const train = await computeEmbeddings(model.encoder, evalTrainImages, { normalise: false, batchSize: 256 });
    const test = await computeEmbeddings(model.encoder, evalTestImages, { normalise: false, batchSize: 256 });
    const embedS = (performance.now() - embedStarted) / 1000;
    const reading = await gauge(model);
    evaluate(name, train, test, model.featureDim, evalTrain, evalTest, { ...common(), ...extra, ...gaugeRecord(reading), embed_images_per_s: round((evalTrain.count + evalTest.count) / embedS, 1) });
    return { train, test, embedS };
  };

  if (!args['skip-baselines']) {
    const random = new SimclrModel(config);
    await evaluateModel(`${arch}-random-init`, random, { recipe });
    random.dispose();
  }

  const trainer = new SimclrTrainer(config);
  const threads = numberFlag('threads', args.threads);
  if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be a positive integer, got ${threads}`);
  if (threads > 1 && trainer.method.parameters.length > 0) throw new Error(`--method ${config.method} trains on one thread for now (its predictor is not data-parallel); use --threads 1`);
  if (threads > 1 && backend.backend !== 'wasm' && backend.backend !== 'cpu') throw new Error(`--threads ${threads} needs the wasm or cpu backend, not ${backend.backend}`);
  // With threads > 1, a pool of replicas holds the live weights for the images it was started on
  // (a size-schedule stage restarts it); the trainer's model is brought up to date before evaluating.
  let pool: { images: TrainingImages; trainer: ParallelSimclrTrainer } | null = null;
  const ensurePool = async (images: TrainingImages): Promise<ParallelSimclrTrainer> => {
    if (pool?.images !== images) {
      if (pool) {
        await pool.trainer.pullState();
        await pool.trainer.dispose();
      }
      pool = { images, trainer: await ParallelSimclrTrainer.start(trainer, images, threads, backend.backend as 'wasm' | 'cpu') };
    }
    return pool.trainer;
  };
  const step = async (images: TrainingImages): Promise<number> => (threads === 1 ? trainer.trainStep(images) : (await ensurePool(images)).trainStep(images));
  const syncModel = async (): Promise<void> => {
    if (pool) await pool.trainer.pullState();
  };
  const evalAt = new Set(listFlag('eval-at', args['eval-at']) ?? []);
  const sizes = new Map<number, TrainingImages>([[trainImages.sizePx, trainImages]]);
  const imagesAt = (step: number): TrainingImages => {
    const fraction = step / trainer.config.steps;
    const sizePx = sizeSchedule.find((stage) => fraction < stage.until)?.sizePx ?? trainImages.sizePx;
    if (!sizes.has(sizePx)) {
      log(`resizing the training images to ${sizePx} px for the size schedule`);
      sizes.set(sizePx, resizedImages(trainImages, sizePx));
    }
    return sizes.get(sizePx)!;
  };
  // Start the pool before the clock: the budget's step count is timed on the first steps.
  if (threads > 1) await ensurePool(imagesAt(0));
  const started = performance.now();
  let pausedS = 0; // time spent on intermediate evaluations, not counted as training
  const losses: number[] = [];
  const timingSteps = 3;
  const retimeStep = timingSteps + 10;
  let timedAt = { step: 0, elapsedS: 0 };
  while (true) {
    const elapsedS = (performance.now() - started) / 1000 - pausedS;
    if ((trainer.step === timingSteps || trainer.step === retimeStep) && fixedSteps === undefined) {
      // Size the cosine schedule to the budget now that a step's cost is known; again after ten
      // more steps, because the first steps are slower (kernel set-up, worker warm-up).
      if (trainer.step === timingSteps) timedAt = { step: trainer.step, elapsedS };
      const perStepS = trainer.step === timingSteps ? elapsedS / timingSteps : (elapsedS - timedAt.elapsedS) / (trainer.step - timedAt.step);
      trainer.config.steps = Math.max(trainer.step + 1, trainer.step + Math.floor((budgetS - elapsedS) / perStepS));
      trainer.config.warmupSteps = Math.max(1, Math.round(trainer.config.steps * warmupFraction));
      log(`${perStepS.toFixed(2)} s/step → ${trainer.config.steps} steps in the ${(budgetS / 60).toFixed(0)}-minute budget (${((trainer.config.steps * batchSize) / trainSplit.count).toFixed(2)} epochs)`);
    }
    if (trainer.step >= trainer.config.steps) break;
    if (fixedSteps === undefined && trainer.step > timingSteps && elapsedS >= budgetS) break;
    losses.push(await step(imagesAt(trainer.step)));
    if (trainer.step % 25 === 0) log(`step ${trainer.step}/${trainer.config.steps} loss ${losses.at(-1)!.toFixed(4)} ${((trainer.step * batchSize) / elapsedS).toFixed(1)} img/s; load ${load()}`);
    if (evalAt.has(trainer.step) && trainer.step < trainer.config.steps) {
      const pauseStarted = performance.now();
      await syncModel();
      await evaluateModel(`${arch}-${config.method}-checkpoint`, trainer.model, { recipe, steps: trainer.step, steps_total: trainer.config.steps, batch: batchSize, loss: round(losses.at(-1)!) });
      pausedS += (performance.now() - pauseStarted) / 1000;
    }
  }
  const trainS = (performance.now() - started) / 1000 - pausedS;
  await syncModel();
  if (pool) await (pool as { trainer: ParallelSimclrTrainer }).trainer.dispose();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const { train, test } = await evaluateModel(`${arch}-${config.method}`, trainer.model, {
    recipe,
    steps: trainer.step,
    batch: batchSize,
    epochs: round((trainer.step * batchSize) / trainSplit.count, 3),
    budget_minutes: fixedSteps === undefined ? Number(args.minutes) : null,
    train_s: round(trainS, 1),
    train_images_per_s: round((trainer.step * batchSize) / trainS, 1),
    threads,
    first_loss: round(mean(losses.slice(0, 10))),
    final_loss: round(mean(losses.slice(-10))),
    saved: args.out,
  });
  const dim = trainer.model.featureDim;
  saveEmbeddings(args.out!, {
    meta: { name: path.basename(args.out!), dim, train_count: evalTrain.count, test_count: evalTest.count, features: 'simclr-h', created_at: new Date().toISOString(), arch, steps: trainer.step, batch: batchSize, size_px: trainSplit.height, backend: backend.backend, train_s: round(trainS, 1) },
    train,
    test,
    trainLabels: evalTrain.labels,
    testLabels: evalTest.labels,
  });
  log(`saved embeddings to ${args.out}`);
  trainer.dispose();

  if (sideBySide) await sideBySide;
  else if (withTorch) await runTorchReference(torchCommand(batchSize, fixedSteps));
}

await main();
