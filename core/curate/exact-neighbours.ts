/**
 * Exact k-nearest neighbours: the blocked search of knn.ts in this thread for small inputs, split
 * across worker threads (knn-worker.ts, one per core) for larger ones. neighbours.ts chooses
 * between this and the approximate inverted file (ivf.ts), which also uses it to assign rows to
 * its lists. Scores are inner products, i.e. cosine similarity for L2-normalised rows.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CancelledError, RateMeter, type ProgressListener } from '../common/progress.ts';
import { startWorker } from '../common/worker-thread.ts';
import { knnSearch, type KnnResult } from './knn.ts';

export interface ExactNeighbourOptions {
  excludeSelf?: boolean;
  /** Worker threads to use (default: available cores, at most 8; 1 = this thread). */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  phase?: string;
}

/** Below this many multiply-adds a single thread wins over starting workers. */
const PARALLEL_MIN_WORK = 2e8;

/**
 * Exact top-k neighbours of every query row among the base rows (both [rows, dim]): in this
 * thread for small inputs, across worker threads for larger ones.
 */
export async function findExactNeighbours(queries: Float32Array, base: Float32Array, dim: number, k: number, options: ExactNeighbourOptions = {}): Promise<KnnResult> {
  const queryCount = queries.length / dim;
  const baseCount = base.length / dim;
  const phase = options.phase ?? 'curate:neighbours';
  const meter = new RateMeter();
  const report = (done: number): void => options.onProgress?.({ phase, done, total: queryCount, ...meter.update(done, queryCount) });
  const available = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const threads = Math.max(1, Math.min(options.threads ?? Math.min(8, available), Math.ceil(queryCount / 256)));
  if (threads === 1 || queryCount * baseCount * dim < PARALLEL_MIN_WORK) {
    return knnSearch(queries, base, dim, k, { excludeSelf: options.excludeSelf, signal: options.signal, onBlock: report });
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

async function knnParallel(queries: Float32Array, base: Float32Array, dim: number, k: number, threads: number, options: ExactNeighbourOptions, report: (done: number) => void): Promise<KnnResult> {
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
