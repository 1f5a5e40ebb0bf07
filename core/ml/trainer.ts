/**
 * SimCLR pretraining loop (Chen et al. 2020, Algorithm 1): for each minibatch of N images, two
 * augmented views each, h = f(x), z = g(h), NT-Xent over the 2N projections, one optimizer step
 * with linear warm-up and cosine decay. Checkpoints (weights, optimizer state, RNG, step) every
 * `checkpointEverySteps` and when stopped; resumes from them exactly; stops at a safe point when
 * its AbortSignal fires; reports step, loss, images/s and ETA. Works on any tfjs backend.
 * The loss is the run's method (config.method, ./methods): SimCLR's NT-Xent by default, or SimSiam.
 */
import * as tf from '@tensorflow/tfjs';
import { RateMeter, type ProgressListener } from '../common/progress.ts';
import { applyViews, DEFAULT_AUGMENT, drawViews, type AugmentOptions, type ViewParameters } from './augment.ts';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointTensor } from './checkpoint.ts';
import { applyStatisticsUpdates, discardStatisticsUpdates, type StatisticsUpdate } from './layers.ts';
import { warmupCosine } from './learning-rate.ts';
import { ntXentObjective, type ProjectionObjective } from './objective.ts';
import { Optimizer, type OptimizerName } from './optimizer.ts';
import { Random } from '../common/random.ts';
import { SimclrModel, type ModelConfig } from './simclr-model.ts';
import { createMethod, type MethodName, type TrainingMethod } from './methods/index.ts';
import { PROJECTION_DIM } from './projection-head.ts';
import { TrainingGauge, type TrainingGaugeEvent, type TrainingGaugeOptions } from './training-gauge.ts';

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
  /** The self-supervised method (./methods); absent in runs from before there was a choice = 'simclr'. */
  method?: MethodName;
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
  /** The newest gauge reading taken since the previous event (with options.gauge), if any. */
  gauge?: TrainingGaugeEvent;
}

export interface TrainResult {
  stepsDone: number;
  finalLoss: number | null;
  /** Source images per second over the whole session (each image counted once, not per view). */
  imagesPerS: number;
  /** True when the AbortSignal stopped the run before `steps`. */
  stopped: boolean;
  /** Replicas that computed each step (1 = this thread). */
  threads: number;
  /** Why fewer threads than asked for were used (e.g. worker threads could not start), or null. */
  threadsNote: string | null;
  /** The quality gauge's readings of this session (empty without options.gauge or on a tiny library). */
  gauge: TrainingGaugeEvent[];
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
  /**
   * Worker threads computing each step in data parallel (default: one per core). 1, a backend
   * that is not a CPU one (tensorflow, webgpu), or workers that cannot start: this thread alone.
   */
  threads?: number;
  /**
   * Read the label-free quality gauge (./training-gauge.ts) every few steps on images held out of
   * training; each reading goes to `onGauge` and into the result.
   */
  gauge?: TrainingGaugeOptions;
  onGauge?: (event: TrainingGaugeEvent) => void;
}

/**
 * Everything random about one step, drawn in a fixed order from the run's Random: the batch's
 * images, then view 1 of each, then view 2 of each. Plain data, so a parallel step can hand each
 * replica its shard; both kinds of step therefore see the same views and resume identically.
 */
export interface StepPlan {
  /** [N] indices of the batch's images. */
  indices: Int32Array;
  /** [2N] view parameters: view 1 of each image in batch order, then view 2. */
  views: ViewParameters[];
  learningRate: number;
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
export function gatherBatch(images: TrainingImages, indices: Int32Array): tf.Tensor4D {
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
  /** The loss and any parameters of its own (SimSiam's predictor), trained and checkpointed with the model. */
  readonly method: TrainingMethod;
  step = 0;
  lastLoss: number | null = null;

  constructor(readonly config: TrainConfig) {
    this.model = new SimclrModel(config);
    // Its own seed stream, so the encoder's initial weights do not depend on the method.
    this.method = createMethod(config.method ?? 'simclr', { projectionDim: config.projectionDim ?? PROJECTION_DIM, temperature: config.temperature, random: new Random(config.seed ^ 0x3e7d) });
    this.optimizer = new Optimizer([...this.model.parameters(true), ...this.method.parameters], { name: config.optimizer, weightDecay: config.weightDecay });
    this.random = new Random(config.seed);
  }

  /** Restores weights, optimizer state, RNG and step from `dir`. */
  restore(dir: string): void {
    const { meta, tensors } = loadCheckpoint<TrainConfig>(dir);
    try {
      this.loadState(tensors, meta.optimizerIterations);
    } catch (error) {
      throw new Error(`checkpoint in ${dir}: ${(error as Error).message}`);
    }
    this.random.restore(meta.random);
    this.step = meta.step;
    this.lastLoss = meta.lastLoss;
  }

  /** Saves everything needed to resume into `dir`. */
  async save(dir: string): Promise<void> {
    const tensors = await this.state();
    saveCheckpoint(dir, { step: this.step, config: this.config, random: this.random.snapshot(), optimizerIterations: this.optimizer.iterations, lastLoss: this.lastLoss }, tensors);
  }

  /** Draws the next step's batch and views (advances the RNG) and its learning rate. */
  planStep(images: TrainingImages): StepPlan {
    const batchSize = Math.min(this.config.batchSize, images.count);
    if (batchSize < 2) throw new Error('SimCLR needs at least 2 images (each batch contrasts an image with the others)');
    const learningRate = warmupCosine(this.step, this.config.steps, this.config.warmupSteps, this.config.learningRate);
    const indices = sampleIndices(this.random, images.count, batchSize);
    const view1 = drawViews(this.random, batchSize, images.sizePx, images.channels, this.config.augment);
    const view2 = drawViews(this.random, batchSize, images.sizePx, images.channels, this.config.augment);
    return { indices, views: [...view1, ...view2], learningRate };
  }

  /** The objective on the gathered projections of a batch (one place for both kinds of step). */
  objective(): ProjectionObjective {
    if (this.method.name === 'simclr') return ntXentObjective(this.config.temperature);
    return { loss: (z) => this.method.loss(z) };
  }

  /** One optimizer step on a batch drawn from `images`, in this thread; returns the loss. */
  async trainStep(images: TrainingImages): Promise<number> {
    const plan = this.planStep(images);
    const n = plan.indices.length;
    const updates: StatisticsUpdate[] = [];
    const variables = [...this.model.parameters(true), ...this.method.parameters].filter((p) => p.variable.trainable).map((p) => p.variable);
    const objective = this.objective();
    let lossTensor: tf.Scalar;
    try {
      lossTensor = tf.tidy(() => {
        const batch = gatherBatch(images, plan.indices); // [N, S, S, C] in [0, 1]
        const views = tf.concat([applyViews(batch, plan.views.slice(0, n)), applyViews(batch, plan.views.slice(n))], 0) as tf.Tensor4D; // [2N, S, S, C]
        const { value, grads } = tf.variableGrads(() => objective.loss(this.model.project(views, updates)), variables);
        this.optimizer.step(grads, plan.learningRate);
        return value;
      });
      applyStatisticsUpdates(updates);
    } catch (error) {
      discardStatisticsUpdates(updates);
      throw error;
    }
    const loss = (await lossTensor.data())[0]!;
    lossTensor.dispose();
    return this.finishStep(loss);
  }

  /** Records a finished step's loss (refusing a diverged one); returns it. */
  finishStep(loss: number): number {
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${this.step + 1} (loss ${loss}); try a lower --lr`);
    this.step += 1;
    this.lastLoss = loss;
    return loss;
  }

  /** Weights, batch-norm statistics and optimizer state, named as in checkpoints. */
  async state(): Promise<CheckpointTensor[]> {
    const optimizerState = await Promise.all(
      this.optimizer.stateVariables().map(async ({ name, variable }) => ({ name: `optimizer/${name}`, shape: variable.shape, values: (await variable.data()) as Float32Array })),
    );
    const methodState = await Promise.all(this.method.parameters.map(async (p) => ({ name: p.name, shape: p.variable.shape, values: (await p.variable.data()) as Float32Array })));
    return [...(await this.model.snapshot(true)), ...methodState, ...optimizerState];
  }

  /** Loads what `state` returned (throws naming a missing or mis-shaped tensor). */
  loadState(tensors: Map<string, CheckpointTensor>, optimizerIterations: number): void {
    this.model.restore(tensors, true);
    for (const p of this.method.parameters) {
      const saved = tensors.get(p.name);
      if (!saved) throw new Error(`the saved state has no ${this.method.name} tensor ${p.name}`);
      const value = tf.tensor(saved.values, saved.shape);
      p.variable.assign(value);
      value.dispose();
    }
    for (const { name, variable } of this.optimizer.stateVariables()) {
      const saved = tensors.get(`optimizer/${name}`);
      if (!saved) throw new Error(`the saved state has no optimizer state ${name}`);
      const value = tf.tensor(saved.values, saved.shape);
      variable.assign(value);
      value.dispose();
    }
    this.optimizer.iterations = optimizerIterations;
  }

  dispose(): void {
    this.model.dispose();
    this.method.dispose();
    this.optimizer.dispose();
  }
}

/** How the steps of a run are computed: in this thread, or by a pool of worker threads. */
interface Stepper {
  trainStep(images: TrainingImages): Promise<number>;
  save(dir: string): Promise<void>;
  /** Brings the trainer's model up to date (the pool's replicas hold the live weights). */
  finish(): Promise<void>;
  dispose(): Promise<void>;
  threads: number;
  note: string | null;
}

const CPU_BACKENDS = ['wasm', 'cpu'] as const;

/**
 * The stepper for `trainer`: a data-parallel pool when more than one thread is asked for (default:
 * one per core) on a CPU backend, else this thread — with a note saying why when it was asked for
 * and could not be had.
 */
async function openStepper(trainer: SimclrTrainer, images: TrainingImages, requested: number | undefined): Promise<Stepper> {
  const local = (note: string | null): Stepper => ({
    trainStep: (batch) => trainer.trainStep(batch),
    save: (dir) => trainer.save(dir),
    finish: async () => {},
    dispose: async () => {},
    threads: 1,
    note,
  });
  const { ParallelSimclrTrainer, defaultThreads } = await import('./parallel-trainer.ts');
  if (requested !== undefined && !(Number.isInteger(requested) && requested >= 1)) throw new Error(`threads must be a positive integer, got ${requested}`);
  const threads = Math.min(requested ?? defaultThreads(), Math.min(trainer.config.batchSize, images.count));
  if (threads <= 1) return local(null);
  // The pool backpropagates dL/dz per shard; a method's own parameters (SimSiam's predictor) sit
  // after z and would get no gradient there, so such a method trains on this thread.
  if (trainer.method.parameters.length > 0) return local(`${trainer.method.name} trains on one thread (its predictor is not data-parallel yet)`);
  const backend = tf.getBackend();
  if (!(CPU_BACKENDS as readonly string[]).includes(backend)) return local(requested !== undefined ? `the ${backend} backend computes on its own threads` : null);
  try {
    const pool = await ParallelSimclrTrainer.start(trainer, images, threads, backend as (typeof CPU_BACKENDS)[number]);
    return {
      trainStep: (batch) => pool.trainStep(batch),
      save: (dir) => pool.save(dir),
      finish: () => pool.pullState(),
      dispose: () => pool.dispose(),
      threads: pool.threads,
      note: null,
    };
  } catch (error) {
    return local(`worker threads could not start (${(error as Error).message.split('\n')[0]}), so training runs on one thread`);
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
  // With the gauge on, its held-out images (chosen from the library size alone, so a resumed run
  // holds out the same ones) are never trained on.
  const split = options.gauge ? TrainingGauge.split(images, effective.augment, options.gauge) : null;
  const gauge = split?.gauge ?? null;
  images = split?.train ?? images;
  const trainer = new SimclrTrainer(effective);
  let stepper: Stepper | null = null;
  try {
    if (options.resume && options.checkpointDir && hasCheckpoint(options.checkpointDir)) trainer.restore(options.checkpointDir);
    stepper = await openStepper(trainer, images, options.threads);
    let unsent: TrainingGaugeEvent | undefined; // goes with the next step event
    const readGauge = async (): Promise<void> => {
      if (!gauge || !stepper) return;
      await stepper.finish(); // the coordinator's model up to date with the replicas'
      unsent = await gauge.read(trainer.model, trainer.step);
      options.onGauge?.(unsent);
    };
    await readGauge();
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
      const loss = await stepper.trainStep(images);
      // On the cpu/wasm backends data() resolves as a microtask, so without this the loop never
      // yields a macrotask turn: no IPC/HTTP message (cancel, stop, any API call) could arrive.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const { ratePerS, etaS } = meter.update(trainer.step, effective.steps);
      const imagesPerS = ratePerS === undefined ? undefined : ratePerS * Math.min(effective.batchSize, images.count);
      if (gauge?.due(trainer.step, effective.steps)) await readGauge();
      const event: TrainStepEvent = { step: trainer.step, stepsTotal: effective.steps, loss, learningRate: warmupCosine(trainer.step - 1, effective.steps, effective.warmupSteps, effective.learningRate), imagesPerS, etaS };
      if (unsent) event.gauge = unsent;
      unsent = undefined;
      options.onStep?.(event);
      options.onProgress?.({ phase: 'train', done: trainer.step, total: effective.steps, ratePerS: imagesPerS, etaS, message: `loss ${loss.toFixed(4)}` });
      if (options.checkpointDir && effective.checkpointEverySteps > 0 && trainer.step % effective.checkpointEverySteps === 0) await stepper.save(options.checkpointDir);
    }
    if (gauge && stopped && gauge.history.at(-1)?.step !== trainer.step) await readGauge();
    if (options.checkpointDir) await stepper.save(options.checkpointDir);
    await stepper.finish();
    const elapsedS = (performance.now() - startedMs) / 1000;
    const stepsDone = trainer.step - startStep;
    const result: TrainResult = {
      stepsDone: trainer.step,
      finalLoss: trainer.lastLoss,
      imagesPerS: elapsedS > 0 ? (stepsDone * Math.min(effective.batchSize, images.count)) / elapsedS : 0,
      stopped,
      threads: stepper.threads,
      threadsNote: stepper.note,
      gauge: gauge?.history ?? [],
    };
    await options.onFinished?.(trainer.model);
    return result;
  } finally {
    await stepper?.dispose();
    trainer.dispose();
  }
}
