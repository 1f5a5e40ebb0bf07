/**
 * Clustering the library: k-means (automatic or given k) or density-based, on embeddings when
 * present and pixel vectors otherwise; stored as the newest clustering for the UI. Each cluster
 * lists representatives: the members closest to its centre (for density clusters, the centre
 * is the normalised mean of the members).
 */
import type { Db } from '../store/db.ts';
import { CurateRepository } from '../store/curate.repository.ts';
import { throwIfCancelled, type ProgressListener } from '../common/progress.ts';
import { curationVectors } from './vectors.ts';
import { seededRandom } from '../common/random.ts';
import { chooseK, kMeans } from './kmeans.ts';
import { densityClusters } from './density.ts';
import { findNeighbours } from './neighbours.ts';

export interface ClusterOptions {
  method?: 'kmeans' | 'density';
  /** 'auto' (default) or a number of clusters, for k-means. */
  k?: 'auto' | number;
  representatives?: number;
  dataDir?: string;
  embeddingRunId?: number | false;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ClusterSummary {
  /** -1 is the "unclustered" bucket of the density method. */
  id: number;
  size: number;
  representatives: string[];
  members: string[];
}

export interface ClusteringResult {
  clusteringId: number;
  method: 'kmeans' | 'density';
  source: string;
  /** Why pixels were used although a model has embeddings (it is not better by the quality gauge). */
  note?: string;
  k: number;
  /** How k was chosen, in words. */
  how: string;
  clusters: ClusterSummary[];
}

/** Clusters the present images and stores the result. */
export async function clusterLibrary(db: Db, options: ClusterOptions = {}): Promise<ClusteringResult> {
  const method = options.method ?? 'kmeans';
  const repository = new CurateRepository(db);
  const data = await curationVectors(db, { dataDir: options.dataDir, embeddingRunId: options.embeddingRunId, signal: options.signal, onProgress: options.onProgress });
  throwIfCancelled(options.signal);
  const n = data.imageIds.length;
  const dim = data.dim;
  let labels: Int32Array;
  let k: number;
  let how: string;
  let params: Record<string, unknown>;
  if (n === 0) {
    labels = new Int32Array(0);
    k = 0;
    how = 'no images';
    params = {};
  } else if (method === 'density') {
    const neighbours = await findNeighbours(data.vectors, data.vectors, dim, Math.min(15, Math.max(1, n - 1)), { excludeSelf: true, signal: options.signal, onProgress: options.onProgress, phase: 'cluster:neighbours' });
    const result = densityClusters(neighbours, n);
    labels = result.labels;
    k = result.clusterCount;
    how = `density: mutual-reachability spanning forest cut at distance ${result.cutDistance.toFixed(3)} (Tukey fence); small components unclustered`;
    params = { cutDistance: result.cutDistance };
  } else {
    if (options.k === undefined || options.k === 'auto') {
      options.onProgress?.({ phase: 'cluster:choose-k', done: 0, total: null });
      const chosen = chooseK(data.vectors, dim);
      k = chosen.k;
      const best = chosen.scores.find((s) => s.k === k);
      how = `automatic: best mean silhouette${best ? ` (${best.silhouette.toFixed(3)})` : ''} over k = 2…${chosen.scores.at(-1)?.k ?? k} on a sample`;
      params = { silhouettes: chosen.scores };
    } else {
      k = Math.min(options.k, n);
      how = 'given';
      params = {};
    }
    throwIfCancelled(options.signal);
    labels = kMeans(data.vectors, dim, k, { random: seededRandom(11) }).assignments;
  }

  // Centres (normalised means) and distances, then representatives closest to the centre.
  const clusterIds = [...new Set(labels)].sort((a, b) => a - b);
  const centres = new Map<number, Float32Array>();
  for (const id of clusterIds) centres.set(id, new Float32Array(dim));
  for (let i = 0; i < n; i++) {
    const centre = centres.get(labels[i]!)!;
    for (let d = 0; d < dim; d++) centre[d]! += data.vectors[i * dim + d]!;
  }
  for (const centre of centres.values()) {
    let norm = 0;
    for (const v of centre) norm += v * v;
    const s = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) centre[d]! *= s;
  }
  const distance = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const centre = centres.get(labels[i]!)!;
    let s = 0;
    for (let d = 0; d < dim; d++) s += centre[d]! * data.vectors[i * dim + d]!;
    distance[i] = 1 - s;
  }
  const representativeCount = options.representatives ?? 5;
  const membersOf = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const list = membersOf.get(labels[i]!);
    if (list) list.push(i);
    else membersOf.set(labels[i]!, [i]);
  }
  const rank = new Map<number, number>();
  for (const [id, members] of membersOf) {
    members.sort((a, b) => distance[a]! - distance[b]!);
    if (id >= 0) members.slice(0, representativeCount).forEach((i, r) => rank.set(i, r));
  }
  const clusteringId = repository.saveClustering({
    method, source: data.source, k, params: { how, ...params },
    assignments: data.imageIds.map((imageId, i) => ({ imageId, clusterId: labels[i]!, distance: distance[i]!, representativeRank: rank.get(i) ?? null })),
  });
  return { clusteringId, method, source: data.source, ...(data.note ? { note: data.note } : {}), k, how, clusters: summarise(repository) };
}

/** The clusters of a stored clustering with paths (first present path per image). */
export function summarise(repository: CurateRepository): ClusterSummary[] {
  const stored = repository.latestClustering();
  if (!stored) return [];
  const pathOf = new Map<number, string>();
  for (const file of repository.presentFiles()) if (!pathOf.has(file.imageId)) pathOf.set(file.imageId, file.path);
  const byCluster = new Map<number, typeof stored.assignments>();
  for (const a of stored.assignments) {
    const list = byCluster.get(a.clusterId);
    if (list) list.push(a);
    else byCluster.set(a.clusterId, [a]);
  }
  const out: ClusterSummary[] = [];
  for (const [id, assignments] of [...byCluster.entries()].sort((a, b) => a[0] - b[0])) {
    const present = assignments.filter((a) => pathOf.has(a.imageId));
    const members = present.map((a) => pathOf.get(a.imageId)!);
    const representatives = present.filter((a) => a.representativeRank !== null)
      .sort((a, b) => a.representativeRank! - b.representativeRank!)
      .map((a) => pathOf.get(a.imageId)!);
    out.push({ id, size: members.length, representatives, members });
  }
  return out;
}
