/**
 * Data-parallel SimCLR training over worker threads, one tfjs backend (wasm or cpu) per thread —
 * tfjs-wasm is single-threaded in Node, so this is how a step uses every core.
 *
 * One step (the coordinator draws the StepPlan: images and views, as the single-thread step):
 *  1. each replica takes a contiguous shard of the batch's images, augments both views of them
 *     and runs f and g: its rows of z;
 *  2. the replicas write their rows of z into shared memory, so each holds the whole batch's
 *     z [2N, D] and the objective (NT-Xent) sees all 2N − 2 negatives; each computes the loss and
 *     dL/dz (a few milliseconds, the same on every replica) and backpropagates its rows of dL/dz;
 *  3. gradients are summed through shared memory, in replica order, so every replica gets the
 *     same bits, and every replica applies the same optimizer update to its own copy of the
 *     weights (measured cheaper than updating one copy and broadcasting it: no extra barrier or
 *     copy, and the update costs ~1 % of a step).
 * Batch norm is synchronised (./kernels/batch-norm-training.ts): statistics over the whole batch,
 * as SimCLR's global BN — per-shard statistics would let the positive pairs, which share a shard,
 * recognise each other by their shard's statistics (Chen et al. 2020, §2.2, "global BN"), and
 * would make the model depend on the thread count. With it, a parallel step computes the
 * single-thread step's loss and gradients (test/ml/parallel-trainer.test.ts), and a run resumes
 * identically with any number of threads.
 *
 * The replicas block on Atomics inside their taped step (./collective.ts); this coordinator only
 * posts a plan and awaits the replies, so its thread stays free for messages (cancel, progress).
 */
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { startWorker } from '../common/worker-thread.ts';
import { applyViews } from './augment.ts';
import type { CheckpointTensor } from './checkpoint.ts';
import { Collective, createCollectiveMemory, type CollectiveMemory } from './collective.ts';
import { setBatchNormSync } from './kernels/batch-norm-training.ts';
import { applyStatisticsUpdates, discardStatisticsUpdates, type StatisticsUpdate } from './layers.ts';
import { lossAndProjectionGradient } from './objective.ts';
import { PROJECTION_DIM } from './projection-head.ts';
import { SimclrTrainer, gatherBatch, type StepPlan, type TrainConfig, type TrainingImages } from './trainer.ts';

/** Shared memory of one pool (plain SharedArrayBuffers: it travels in workerData). */
export interface ParallelMemory {
  collective: CollectiveMemory;
  /** Float32 [2N, projectionDim]: every replica's rows of z. */
  projections: SharedArrayBuffer;
  /** Float32 [replicas, P]: each replica's flattened gradients. */
  gradients: SharedArrayBuffer;
  parameterCount: number;
}

/** The contiguous shard [first, first + count) of N images that replica `rank` of `replicas` computes. */
export function shardOf(n: number, replicas: number, rank: number): { first: number; count: number } {
  const first = Math.floor((n * rank) / replicas);
  return { first, count: Math.floor((n * (rank + 1)) / replicas) - first };
}

/** Allocates the shared memory for a pool training `config` with `replicas` replicas. */
export function createParallelMemory(config: TrainConfig, replicas: number, parameterCount: number): ParallelMemory {
  const projectionDim = config.projectionDim ?? PROJECTION_DIM;
  // The largest exchange is a batch norm's [rows, mean[C], M2[C]] over the widest layer.
  const widest = Math.max(projectionDim, ...(config.widths ?? [512]), 512);
  return {
    collective: createCollectiveMemory(replicas, 1 + 2 * widest),
    projections: new SharedArrayBuffer(2 * config.batchSize * projectionDim * 4),
    gradients: new SharedArrayBuffer(replicas * parameterCount * 4),
    parameterCount,
  };
}

/**
 * One replica of the pool: a full model and optimizer, stepping on its shard in lockstep with the
 * others. Runs in a worker thread (./train-worker.ts) and, in tests, several in one thread
 * cannot (they block on each other): tests start real workers.
 */
export class Replica {
  readonly trainer: SimclrTrainer;
  private readonly collective: Collective;
  private readonly projections: Float32Array;
  private readonly gradients: Float32Array;

  constructor(config: TrainConfig, readonly memory: ParallelMemory, readonly rank: number) {
    this.trainer = new SimclrTrainer(config);
    this.collective = new Collective(memory.collective, rank);
    this.projections = new Float32Array(memory.projections);
    this.gradients = new Float32Array(memory.gradients);
    const count = this.variables().reduce((sum, v) => sum + v.size, 0);
    if (count !== memory.parameterCount) throw new Error(`replica ${rank}: ${count} parameters, the pool expects ${memory.parameterCount}`);
  }

  private variables(): tf.Variable[] {
    return this.trainer.model.parameters(true).filter((p) => p.variable.trainable).map((p) => p.variable);
  }

  /** This replica's part of one step; returns the loss of the whole batch (the same on every replica). */
  step(images: TrainingImages, plan: StepPlan): number {
    const n = plan.indices.length;
    const replicas = this.collective.replicas;
    const { first, count } = shardOf(n, replicas, this.rank);
    const model = this.trainer.model;
    const objective = this.trainer.objective();
    const variables = this.variables();
    const updates: StatisticsUpdate[] = [];
    let loss = Number.NaN;
    setBatchNormSync(this.collective);
    try {
      tf.tidy(() => {
        const batch = gatherBatch(images, plan.indices.subarray(first, first + count)); // [n, S, S, C]
        const views = tf.concat([applyViews(batch, plan.views.slice(first, first + count)), applyViews(batch, plan.views.slice(n + first, n + first + count))], 0) as tf.Tensor4D; // [2n, S, S, C]
        const { grads } = tf.variableGrads(() => {
          const z = model.project(views, updates); // [2n, D]
          const dz = this.exchangeProjections(z, n, first, count, (all) => {
            const result = lossAndProjectionGradient(objective, all);
            loss = result.loss.dataSync()[0]!;
            return result.dz;
          }); // [2n, D] this shard's rows of dL/dz, a constant
          // d/dθ Σ z·dz = (dL/dz)ᵀ dz/dθ: backpropagating the shard's rows of dL/dz.
          return tf.sum(tf.mul(z, dz));
        }, variables);
        this.trainer.optimizer.step(this.sumGradients(grads, variables), plan.learningRate);
      });
      applyStatisticsUpdates(updates);
    } catch (error) {
      discardStatisticsUpdates(updates);
      throw error;
    } finally {
      setBatchNormSync(null);
    }
    return this.trainer.finishStep(loss);
  }

  /**
   * Writes this shard's rows of z (view 1 rows first + i, view 2 rows N + first + i) into shared
   * memory, waits for every replica, and hands the whole z [2N, D] to `gradientOf`; returns this
   * shard's rows of the gradient it gives, as a new constant tensor [2n, D].
   */
  private exchangeProjections(z: tf.Tensor2D, n: number, first: number, count: number, gradientOf: (all: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    const dim = z.shape[1];
    const rows = z.dataSync() as Float32Array; // [2n, D]
    this.projections.set(rows.subarray(0, count * dim), first * dim);
    this.projections.set(rows.subarray(count * dim), (n + first) * dim);
    this.collective.barrier();
    const all = tf.tensor2d(this.projections.slice(0, 2 * n * dim), [2 * n, dim]);
    const dzAll = gradientOf(all).dataSync() as Float32Array; // [2N, D]
    const local = new Float32Array(2 * count * dim);
    local.set(dzAll.subarray(first * dim, (first + count) * dim), 0);
    local.set(dzAll.subarray((n + first) * dim, (n + first + count) * dim), count * dim);
    return tf.tensor2d(local, [2 * count, dim]);
  }

  /** Sums every replica's gradients (in replica order) and returns them by variable name. */
  private sumGradients(grads: tf.NamedTensorMap, variables: tf.Variable[]): tf.NamedTensorMap {
    const total = this.memory.parameterCount;
    const mine = this.gradients.subarray(this.rank * total, (this.rank + 1) * total);
    let offset = 0;
    for (const variable of variables) {
      const gradient = grads[variable.name];
      if (gradient) mine.set(gradient.dataSync() as Float32Array, offset);
      else mine.fill(0, offset, offset + variable.size);
      offset += variable.size;
    }
    this.collective.barrier();
    const replicas = this.collective.replicas;
    const summed: tf.NamedTensorMap = {};
    offset = 0;
    for (const variable of variables) {
      const values = this.gradients.slice(offset, offset + variable.size);
      for (let r = 1; r < replicas; r++) {
        const from = r * total + offset;
        for (let i = 0; i < values.length; i++) values[i]! += this.gradients[from + i]!;
      }
      summed[variable.name] = tf.tensor(values, variable.shape);
      offset += variable.size;
    }
    return summed;
  }
}

/** Messages from a training worker. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'stepped'; loss: number; ms: number }
  | { type: 'state'; tensors: CheckpointTensor[]; optimizerIterations: number }
  | { type: 'loaded' }
  | { type: 'error'; message: string };

/** Messages to a training worker. */
export type WorkerRequest =
  | { type: 'step'; plan: StepPlan }
  | { type: 'state' }
  | { type: 'load'; tensors: CheckpointTensor[]; optimizerIterations: number };

/** What a training worker is started with. */
export interface TrainWorkerData {
  rank: number;
  backend: 'wasm' | 'cpu';
  config: TrainConfig;
  memory: ParallelMemory;
  images: { count: number; sizePx: number; channels: number; pixels: SharedArrayBuffer };
}

export { defaultThreads } from '../common/threads.ts';

/** The pixels in shared memory for worker threads (copied once unless they already are). */
export function sharedPixels(images: TrainingImages): SharedArrayBuffer {
  const { pixels } = images;
  if (pixels.buffer instanceof SharedArrayBuffer && pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength) return pixels.buffer;
  const buffer = new SharedArrayBuffer(pixels.byteLength);
  new Uint8Array(buffer).set(pixels);
  return buffer;
}

interface PoolWorker {
  worker: Worker;
  pending: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void } | null;
}

/**
 * The coordinator's side of a pool: it owns the run's plan (RNG, step count) through a
 * SimclrTrainer whose model and optimizer are kept in sync with the replicas only when needed
 * (checkpoints, the end of training), and drives the replicas one step at a time.
 */
export class ParallelSimclrTrainer {
  /** Milliseconds each replica spent computing in the last step (for the bench and tests). */
  lastStepMs: number[] = [];
  /** Steps each replica has computed. */
  readonly replicaSteps: number[] = [];
  private failure: Error | null = null;

  private constructor(readonly trainer: SimclrTrainer, private readonly workers: PoolWorker[]) {}

  /**
   * Starts `threads` replicas of `trainer`'s run on `backend`, loads the trainer's current state
   * into every one, and resolves when all are ready. Rejects (and stops whatever started) when any
   * cannot start.
   */
  static async start(trainer: SimclrTrainer, images: TrainingImages, threads: number, backend: 'wasm' | 'cpu'): Promise<ParallelSimclrTrainer> {
    const config = trainer.config;
    const parameterCount = trainer.model.parameters(true).filter((p) => p.variable.trainable).reduce((sum, p) => sum + p.variable.size, 0);
    const memory = createParallelMemory({ ...config, batchSize: Math.min(config.batchSize, images.count) }, threads, parameterCount);
    const shared = { count: images.count, sizePx: images.sizePx, channels: images.channels, pixels: sharedPixels(images) };
    const workers: PoolWorker[] = [];
    const pool = new ParallelSimclrTrainer(trainer, workers);
    try {
      for (let rank = 0; rank < threads; rank++) {
        const data: TrainWorkerData = { rank, backend, config, memory, images: shared };
        const worker = startWorker(new URL('./train-worker.ts', import.meta.url), data);
        const entry: PoolWorker = { worker, pending: null };
        workers.push(entry);
        pool.listen(entry, rank);
      }
      await Promise.all(workers.map((entry) => pool.expect(entry, 'ready')));
      await pool.pushState();
      return pool;
    } catch (error) {
      await pool.dispose();
      throw error;
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  private listen(entry: PoolWorker, rank: number): void {
    const fail = (error: Error): void => {
      this.failure ??= error;
      // A replica that is gone leaves the others waiting at a barrier: stop them all.
      for (const other of this.workers) {
        const pending = other.pending;
        other.pending = null;
        pending?.reject(this.failure);
        if (other !== entry) void other.worker.terminate();
      }
    };
    entry.worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'error') return fail(new Error(`training thread ${rank + 1}: ${reply.message}`));
      const pending = entry.pending;
      entry.pending = null;
      pending?.resolve(reply);
    });
    entry.worker.on('error', (error) => fail(new Error(`training thread ${rank + 1} could not run: ${error.message}`)));
    entry.worker.on('exit', (code) => {
      if (!this.disposed) fail(new Error(`training thread ${rank + 1} stopped unexpectedly (exit code ${code})`));
    });
  }

  private disposed = false;

  private expect<T extends WorkerReply['type']>(entry: PoolWorker, type: T): Promise<Extract<WorkerReply, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      entry.pending = {
        resolve: (reply) => (reply.type === type ? resolve(reply as Extract<WorkerReply, { type: T }>) : reject(new Error(`training thread answered ${reply.type}, expected ${type}`))),
        reject,
      };
    });
  }

  private async request<T extends WorkerReply['type']>(entry: PoolWorker, message: WorkerRequest, type: T): Promise<Extract<WorkerReply, { type: T }>> {
    const reply = this.expect(entry, type);
    entry.worker.postMessage(message);
    return reply;
  }

  /** Sends the coordinator's weights, statistics and optimizer state to every replica. */
  async pushState(): Promise<void> {
    const tensors = await this.trainer.state();
    const message: WorkerRequest = { type: 'load', tensors, optimizerIterations: this.trainer.optimizer.iterations };
    await Promise.all(this.workers.map((entry) => this.request(entry, message, 'loaded')));
  }

  /** Copies replica 0's weights, statistics and optimizer state into the coordinator's trainer. */
  async pullState(): Promise<void> {
    const reply = await this.request(this.workers[0]!, { type: 'state' }, 'state');
    this.trainer.loadState(new Map(reply.tensors.map((t) => [t.name, t])), reply.optimizerIterations);
  }

  /** One parallel step on a batch drawn from `images`; returns the loss. */
  async trainStep(images: TrainingImages): Promise<number> {
    const plan = this.trainer.planStep(images);
    const replies = await Promise.all(this.workers.map((entry) => this.request(entry, { type: 'step', plan }, 'stepped')));
    replies.forEach((_, rank) => (this.replicaSteps[rank] = (this.replicaSteps[rank] ?? 0) + 1));
    this.lastStepMs = replies.map((reply) => reply.ms);
    return this.trainer.finishStep(replies[0]!.loss);
  }

  /** Checkpoint of the run (the replicas' state, the coordinator's RNG and step). */
  async save(dir: string): Promise<void> {
    await this.pullState();
    await this.trainer.save(dir);
  }

  /** Stops every replica. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()));
  }
}
