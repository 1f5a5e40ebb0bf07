/**
 * Embeddings: h = f(x) of the trained encoder for every image, without augmentation (the cached
 * training-resolution image: short side resized, centre square), L2-normalised float32, stored per
 * (image, run). Incremental — only images without an embedding for the run are computed — and
 * written batch by batch, so a cancelled run keeps what it finished.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { RateMeter, throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import type { Library } from '../store/db.ts';
import { EmbeddingsRepository } from '../store/embeddings.repository.ts';
import { RunsRepository, type RunRow } from '../store/runs.repository.ts';
import { TrainingImagesRepository } from '../store/training-images.repository.ts';
import { initBackend, type BackendChoice, type BackendInfo } from './backend.ts';
import { hasCheckpoint, loadCheckpoint } from './checkpoint.ts';
import type { ResNet } from './resnet.ts';
import { SimclrModel } from './simclr-model.ts';
import { loadTrainingImages } from './training-cache.ts';
import type { TrainConfig, TrainingImages } from './trainer.ts';

/** [B, D] → rows scaled to unit length. */
export function l2Normalise(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-12))) as tf.Tensor2D);
}

/** h of images [first, first + count) as one tensor [count, D] (L2-normalised unless `normalise` is false). */
export function embedBatch(encoder: ResNet, images: TrainingImages, first: number, count: number, normalise = true): tf.Tensor2D {
  const pixelsPerImage = images.sizePx * images.sizePx * images.channels;
  return tf.tidy(() => {
    const pixels = images.pixels.subarray(first * pixelsPerImage, (first + count) * pixelsPerImage);
    const unit = tf.div(tf.tensor4d(Float32Array.from(pixels), [count, images.sizePx, images.sizePx, images.channels]), 255);
    // An imported encoder expects its own normalisation (e.g. ImageNet's mean/std), per channel.
    const norm = encoder.config.normalisation;
    const x = (norm ? tf.div(tf.sub(unit, tf.tensor1d(norm.mean)), tf.tensor1d(norm.std)) : tf.sub(unit, 0.5)) as tf.Tensor4D;
    const h = encoder.forward(x, false); // [count, D]
    return normalise ? l2Normalise(h) : h;
  });
}

/**
 * Encoder features of `images` (first `count` of them) in batches: Float32Array [count, D].
 * `onBatch` sees each finished batch (first index, rows) so callers can store it right away.
 */
export async function computeEmbeddings(
  encoder: ResNet,
  images: TrainingImages,
  options: { batchSize?: number; normalise?: boolean; signal?: AbortSignal; onProgress?: ProgressListener; onBatch?: (first: number, rows: Float32Array) => void } = {},
): Promise<Float32Array> {
  const batchSize = options.batchSize ?? 128;
  const dim = encoder.featureDim;
  const out = new Float32Array(images.count * dim);
  const meter = new RateMeter();
  for (let first = 0; first < images.count; first += batchSize) {
    throwIfCancelled(options.signal);
    const count = Math.min(batchSize, images.count - first);
    const features = embedBatch(encoder, images, first, count, options.normalise !== false);
    const rows = (await features.data()) as Float32Array;
    features.dispose();
    // Give queued messages (cancel, API calls) a turn: on cpu/wasm data() resolves as a microtask.
    await new Promise<void>((resolve) => setImmediate(resolve));
    out.set(rows, first * dim);
    options.onBatch?.(first, rows);
    const done = first + count;
    const { ratePerS, etaS } = meter.update(done, images.count);
    options.onProgress?.({ phase: 'embed', done, total: images.count, ratePerS, etaS });
  }
  return out;
}

/** Loads the encoder of a run from its checkpoint. */
export function loadEncoder(library: Library, run: RunRow): SimclrModel {
  if (!run.checkpointPath) throw new Error(`run ${run.id} has no checkpoint (it was never saved); train again`);
  const dir = path.join(library.dataDir, ...run.checkpointPath.split('/'));
  if (!hasCheckpoint(dir)) throw new Error(`the checkpoint of run ${run.id} is missing at ${dir}`);
  const { meta, tensors } = loadCheckpoint<TrainConfig>(dir);
  const model = new SimclrModel(meta.config);
  model.restore(tensors, false);
  return model;
}

export interface EmbedLibraryResult {
  run: number;
  dim: number;
  /** Images embedded now. */
  embedded: number;
  /** Images skipped because they could not be decoded. */
  failed: Array<{ imageId: number; path: string; reason: string }>;
  backend: BackendInfo;
}

/**
 * Embeds every image of the library that has no embedding for `runId` (default: the newest run
 * with a checkpoint) and stores the vectors.
 */
export async function embedLibrary(
  library: Library,
  options: { runId?: number; backend?: BackendChoice; batchSize?: number; threads?: number; signal?: AbortSignal; onProgress?: ProgressListener } = {},
): Promise<EmbedLibraryResult> {
  const runs = new RunsRepository(library.db);
  const run = options.runId !== undefined ? runs.byId(options.runId) : runs.latestWithCheckpoint();
  if (!run) throw new Error(options.runId !== undefined ? `there is no run ${options.runId}` : 'no trained encoder yet: run `looktwice train` first');
  const backend = await initBackend(options.backend ?? 'auto');
  const model = loadEncoder(library, run);
  try {
    const embeddings = new EmbeddingsRepository(library.db);
    const missing = embeddings.imagesMissing(run.id);
    const sources = new TrainingImagesRepository(library.db).list(missing);
    const cacheOptions: { signal?: AbortSignal; onProgress?: ProgressListener } = {};
    if (options.signal) cacheOptions.signal = options.signal;
    if (options.onProgress) cacheOptions.onProgress = (p) => options.onProgress!({ ...p, phase: 'embed:cache' });
    const images = await loadTrainingImages(library.dataDir, sources, model.config.sizePx, cacheOptions);
    const dim = model.featureDim;
    const embedOptions: Parameters<typeof computeEmbeddings>[2] = {
      batchSize: options.batchSize ?? 128,
      onBatch: (first, rows) => {
        const batch: Array<{ imageId: number; vector: Float32Array }> = [];
        for (let i = 0; i < rows.length / dim; i++) batch.push({ imageId: images.imageIds[first + i]!, vector: rows.subarray(i * dim, (i + 1) * dim) });
        embeddings.upsertMany(run.id, batch);
      },
    };
    if (options.signal) embedOptions.signal = options.signal;
    if (options.onProgress) embedOptions.onProgress = options.onProgress;
    // Worker threads cost ~a second to start: worth it from a few batches on.
    if (images.count >= 4 * (embedOptions.batchSize ?? 128) && options.threads !== 1) {
      const { computeEmbeddingsParallel } = await import('./parallel-embed.ts');
      await computeEmbeddingsParallel(model, images, { ...embedOptions, ...(options.threads !== undefined ? { threads: options.threads } : {}) });
    } else {
      await computeEmbeddings(model.encoder, images, embedOptions);
    }
    return { run: run.id, dim, embedded: images.count, failed: images.failed, backend };
  } finally {
    model.dispose();
  }
}
