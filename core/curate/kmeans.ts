/**
 * Spherical k-means on L2-normalised rows (cosine similarity): k-means++ seeding (Arthur &
 * Vassilvitskii 2007), Lloyd iterations, or mini-batch updates for large N (Sculley 2010,
 * "Web-scale k-means clustering"). Automatic k: the k with the best mean silhouette
 * (Rousseeuw 1987) on a sample, over k = 2…kMax.
 */
import { seededRandom } from '../common/random.ts';
import { dot, normaliseRows } from '../common/vectors.ts';
import { knnSearch } from './knn.ts';

export interface KMeansResult {
  k: number;
  centroids: Float32Array; // [k, dim], unit rows
  assignments: Int32Array; // [N]
  /** Cosine similarity of each row to its centroid. */
  similarities: Float32Array; // [N]
}

export interface KMeansOptions {
  maxIterations?: number;
  /** Above this many rows, mini-batch k-means is used. */
  miniBatchAbove?: number;
  batchSize?: number;
  random?: () => number;
}

/** Dot product of row aRow of a and row bRow of b ([rows, dim] each). */
function dotRow(a: Float32Array, aRow: number, b: Float32Array, bRow: number, dim: number): number {
  return dot(a, aRow * dim, b, bRow * dim, dim);
}

function normaliseRow(m: Float32Array, row: number, dim: number): void {
  normaliseRows(m.subarray(row * dim, (row + 1) * dim), dim);
}

/** k-means++ seeding with squared cosine distance (1 − cos) as the D² weight. */
function seed(vectors: Float32Array, n: number, dim: number, k: number, random: () => number): Float32Array {
  const centroids = new Float32Array(k * dim);
  const first = Math.floor(random() * n);
  centroids.set(vectors.subarray(first * dim, (first + 1) * dim), 0);
  const closest = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.max(0, 1 - dotRow(vectors, i, centroids, c - 1, dim));
      if (d * d < closest[i]!) closest[i] = d * d;
      total += closest[i]!;
    }
    let pick = n - 1;
    let target = random() * total;
    for (let i = 0; i < n; i++) {
      target -= closest[i]!;
      if (target <= 0) {
        pick = i;
        break;
      }
    }
    centroids.set(vectors.subarray(pick * dim, (pick + 1) * dim), c * dim);
  }
  return centroids;
}

function assign(vectors: Float32Array, n: number, dim: number, centroids: Float32Array, _k: number, assignments: Int32Array, similarities: Float32Array): number {
  // Nearest centre of every row with the blocked kernel: [n, dim] × [k, dim]ᵀ → top-1.
  const nearest = knnSearch(vectors, centroids, dim, 1);
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const c = Math.max(0, nearest.indices[i]!);
    if (assignments[i] !== c) changed++;
    assignments[i] = c;
    similarities[i] = nearest.scores[i]!;
  }
  return changed;
}

/** Clusters unit rows `vectors` [n, dim] into k groups. */
export function kMeans(vectors: Float32Array, dim: number, k: number, options: KMeansOptions = {}): KMeansResult {
  const n = vectors.length / dim;
  if (k < 1 || k > n) throw new Error(`k-means: k must be in 1..${n}, got ${k}`);
  const random = options.random ?? seededRandom(1);
  const centroids = seed(vectors, n, dim, k, random);
  const assignments = new Int32Array(n).fill(-1);
  const similarities = new Float32Array(n);
  const maxIterations = options.maxIterations ?? 50;
  if (n > (options.miniBatchAbove ?? 20_000)) {
    // Mini-batch: per-centre learning rate 1/count (Sculley 2010).
    const batchSize = options.batchSize ?? 1024;
    const counts = new Float64Array(k);
    const batchAssign = new Int32Array(batchSize);
    for (let iteration = 0; iteration < maxIterations * 4; iteration++) {
      for (let b = 0; b < batchSize; b++) {
        const i = Math.floor(random() * n);
        let best = -Infinity;
        for (let c = 0; c < k; c++) {
          const s = dotRow(vectors, i, centroids, c, dim);
          if (s > best) {
            best = s;
            batchAssign[b] = c;
          }
        }
        batchAssign[b] = batchAssign[b]! | 0;
        const c = batchAssign[b]!;
        counts[c]! += 1;
        const rate = 1 / counts[c]!;
        for (let d = 0; d < dim; d++) centroids[c * dim + d] = (1 - rate) * centroids[c * dim + d]! + rate * vectors[i * dim + d]!;
      }
      for (let c = 0; c < k; c++) normaliseRow(centroids, c, dim);
    }
    assign(vectors, n, dim, centroids, k, assignments, similarities);
    return { k, centroids, assignments, similarities };
  }
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const changed = assign(vectors, n, dim, centroids, k, assignments, similarities);
    if (changed === 0 && iteration > 0) break;
    centroids.fill(0);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const c = assignments[i]!;
      counts[c]! += 1;
      for (let d = 0; d < dim; d++) centroids[c * dim + d]! += vectors[i * dim + d]!;
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        // An empty cluster takes the row worst served by its centre.
        let worst = 0;
        for (let i = 1; i < n; i++) if (similarities[i]! < similarities[worst]!) worst = i;
        centroids.set(vectors.subarray(worst * dim, (worst + 1) * dim), c * dim);
        similarities[worst] = 1;
      }
      normaliseRow(centroids, c, dim);
    }
  }
  assign(vectors, n, dim, centroids, k, assignments, similarities);
  return { k, centroids, assignments, similarities };
}

/** Mean silhouette (cosine distance) of a labelling over rows `sample` of `vectors`. */
export function silhouette(vectors: Float32Array, dim: number, sample: Int32Array, labels: Int32Array, k: number): number {
  let total = 0;
  const sums = new Float64Array(k);
  const counts = new Int32Array(k);
  for (let si = 0; si < sample.length; si++) {
    sums.fill(0);
    counts.fill(0);
    const i = sample[si]!;
    for (let sj = 0; sj < sample.length; sj++) {
      if (si === sj) continue;
      const j = sample[sj]!;
      const label = labels[sj]!;
      sums[label]! += 1 - dotRow(vectors, i, vectors, j, dim);
      counts[label]! += 1;
    }
    const own = labels[si]!;
    if (counts[own] === 0) continue; // singleton: silhouette 0
    const a = sums[own]! / counts[own]!;
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && counts[c]! > 0) b = Math.min(b, sums[c]! / counts[c]!);
    if (Number.isFinite(b)) total += (b - a) / Math.max(a, b, 1e-12);
  }
  return total / Math.max(1, sample.length);
}

/**
 * Chooses k by the best mean silhouette of k-means on a sample (≤ sampleSize rows), over
 * k = 2 … kMax (default min(20, √N)). Returns the chosen k and every score tried.
 */
export function chooseK(vectors: Float32Array, dim: number, options: { kMax?: number; sampleSize?: number; random?: () => number } = {}): { k: number; scores: Array<{ k: number; silhouette: number }> } {
  const n = vectors.length / dim;
  if (n < 3) return { k: Math.max(1, n), scores: [] };
  const random = options.random ?? seededRandom(7);
  const sampleSize = Math.min(n, options.sampleSize ?? 1500);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const sample = order.subarray(0, sampleSize);
  const sampleVectors = new Float32Array(sampleSize * dim);
  for (let s = 0; s < sampleSize; s++) sampleVectors.set(vectors.subarray(sample[s]! * dim, (sample[s]! + 1) * dim), s * dim);
  const identity = Int32Array.from({ length: sampleSize }, (_, i) => i);
  const kMax = Math.max(2, Math.min(options.kMax ?? Math.min(20, Math.floor(Math.sqrt(n))), sampleSize - 1));
  const scores: Array<{ k: number; silhouette: number }> = [];
  for (let k = 2; k <= kMax; k++) {
    const result = kMeans(sampleVectors, dim, k, { random: seededRandom(k) });
    scores.push({ k, silhouette: silhouette(sampleVectors, dim, identity, result.assignments, k) });
  }
  const best = scores.reduce((a, b) => (b.silhouette > a.silhouette + 1e-9 ? b : a));
  return { k: best.k, scores };
}
