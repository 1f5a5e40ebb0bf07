/**
 * SimCLR pretraining loop (Chen et al. 2020, Algorithm 1): for each minibatch of N images, two
 * augmented views each, h = f(x), z = g(h), NT-Xent over the 2N projections, one optimizer step
 * with linear warm-up and cosine decay. Checkpoints (weights, optimizer state, RNG, step) every
 * `checkpointEverySteps` and when stopped; resumes from them exactly; stops at a safe point when
 * its AbortSignal fires; reports step, loss, images/s and ETA. Works on any tfjs backend.
 */
import * as tf from '@tensorflow/tfjs';
import { RateMeter, type ProgressListener } from '../common/progress.ts';
import { augmentBatch, DEFAULT_AUGMENT, type AugmentOptions } from './augment.ts';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointTensor } from './checkpoint.ts';
import { applyStatisticsUpdates, discardStatisticsUpdates, type StatisticsUpdate } from './layers.ts';
import { warmupCosine } from './learning-rate.ts';
import { ntXentLoss } from './nt-xent.ts';
import { Optimizer, type OptimizerName } from './optimizer.ts';
import { Random } from './random.ts';
import { SimclrModel, type ModelConfig } from './simclr-model.ts';

/** Everything that defines a training run (recorded in the runs table and in checkpoints). */
export interface TrainConfig extends ModelConfig {
  batchSize: number;
  /** Total optimizer steps of the run. */
  steps: number;
  temperature: number;
  optimizer: OptimizerName;
  learningRate: number;
  weightDecay: number;
  warmupSteps: number;
  augment: AugmentOptions;
  checkpointEverySteps: number;
}

/** Sensible defaults for a CPU: the small ResNet at 32 px, batch 64, Adam. */
export function defaultTrainConfig(overrides: Partial<TrainConfig> & { epochs?: number; imageCount?: number } = {}): TrainConfig {
  const { epochs, imageCount, ...rest } = overrides;
  const batchSize = rest.batchSize ?? 64;
  const optimizer = rest.optimizer ?? 'adam';
  const steps = rest.steps ?? (epochs !== undefined && imageCount !== undefined ? Math.max(1, Math.ceil((epochs * imageCount) / batchSize)) : 200);
  const learningRate =
    rest.learningRate ??
    (optimizer === 'adam' ? 1e-3 : optimizer === 'lars' ? 0.075 * Math.sqrt(batchSize) : 0.06 * (batchSize / 256) * 4);
  return {
    arch: 'resnet-small',
    sizePx: 32,
    channels: 3,
    seed: 1,
    temperature: 0.5,
    weightDecay: optimizer === 'sgd' ? 5e-4 : 1e-6,
    warmupSteps: Math.max(1, Math.round(steps * 0.05)),
    augment: DEFAULT_AUGMENT,
    checkpointEverySteps: 100,
    ...rest,
    batchSize,
    optimizer,
    steps,
    learningRate,
  };
}

/** The images to train on: uint8 pixels, row-major [count, sizePx, sizePx, channels]. */
export interface TrainingImages {
  count: number;
  sizePx: number;
  channels: number;
  pixels: Uint8Array;
}

export interface TrainStepEvent {
  step: number; // 1-based, steps done
  stepsTotal: number;
  loss: number;
  learningRate: number;
  imagesPerS: number | undefined;
  etaS: number | undefined;
}

export interface TrainResult {
  stepsDone: number;
  finalLoss: number | null;
  /** Source images per second over the whole session (each image counted once, not per view). */
  imagesPerS: number;
  /** True when the AbortSignal stopped the run before `steps`. */
  stopped: boolean;
}

export interface TrainOptions {
  /** Where checkpoints go; without it nothing is saved. */
  checkpointDir?: string;
  /** Continue from the checkpoint in checkpointDir (its config wins over `config`, except `steps`). */
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  onStep?: (event: TrainStepEvent) => void;
  /** Called with the model after training (e.g. to embed), before it is disposed. */
  onFinished?: (model: SimclrModel) => void | Promise<void>;
}

/** Draws `count` distinct indices from [0, n) (Floyd's algorithm). */
function sampleIndices(random: Random, n: number, count: number): Int32Array {
  const chosen = new Set<number>();
  for (let j = n - count; j < n; j++) {
    const t = random.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return Int32Array.from(chosen);
}

/** Copies the chosen images into one float32 tensor in [0, 1]: [B, S, S, C]. */
function gatherBatch(images: TrainingImages, indices: Int32Array): tf.Tensor4D {
  const pixelsPerImage = images.sizePx * images.sizePx * images.channels;
  const values = new Float32Array(indices.length * pixelsPerImage);
  for (let b = 0; b < indices.length; b++) {
    const from = indices[b]! * pixelsPerImage;
    const to = b * pixelsPerImage;
    for (let i = 0; i < pixelsPerImage; i++) values[to + i] = images.pixels[from + i]! / 255;
  }
  return tf.tensor4d(values, [indices.length, images.sizePx, images.sizePx, images.channels]);
}

/** One SimCLR training session (new or resumed). */
export class SimclrTrainer {
  readonly model: SimclrModel;
  readonly optimizer: Optimizer;
  readonly random: Random;
  step = 0;
  lastLoss: number | null = null;

  constructor(readonly config: TrainConfig) {
    this.model = new SimclrModel(config);
    this.optimizer = new Optimizer(this.model.parameters(true), { name: config.optimizer, weightDecay: config.weightDecay });
    this.random = new Random(config.seed);
  }

  /** Restores weights, optimizer state, RNG and step from `dir`. */
  restore(dir: string): void {
    const { meta, tensors } = loadCheckpoint<TrainConfig>(dir);
    this.model.restore(tensors, true);
    for (const { name, variable } of this.optimizer.stateVariables()) {
      const saved = tensors.get(`optimizer/${name}`);
      if (!saved) throw new Error(`checkpoint in ${dir} has no optimizer state ${name}`);
      const value = tf.tensor(saved.values, saved.shape);
      variable.assign(value);
      value.dispose();
    }
    this.optimizer.iterations = meta.optimizerIterations;
    this.random.restore(meta.random);
    this.step = meta.step;
    this.lastLoss = meta.lastLoss;
  }

  /** Saves everything needed to resume into `dir`. */
  async save(dir: string): Promise<void> {
    const optimizerState = await Promise.all(
      this.optimizer.stateVariables().map(async ({ name, variable }) => ({ name: `optimizer/${name}`, shape: variable.shape, values: (await variable.data()) as Float32Array })),
    );
    const tensors: CheckpointTensor[] = [...(await this.model.snapshot(true)), ...optimizerState];
    saveCheckpoint(dir, { step: this.step, config: this.config, random: this.random.snapshot(), optimizerIterations: this.optimizer.iterations, lastLoss: this.lastLoss }, tensors);
  }

  /** One optimizer step on a batch drawn from `images`; returns the loss. */
  async trainStep(images: TrainingImages): Promise<number> {
    const batchSize = Math.min(this.config.batchSize, images.count);
    if (batchSize < 2) throw new Error('SimCLR needs at least 2 images (each batch contrasts an image with the others)');
    const learningRate = warmupCosine(this.step, this.config.steps, this.config.warmupSteps, this.config.learningRate);
    const indices = sampleIndices(this.random, images.count, batchSize);
    const updates: StatisticsUpdate[] = [];
    const variables = this.model.parameters(true).filter((p) => p.variable.trainable).map((p) => p.variable);
    let lossTensor: tf.Scalar;
    try {
      lossTensor = tf.tidy(() => {
        const batch = gatherBatch(images, indices); // [N, S, S, C] in [0, 1]
        const views = tf.concat([augmentBatch(batch, this.random, this.config.augment), augmentBatch(batch, this.random, this.config.augment)], 0) as tf.Tensor4D; // [2N, S, S, C]
        const { value, grads } = tf.variableGrads(() => {
          const h = this.model.encoder.forward(views, true, updates); // [2N, D]
          const z = this.model.head.forward(h, true, updates); // [2N, 128]
          const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
          return ntXentLoss(z1, z2, this.config.temperature);
        }, variables);
        this.optimizer.step(grads, learningRate);
        return value;
      });
      applyStatisticsUpdates(updates);
    } catch (error) {
      discardStatisticsUpdates(updates);
      throw error;
    }
    const loss = (await lossTensor.data())[0]!;
    lossTensor.dispose();
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${this.step + 1} (loss ${loss}); try a lower --lr`);
    this.step += 1;
    this.lastLoss = loss;
    return loss;
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }
}

/**
 * Trains (or resumes) a SimCLR run on `images` until `config.steps` or the signal. The trainer is
 * returned undisposed through `onFinished` only; the caller gets the summary.
 */
export async function trainSimclr(images: TrainingImages, config: TrainConfig, options: TrainOptions = {}): Promise<TrainResult> {
  if (images.sizePx !== config.sizePx || images.channels !== config.channels) {
    throw new Error(`training images are ${images.sizePx} px × ${images.channels} channels, the run expects ${config.sizePx} px × ${config.channels}`);
  }
  let effective = config;
  if (options.resume && options.checkpointDir && hasCheckpoint(options.checkpointDir)) {
    const saved = loadCheckpoint<TrainConfig>(options.checkpointDir).meta.config;
    effective = { ...saved, steps: config.steps };
  }
  const trainer = new SimclrTrainer(effective);
  try {
    if (options.resume && options.checkpointDir && hasCheckpoint(options.checkpointDir)) trainer.restore(options.checkpointDir);
    const startStep = trainer.step;
    const meter = new RateMeter();
    const startedMs = performance.now();
    let stopped = false;
    meter.update(trainer.step, effective.steps);
    while (trainer.step < effective.steps) {
      if (options.signal?.aborted) {
        stopped = true;
        break;
      }
      const loss = await trainer.trainStep(images);
      // On the cpu/wasm backends data() resolves as a microtask, so without this the loop never
      // yields a macrotask turn: no IPC/HTTP message (cancel, stop, any API call) could arrive.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const { ratePerS, etaS } = meter.update(trainer.step, effective.steps);
      const imagesPerS = ratePerS === undefined ? undefined : ratePerS * Math.min(effective.batchSize, images.count);
      options.onStep?.({ step: trainer.step, stepsTotal: effective.steps, loss, learningRate: warmupCosine(trainer.step - 1, effective.steps, effective.warmupSteps, effective.learningRate), imagesPerS, etaS });
      options.onProgress?.({ phase: 'train', done: trainer.step, total: effective.steps, ratePerS: imagesPerS, etaS, message: `loss ${loss.toFixed(4)}` });
      if (options.checkpointDir && effective.checkpointEverySteps > 0 && trainer.step % effective.checkpointEverySteps === 0) await trainer.save(options.checkpointDir);
    }
    if (options.checkpointDir) await trainer.save(options.checkpointDir);
    const elapsedS = (performance.now() - startedMs) / 1000;
    const stepsDone = trainer.step - startStep;
    const result: TrainResult = {
      stepsDone: trainer.step,
      finalLoss: trainer.lastLoss,
      imagesPerS: elapsedS > 0 ? (stepsDone * Math.min(effective.batchSize, images.count)) / elapsedS : 0,
      stopped,
    };
    await options.onFinished?.(trainer.model);
    return result;
  } finally {
    trainer.dispose();
  }
}
