/**
 * Approximate all-pairs k-NN for large libraries: an inverted file (IVF; Jégou, Douze & Schmid
 * 2011, "Product quantization for nearest neighbor search", here without the quantisation).
 * Rows are partitioned by k-means into ≈ √N lists; each query is compared exactly, with the
 * blocked kernel, with the rows of the `probes` lists whose centres are nearest to it. Queries
 * probing the same list are gathered into one block, so every product stays dense. Recall
 * against exact search is measured by bench:knn.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CancelledError, RateMeter, type ProgressListener } from '../common/progress.ts';
import { startWorker } from '../common/worker-thread.ts';
import { insertTop, knnSearch, type KnnResult } from './knn.ts';
import { seededRandom } from '../common/random.ts';
import { kMeans } from './kmeans.ts';
import { findExactNeighbours } from './exact-neighbours.ts';

export interface IvfOptions {
  /** Number of lists (default round(√N)). */
  lists?: number;
  /** Lists probed per query (default max(6, 2 % of the lists)). */
  probes?: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** The IVF layout: rows reordered by list, with list boundaries and the list centres. */
export interface IvfLayout {
  order: Int32Array; // [N] original row of each reordered position
  offsets: Int32Array; // [lists + 1]
  centres: Float32Array; // [lists, dim]
  probeCount: number;
}

/** The lists and probes used for `rows` base rows: √N lists, 2 % of them (at least 6) probed. */
export function ivfParameters(rows: number, options: Pick<IvfOptions, 'lists' | 'probes'> = {}): { lists: number; probes: number } {
  const lists = Math.max(1, Math.min(rows, options.lists ?? Math.round(Math.sqrt(rows))));
  return { lists, probes: Math.min(lists, options.probes ?? Math.max(6, Math.round(lists * 0.02))) };
}

/** Partitions rows into lists by k-means (centres trained on a sample). */
export async function buildIvf(vectors: Float32Array, dim: number, options: IvfOptions = {}): Promise<IvfLayout> {
  const n = vectors.length / dim;
  const { lists, probes: probeCount } = ivfParameters(n, options);
  // Centres from a sample (16 rows per list is plenty for a partition; recall, not the
  // partition's quality, is what bench:knn checks).
  const random = seededRandom(3);
  const sampleSize = Math.min(n, lists * 16);
  const sample = new Float32Array(sampleSize * dim);
  for (let s = 0; s < sampleSize; s++) {
    const row = sampleSize === n ? s : Math.floor(random() * n);
    sample.set(vectors.subarray(row * dim, (row + 1) * dim), s * dim);
  }
  const centres = kMeans(sample, dim, lists, { maxIterations: 5, random }).centroids;
  const nearest = await findExactNeighbours(vectors, centres, dim, 1, { threads: options.threads, signal: options.signal }); // [N, 1]
  const counts = new Int32Array(lists + 1);
  for (let i = 0; i < n; i++) counts[nearest.indices[i]! + 1]! += 1;
  const offsets = new Int32Array(lists + 1);
  for (let l = 0; l < lists; l++) offsets[l + 1] = offsets[l]! + counts[l + 1]!;
  const fill = offsets.slice(0, lists);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fill[nearest.indices[i]!]!++] = i;
  return { order, offsets, centres, probeCount };
}

/**
 * Searches query rows [rowStart, rowEnd) of `allQueries` against the `probeCount` lists nearest
 * to each query. Queries probing the same list are gathered into one block, so the work stays
 * dense [queries × list] products. Indices are positions in `reordered`; a query never matches
 * the position selfPositions[query] (its own row, for all-pairs search).
 */
export function searchIvfRows(
  reordered: Float32Array,
  allQueries: Float32Array,
  dim: number,
  k: number,
  layout: Pick<IvfLayout, 'offsets' | 'centres' | 'probeCount'>,
  rowStart: number,
  rowEnd: number,
  selfPositions: Int32Array | null,
  onProgress?: (rowsDone: number) => void,
): KnnResult {
  const rows = rowEnd - rowStart;
  const lists = layout.offsets.length - 1;
  const probeCount = layout.probeCount;
  const queries = allQueries.subarray(rowStart * dim, rowEnd * dim);
  const probes = knnSearch(queries, layout.centres, dim, probeCount).indices; // [rows, probeCount]
  // Queries per list, as compressed rows: queriesOf[listStart[l] .. listStart[l+1]).
  const listStart = new Int32Array(lists + 1);
  for (let i = 0; i < probes.length; i++) if (probes[i]! >= 0) listStart[probes[i]! + 1]! += 1;
  for (let l = 0; l < lists; l++) listStart[l + 1]! += listStart[l]!;
  const cursor = listStart.slice(0, lists);
  const queriesOf = new Int32Array(listStart[lists]!);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < probeCount; p++) {
      const list = probes[r * probeCount + p]!;
      if (list >= 0) queriesOf[cursor[list]!++] = r;
    }
  }
  const indices = new Int32Array(rows * k).fill(-1);
  const scores = new Float32Array(rows * k).fill(-Infinity);
  let gathered = new Float32Array(0);
  let pairsDone = 0;
  for (let list = 0; list < lists; list++) {
    const from = listStart[list]!;
    const to = listStart[list + 1]!;
    const b0 = layout.offsets[list]!;
    const b1 = layout.offsets[list + 1]!;
    if (to === from || b1 === b0) continue;
    const count = to - from;
    if (gathered.length < count * dim) gathered = new Float32Array(count * dim * 2);
    for (let q = 0; q < count; q++) {
      const r = queriesOf[from + q]!;
      gathered.set(queries.subarray(r * dim, (r + 1) * dim), q * dim);
    }
    // k + 1 so that a query's own row can be dropped and k still remain.
    const kk = Math.min(k + 1, b1 - b0);
    const block = knnSearch(gathered.subarray(0, count * dim), reordered.subarray(b0 * dim, b1 * dim), dim, kk);
    for (let q = 0; q < count; q++) {
      const r = queriesOf[from + q]!;
      const self = selfPositions ? selfPositions[rowStart + r]! : -1;
      for (let j = 0; j < kk; j++) {
        const position = block.indices[q * kk + j]!;
        if (position < 0) break;
        if (b0 + position === self) continue;
        insertTop(scores, indices, r * k, k, block.scores[q * kk + j]!, b0 + position);
      }
    }
    pairsDone += count;
    onProgress?.(Math.floor(pairsDone / probeCount));
  }
  return { k, indices, scores };
}

/**
 * Approximate top-k neighbours of each query row among the base rows. With excludeSelf, query
 * row i is base row i (all-pairs, or a transformed copy such as mirrored descriptors) and is
 * never its own neighbour.
 */
export async function ivfSearch(queries: Float32Array, base: Float32Array, dim: number, k: number, options: IvfOptions & { excludeSelf?: boolean } = {}): Promise<KnnResult> {
  const n = base.length / dim;
  const queryCount = queries.length / dim;
  const layout = await buildIvf(base, dim, options);
  const sharedBase = new SharedArrayBuffer(base.byteLength);
  const reordered = new Float32Array(sharedBase);
  for (let p = 0; p < n; p++) reordered.set(base.subarray(layout.order[p]! * dim, (layout.order[p]! + 1) * dim), p * dim);
  const sharedQueries = new SharedArrayBuffer(queries.byteLength);
  new Float32Array(sharedQueries).set(queries);
  let selfPositions: Int32Array | null = null;
  if (options.excludeSelf) {
    selfPositions = new Int32Array(queryCount).fill(-1);
    for (let p = 0; p < n; p++) if (layout.order[p]! < queryCount) selfPositions[layout.order[p]!] = p;
  }
  const available = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const threads = Math.max(1, Math.min(options.threads ?? Math.min(8, available), Math.ceil(queryCount / 1000)));
  const ranges: Array<[number, number]> = Array.from({ length: threads }, (_, w) => [Math.floor((queryCount * w) / threads), Math.floor((queryCount * (w + 1)) / threads)]);
  const indices = new Int32Array(queryCount * k);
  const scores = new Float32Array(queryCount * k);
  const meter = new RateMeter();
  const doneByRange = new Array<number>(ranges.length).fill(0);
  const report = (): void => {
    const done = doneByRange.reduce((a, b) => a + b, 0);
    options.onProgress?.({ phase: 'curate:neighbours', done, total: queryCount, ...meter.update(done, queryCount) });
  };
  const place = (result: KnnResult, first: number): void => {
    for (let i = 0; i < result.indices.length; i++) {
      const position = result.indices[i]!;
      indices[first * k + i] = position < 0 ? -1 : layout.order[position]!;
      scores[first * k + i] = result.scores[i]!;
    }
  };
  const searchHere = (): KnnResult => {
    place(searchIvfRows(reordered, new Float32Array(sharedQueries), dim, k, layout, 0, queryCount, selfPositions, (rows) => {
      doneByRange.fill(0);
      doneByRange[0] = rows;
      report();
      if (options.signal?.aborted) throw new CancelledError();
    }), 0);
    return { k, indices, scores };
  };
  if (ranges.length === 1) return searchHere();
  const entry = new URL('./ivf-worker.ts', import.meta.url);
  const workers: Worker[] = [];
  const onAbort = (): void => {
    for (const worker of workers) void worker.terminate();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(ranges.map(([rowStart, rowEnd], w) => new Promise<void>((resolve, reject) => {
      const worker = startWorker(entry, {
        base: sharedBase, queries: sharedQueries, dim, k, selfPositions,
        offsets: layout.offsets, centres: layout.centres, probeCount: layout.probeCount, rowStart, rowEnd,
      });
      workers.push(worker);
      worker.on('message', (message: { type: 'progress'; done: number } | { type: 'done'; indices: Int32Array; scores: Float32Array }) => {
        if (message.type === 'progress') {
          doneByRange[w] = message.done;
          report();
        } else {
          place({ k, indices: message.indices, scores: message.scores }, rowStart);
          resolve();
        }
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (options.signal?.aborted) reject(new CancelledError());
        else if (code !== 0) reject(new Error(`IVF worker stopped with code ${code}`));
      });
    })));
  } catch (error) {
    if (error instanceof CancelledError || options.signal?.aborted) throw error;
    // Worker threads can be unavailable (e.g. a bundled build without tsx): same answer, one thread.
    return searchHere();
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return { k, indices, scores };
}
