/**
 * Density-based clustering in the spirit of HDBSCAN (Campello, Moulavi & Sander 2013): core
 * distance = cosine distance to the minPoints-th neighbour; edges of the k-NN graph are weighted
 * by mutual reachability max(core(a), core(b), d(a, b)); a minimum spanning forest (Kruskal)
 * links dense regions first. Instead of HDBSCAN's stability-optimal cut, the forest is cut at
 * the Tukey fence of its edge weights (Q3 + 1.5·IQR): unusually long links separate clusters.
 * Components smaller than minClusterSize form the "unclustered" bucket (label -1).
 */
import type { KnnResult } from './knn.ts';
import { UnionFind } from './union-find.ts';

export interface DensityResult {
  labels: Int32Array; // [N], -1 = unclustered
  clusterCount: number;
  cutDistance: number;
}

export interface DensityOptions {
  minPoints?: number;
  minClusterSize?: number;
}

/** Clusters from a k-NN graph (`neighbours` over the same N rows, scores = cosine). */
export function densityClusters(neighbours: KnnResult, n: number, options: DensityOptions = {}): DensityResult {
  const k = neighbours.k;
  const minPoints = Math.min(options.minPoints ?? 5, k);
  const minClusterSize = options.minClusterSize ?? Math.max(5, Math.round(n * 0.01));
  const core = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const score = neighbours.scores[i * k + minPoints - 1]!;
    core[i] = Number.isFinite(score) ? 1 - score : Infinity;
  }
  const edges: Array<{ a: number; b: number; w: number }> = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const other = neighbours.indices[i * k + j]!;
      if (other < 0 || other === i) continue;
      const distance = 1 - neighbours.scores[i * k + j]!;
      edges.push({ a: i, b: other, w: Math.max(core[i]!, core[other]!, distance) });
    }
  }
  edges.sort((x, y) => x.w - y.w);
  const forest = new UnionFind(n);
  const treeWeights: number[] = [];
  const treeEdges: typeof edges = [];
  for (const edge of edges) {
    if (forest.union(edge.a, edge.b)) {
      treeEdges.push(edge);
      treeWeights.push(edge.w);
    }
  }
  const sorted = [...treeWeights].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  const cutDistance = q(0.75) + 1.5 * (q(0.75) - q(0.25));
  const cut = new UnionFind(n);
  for (const edge of treeEdges) if (edge.w <= cutDistance) cut.union(edge.a, edge.b);
  const labels = new Int32Array(n).fill(-1);
  let clusterCount = 0;
  for (const group of cut.groups(minClusterSize)) {
    for (const i of group) labels[i] = clusterCount;
    clusterCount++;
  }
  return { labels, clusterCount, cutDistance };
}
