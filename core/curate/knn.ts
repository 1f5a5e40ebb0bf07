/**
 * Exact k-nearest-neighbour search by inner product over L2-normalised vectors (so the score is
 * cosine similarity), in blocks so that no N×N matrix ever exists: a block of queries against a
 * block of base rows, dot products with a 4×2 register tile in tight Float32Array loops, and a
 * running top-k per query. Memory is O(N·k). Large inputs can be split across worker threads
 * (knn-parallel.ts); all-pairs search excludes each vector itself.
 */

/** Neighbours of each query, best first: rows of k, padded with index -1 / score -Infinity. */
export interface KnnResult {
  k: number;
  indices: Int32Array; // [Q, k]
  scores: Float32Array; // [Q, k]
}

export interface KnnOptions {
  /** With all-pairs search (queries === base), skip each vector's match with itself. */
  excludeSelf?: boolean;
  /** Only query rows [queryStart, queryEnd) (a worker's share); results still indexed from 0. */
  queryStart?: number;
  queryEnd?: number;
  /** Called after each block of queries with the number of query rows done. */
  onBlock?: (done: number) => void;
  signal?: AbortSignal;
  /** Continue from an earlier result for the same query rows (merging top-k across base blocks). */
  into?: KnnResult;
  /** Added to query / base row numbers for self-exclusion and for the indices reported. */
  queryIndexOffset?: number;
  baseIndexOffset?: number;
}

const QUERY_BLOCK = 64;
const BASE_BLOCK = 512;

/** Inserts (score, index) into a row's top-k (kept in descending order) if it belongs there. */
export function insertTop(scores: Float32Array, indices: Int32Array, offset: number, k: number, score: number, index: number): void {
  let position = offset + k - 1;
  if (!(score > scores[position]!)) return;
  while (position > offset && scores[position - 1]! < score) {
    scores[position] = scores[position - 1]!;
    indices[position] = indices[position - 1]!;
    position--;
  }
  scores[position] = score;
  indices[position] = index;
}

/**
 * Top-k base rows for each query row by inner product. `queries` [Q, dim], `base` [B, dim].
 * Exact. Pass the same array twice with excludeSelf for all-pairs neighbours.
 */
export function knnSearch(queries: Float32Array, base: Float32Array, dim: number, k: number, options: KnnOptions = {}): KnnResult {
  if (dim <= 0) throw new Error('knn: dimension must be positive');
  const queryCount = queries.length / dim;
  const baseCount = base.length / dim;
  if (!Number.isInteger(queryCount) || !Number.isInteger(baseCount)) throw new Error(`knn: vector arrays are not multiples of dim ${dim}`);
  const start = options.queryStart ?? 0;
  const end = Math.min(options.queryEnd ?? queryCount, queryCount);
  const excludeSelf = options.excludeSelf ?? false;
  const rows = Math.max(0, end - start);
  const indices = options.into?.indices ?? new Int32Array(rows * k).fill(-1);
  const scores = options.into?.scores ?? new Float32Array(rows * k).fill(-Infinity);
  if (indices.length !== rows * k) throw new Error('knn: the result to continue has another shape');
  const queryIndexOffset = options.queryIndexOffset ?? 0;
  const baseIndexOffset = options.baseIndexOffset ?? 0;
  const tile = new Float32Array(QUERY_BLOCK * BASE_BLOCK); // [QUERY_BLOCK, BASE_BLOCK] dot products of one block pair

  for (let q0 = start; q0 < end; q0 += QUERY_BLOCK) {
    if (options.signal?.aborted) throw new Error('cancelled');
    const q1 = Math.min(q0 + QUERY_BLOCK, end);
    for (let b0 = 0; b0 < baseCount; b0 += BASE_BLOCK) {
      const b1 = Math.min(b0 + BASE_BLOCK, baseCount);
      const width = b1 - b0;
      blockDots(queries, base, dim, q0, q1, b0, b1, tile);
      for (let q = q0; q < q1; q++) {
        const rowOffset = (q - start) * k;
        const tileRow = (q - q0) * BASE_BLOCK;
        let threshold = scores[rowOffset + k - 1]!;
        for (let j = 0; j < width; j++) {
          const score = tile[tileRow + j]!;
          if (score > threshold) {
            const index = baseIndexOffset + b0 + j;
            if (excludeSelf && index === queryIndexOffset + q) continue;
            insertTop(scores, indices, rowOffset, k, score, index);
            threshold = scores[rowOffset + k - 1]!;
          }
        }
      }
    }
    options.onBlock?.(q1 - start);
  }
  return { k, indices, scores };
}

/**
 * tile[(q-q0)*BASE_BLOCK + (b-b0)] = <queries[q], base[b]> for the block, computing 4 query rows
 * × 2 base rows per pass over dim so each loaded value is used several times (register tiling).
 */
function blockDots(queries: Float32Array, base: Float32Array, dim: number, q0: number, q1: number, b0: number, b1: number, tile: Float32Array): void {
  let q = q0;
  for (; q + 3 < q1; q += 4) {
    const a0 = q * dim;
    const a1 = a0 + dim;
    const a2 = a1 + dim;
    const a3 = a2 + dim;
    const t0 = (q - q0) * BASE_BLOCK - b0;
    let b = b0;
    for (; b + 1 < b1; b += 2) {
      const c0 = b * dim;
      const c1 = c0 + dim;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let d = 0; d < dim; d++) {
        const x0 = base[c0 + d]!;
        const x1 = base[c1 + d]!;
        const y0 = queries[a0 + d]!;
        const y1 = queries[a1 + d]!;
        const y2 = queries[a2 + d]!;
        const y3 = queries[a3 + d]!;
        s00 += y0 * x0; s01 += y0 * x1;
        s10 += y1 * x0; s11 += y1 * x1;
        s20 += y2 * x0; s21 += y2 * x1;
        s30 += y3 * x0; s31 += y3 * x1;
      }
      tile[t0 + b] = s00; tile[t0 + b + 1] = s01;
      tile[t0 + BASE_BLOCK + b] = s10; tile[t0 + BASE_BLOCK + b + 1] = s11;
      tile[t0 + 2 * BASE_BLOCK + b] = s20; tile[t0 + 2 * BASE_BLOCK + b + 1] = s21;
      tile[t0 + 3 * BASE_BLOCK + b] = s30; tile[t0 + 3 * BASE_BLOCK + b + 1] = s31;
    }
    for (; b < b1; b++) {
      const c0 = b * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let d = 0; d < dim; d++) {
        const x = base[c0 + d]!;
        s0 += queries[a0 + d]! * x; s1 += queries[a1 + d]! * x; s2 += queries[a2 + d]! * x; s3 += queries[a3 + d]! * x;
      }
      tile[t0 + b] = s0; tile[t0 + BASE_BLOCK + b] = s1; tile[t0 + 2 * BASE_BLOCK + b] = s2; tile[t0 + 3 * BASE_BLOCK + b] = s3;
    }
  }
  for (; q < q1; q++) {
    const a0 = q * dim;
    const t0 = (q - q0) * BASE_BLOCK - b0;
    for (let b = b0; b < b1; b++) {
      const c0 = b * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += queries[a0 + d]! * base[c0 + d]!;
      tile[t0 + b] = s;
    }
  }
}

/** Brute-force reference (one dot product at a time), for tests and recall measurement. */
export function knnBruteForce(queries: Float32Array, base: Float32Array, dim: number, k: number, excludeSelf = false): KnnResult {
  const queryCount = queries.length / dim;
  const baseCount = base.length / dim;
  const indices = new Int32Array(queryCount * k).fill(-1);
  const scores = new Float32Array(queryCount * k).fill(-Infinity);
  for (let q = 0; q < queryCount; q++) {
    for (let b = 0; b < baseCount; b++) {
      if (excludeSelf && b === q) continue;
      let s = 0;
      for (let d = 0; d < dim; d++) s += queries[q * dim + d]! * base[b * dim + d]!;
      insertTop(scores, indices, q * k, k, Math.fround(s), b);
    }
  }
  return { k, indices, scores };
}
