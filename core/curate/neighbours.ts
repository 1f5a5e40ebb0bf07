/**
 * k-nearest neighbours for curation, choosing how to run: exact search (exact-neighbours.ts: this
 * thread for small inputs, worker threads for larger ones) or, for very large inputs, an inverted
 * file (ivf.ts, approximate, recall measured by bench:knn). Scores are inner products, i.e.
 * cosine similarity for L2-normalised rows.
 */
import { findExactNeighbours, type ExactNeighbourOptions } from './exact-neighbours.ts';
import type { KnnResult } from './knn.ts';
import { ivfSearch } from './ivf.ts';

export interface NeighbourOptions extends ExactNeighbourOptions {
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

/** Top-k neighbours of every query row among the base rows (both [rows, dim]), exact or by IVF. */
export async function findNeighbours(queries: Float32Array, base: Float32Array, dim: number, k: number, options: NeighbourOptions = {}): Promise<KnnResult> {
  const queryCount = queries.length / dim;
  const baseCount = base.length / dim;
  const mode = options.mode ?? 'auto';
  if (mode === 'approximate' || (mode === 'auto' && queryCount * baseCount * dim > APPROXIMATE_ABOVE_WORK && baseCount > 1000)) {
    const phase = options.phase ?? 'curate:neighbours';
    return ivfSearch(queries, base, dim, k, { excludeSelf: options.excludeSelf, threads: options.threads, signal: options.signal, onProgress: options.onProgress ? (p) => options.onProgress!({ ...p, phase }) : undefined });
  }
  return findExactNeighbours(queries, base, dim, k, options);
}
