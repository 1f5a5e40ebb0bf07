/**
 * Embedding (inference, h = f(x)) on every core: worker threads (./embed-worker.ts), each with
 * its own tfjs backend and a copy of the encoder's weights, take batches from a shared counter
 * (so a slower core simply takes fewer) and write their rows straight into one shared output.
 * The result equals computeEmbeddings's (the same batches through the same encoder); where
 * workers cannot start, or the backend is not a CPU one, it is computeEmbeddings in this thread.
 */
import * as tf from '@tensorflow/tfjs';
import { RateMeter, throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { startWorker } from '../common/worker-thread.ts';
import type { CheckpointTensor } from './checkpoint.ts';
import { computeEmbeddings } from './embed.ts';
import { defaultThreads, sharedPixels } from './parallel-trainer.ts';
import type { ModelConfig, SimclrModel } from './simclr-model.ts';
import type { TrainingImages } from './trainer.ts';

export interface ParallelEmbedOptions {
  /** Worker threads (default: one per core); 1 = this thread. */
  threads?: number;
  batchSize?: number;
  normalise?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  onBatch?: (first: number, rows: Float32Array) => void;
}

/** What an embedding worker starts with. */
export interface EmbedWorkerData {
  backend: 'wasm' | 'cpu';
  config: ModelConfig;
  encoder: CheckpointTensor[];
  images: { count: number; sizePx: number; channels: number; pixels: SharedArrayBuffer };
  batchSize: number;
  normalise: boolean;
  /** Float32 [count, D]. */
  output: SharedArrayBuffer;
  /** Int32 [next batch, stop flag]. */
  control: SharedArrayBuffer;
}

/** Messages from an embedding worker. */
export type EmbedWorkerReply = { type: 'batch'; first: number; count: number } | { type: 'done' } | { type: 'error'; message: string };

/** Encoder features of every image, Float32Array [count, D], computed by a pool of threads. */
export async function computeEmbeddingsParallel(model: SimclrModel, images: TrainingImages, options: ParallelEmbedOptions = {}): Promise<Float32Array> {
  const batchSize = options.batchSize ?? 128;
  const batches = Math.ceil(images.count / batchSize);
  const threads = Math.min(options.threads ?? defaultThreads(), batches);
  const backend = tf.getBackend();
  const local = (): Promise<Float32Array> => computeEmbeddings(model.encoder, images, options);
  if (threads <= 1 || (backend !== 'wasm' && backend !== 'cpu')) return local();
  const dim = model.featureDim;
  const output = new SharedArrayBuffer(images.count * dim * 4);
  const control = new SharedArrayBuffer(8);
  const data: EmbedWorkerData = {
    backend,
    config: model.config,
    encoder: await model.snapshot(false),
    images: { count: images.count, sizePx: images.sizePx, channels: images.channels, pixels: sharedPixels(images) },
    batchSize,
    normalise: options.normalise ?? true,
    output,
    control,
  };
  const rows = new Float32Array(output);
  const meter = new RateMeter();
  let done = 0;
  const workers: Array<ReturnType<typeof startWorker>> = [];
  const stop = (): void => void Atomics.store(new Int32Array(control), 1, 1);
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    for (let w = 0; w < threads; w++) workers.push(startWorker(new URL('./embed-worker.ts', import.meta.url), data));
    await Promise.all(workers.map((worker, w) => new Promise<void>((resolve, reject) => {
      worker.on('message', (reply: EmbedWorkerReply) => {
        if (reply.type === 'batch') {
          done += reply.count;
          options.onBatch?.(reply.first, rows.subarray(reply.first * dim, (reply.first + reply.count) * dim));
          const { ratePerS, etaS } = meter.update(done, images.count);
          options.onProgress?.({ phase: 'embed', done, total: images.count, ratePerS, etaS });
        } else if (reply.type === 'done') resolve();
        else reject(new Error(`embedding thread ${w + 1}: ${reply.message}`));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`embedding thread ${w + 1} stopped (exit code ${code})`)));
    })));
  } catch (error) {
    stop();
    throwIfCancelled(options.signal);
    if (done > 0) throw error;
    // Nothing computed yet: the threads could not start here; the same answer on this thread.
    return local();
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  throwIfCancelled(options.signal);
  return rows.slice();
}
