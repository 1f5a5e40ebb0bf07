/**
 * k-nearest neighbours for curation, choosing how to run: exact blocked search (knn.ts) in this
 * thread for small inputs, split across worker threads (one per core) for larger ones, and an
 * inverted file (ivf.ts, approximate, recall measured by bench:knn) for very large ones. Scores
 * are inner products, i.e. cosine similarity for L2-normalised rows.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CancelledError, RateMeter, type ProgressListener } from '../common/progress.ts';
import { startWorker } from '../common/worker-thread.ts';
import { knnSearch, type KnnResult } from './knn.ts';
import { ivfSearch } from './ivf.ts';

export interface NeighbourOptions {
  excludeSelf?: boolean;
  /** Worker threads to use (default: available cores, at most 8; 1 = this thread). */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  phase?: string;
  /**
   * 'auto' (default): exact up to APPROXIMATE_ABOVE_WORK multiply-adds, IVF beyond;
   * 'exact' always exact; 'approximate' always IVF.
   */
  mode?: 'auto' | 'exact' | 'approximate';
}

/**
 * Above this many multiply-adds (≈ 14k × 14k × 256, about half a minute of CPU) use IVF. Near
 * duplicates are nearly the same vector, so they share or neighbour a list: IVF keeps them even
 * where its recall of far neighbours is low (bench:dedup-quality -- --approximate checks this).
 */
export const APPROXIMATE_ABOVE_WORK = 5e10;

/** Below this many multiply-adds a single thread wins over starting workers. */
const PARALLEL_MIN_WORK = 2e8;

/** Exact top-k neighbours of every query row among the base rows (both [rows, dim]). */
export async function findNeighbours(queries: Float32Array, base: Float32Array, dim: number, k: number, options: NeighbourOptions = {}): Promise<KnnResult> {
  const queryCount = queries.length / dim;
  const baseCount = base.length / dim;
  const phase = options.phase ?? 'curate:neighbours';
  const meter = new RateMeter();
  const report = (done: number): void => options.onProgress?.({ phase, done, total: queryCount, ...meter.update(done, queryCount) });
  const available = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const mode = options.mode ?? 'auto';
  if (mode === 'approximate' || (mode === 'auto' && queryCount * baseCount * dim > APPROXIMATE_ABOVE_WORK && baseCount > 1000)) {
    return ivfSearch(queries, base, dim, k, { excludeSelf: options.excludeSelf, threads: options.threads, signal: options.signal, onProgress: options.onProgress ? (p) => options.onProgress!({ ...p, phase }) : undefined });
  }
  const threads = Math.max(1, Math.min(options.threads ?? Math.min(8, available), Math.ceil(queryCount / 256)));
  if (threads === 1 || queryCount * baseCount * dim < PARALLEL_MIN_WORK) {
    const result = knnSearch(queries, base, dim, k, { excludeSelf: options.excludeSelf, signal: options.signal, onBlock: report });
    return result;
  }
  try {
    return await knnParallel(queries, base, dim, k, threads, options, report);
  } catch (error) {
    if (error instanceof CancelledError || options.signal?.aborted) throw error;
    // Worker threads can be unavailable (e.g. a bundled build without tsx): same answer, one thread.
    return knnSearch(queries, base, dim, k, { excludeSelf: options.excludeSelf, signal: options.signal, onBlock: report });
  }
}

function shared(array: Float32Array): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(array.byteLength);
  new Float32Array(buffer).set(array);
  return buffer;
}

async function knnParallel(queries: Float32Array, base: Float32Array, dim: number, k: number, threads: number, options: NeighbourOptions, report: (done: number) => void): Promise<KnnResult> {
  const queryCount = queries.length / dim;
  const sharedQueries = shared(queries);
  const sharedBase = queries === base ? sharedQueries : shared(base);
  const indices = new Int32Array(queryCount * k);
  const scores = new Float32Array(queryCount * k);
  const doneByWorker = new Array<number>(threads).fill(0);
  const workers: Worker[] = [];
  const onAbort = (): void => {
    for (const worker of workers) void worker.terminate();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(Array.from({ length: threads }, (_, w) => {
      const queryStart = Math.floor((queryCount * w) / threads);
      const queryEnd = Math.floor((queryCount * (w + 1)) / threads);
      return new Promise<void>((resolve, reject) => {
        const worker = startWorker(new URL('./knn-worker.ts', import.meta.url), { queries: sharedQueries, base: sharedBase, dim, k, excludeSelf: options.excludeSelf ?? false, queryStart, queryEnd });
        workers.push(worker);
        worker.on('message', (message: { type: 'progress'; done: number } | { type: 'done'; indices: Int32Array; scores: Float32Array }) => {
          if (message.type === 'progress') {
            doneByWorker[w] = message.done;
            report(doneByWorker.reduce((a, b) => a + b, 0));
          } else {
            indices.set(message.indices, queryStart * k);
            scores.set(message.scores, queryStart * k);
            resolve();
          }
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (options.signal?.aborted) reject(new CancelledError());
          else if (code !== 0) reject(new Error(`k-NN worker stopped with code ${code}`));
        });
      });
    }));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return { k, indices, scores };
}
